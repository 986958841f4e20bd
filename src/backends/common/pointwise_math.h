// Elementwise math shared by the CPU and CUDA backends: one definition of each function,
// compiled by the host compiler for the CPU and by nvcc for device kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "torch2trt/layers/activation.h"
#include "torch2trt/layers/elementwise.h"
#include "torch2trt/layers/unary.h"

#include "backends/common/hd.h"

namespace torch2trt::pw {

/// Activation in compute type T (float or double).
template <class T>
T2T_HD T activation(ActivationType t, T x, T alpha, T beta) {
  switch (t) {
    case ActivationType::kRELU: return x < T(0) ? T(0) : x;  // NaN stays NaN, as in torch.relu
    case ActivationType::kSIGMOID: return T(1) / (T(1) + exp(-x));
    case ActivationType::kTANH: return tanh(x);
    case ActivationType::kLEAKY_RELU: return x >= T(0) ? x : alpha * x;
    case ActivationType::kELU: return x >= T(0) ? x : alpha * (exp(x) - T(1));
    case ActivationType::kSELU: return beta * (x >= T(0) ? x : alpha * (exp(x) - T(1)));
    case ActivationType::kSOFTSIGN: return x / (T(1) + fabs(x));
    case ActivationType::kSOFTPLUS: return x * alpha > beta ? x : log1p(exp(alpha * x)) / alpha;
    case ActivationType::kCLIP: return x < alpha ? alpha : (x > beta ? beta : x);
    case ActivationType::kHARD_SIGMOID: {
      T y = alpha * x + beta;
      return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
    }
    case ActivationType::kSCALED_TANH: return alpha * tanh(beta * x);
    case ActivationType::kTHRESHOLDED_RELU: return x > alpha ? x : T(0);
    case ActivationType::kGELU_ERF: return T(0.5) * x * (T(1) + erf(x * T(0.70710678118654752440)));
    case ActivationType::kGELU_TANH: {
      const T k = T(0.79788456080286535588);  // sqrt(2/pi)
      return T(0.5) * x * (T(1) + tanh(k * (x + T(0.044715) * x * x * x)));
    }
    // PyTorch's formula, safe at both ends: exp(-x) overflowing to inf (x < -88 in float) gives -0, not NaN,
    // and underflowing to 0 gives x; only x = -inf gives NaN, as in torch.silu.
    case ActivationType::kSILU: return x / (T(1) + exp(-x));
  }
  return x;
}

/// Arithmetic binary op for float types (T = float or double). Comparisons return 0/1.
template <class T>
T2T_HD T binary_float(ElementWiseOperation op, T a, T b) {
  switch (op) {
    case ElementWiseOperation::kSUM: return a + b;
    case ElementWiseOperation::kPROD: return a * b;
    case ElementWiseOperation::kMAX: return (a != a || a > b) ? a : b;  // NaN propagates as in torch.maximum
    case ElementWiseOperation::kMIN: return (a != a || a < b) ? a : b;
    case ElementWiseOperation::kSUB: return a - b;
    case ElementWiseOperation::kDIV: return a / b;
    case ElementWiseOperation::kPOW: return pow(a, b);
    case ElementWiseOperation::kFLOOR_DIV: return floor(a / b);
    case ElementWiseOperation::kAND: return (a != T(0)) && (b != T(0));
    case ElementWiseOperation::kOR: return (a != T(0)) || (b != T(0));
    case ElementWiseOperation::kXOR: return (a != T(0)) != (b != T(0));
    case ElementWiseOperation::kEQUAL: return a == b;
    case ElementWiseOperation::kGREATER: return a > b;
    case ElementWiseOperation::kLESS: return a < b;
  }
  return a;
}

/// Binary op for integer types (int32/int64/int8, bool as 0/1). Division by zero gives 0, not a trap.
template <class T>
T2T_HD T binary_int(ElementWiseOperation op, T a, T b) {
  switch (op) {
    case ElementWiseOperation::kSUM: return a + b;
    case ElementWiseOperation::kPROD: return a * b;
    case ElementWiseOperation::kMAX: return a > b ? a : b;
    case ElementWiseOperation::kMIN: return a < b ? a : b;
    case ElementWiseOperation::kSUB: return a - b;
    case ElementWiseOperation::kDIV: return b == 0 ? T(0) : T(a / b);
    case ElementWiseOperation::kPOW: {
      if (b < 0) return a == 1 ? T(1) : (a == -1 ? T((b & 1) ? -1 : 1) : T(0));
      T r = 1, base = a;
      for (T e = b; e > 0; e >>= 1) {
        if (e & 1) r *= base;
        base *= base;
      }
      return r;
    }
    case ElementWiseOperation::kFLOOR_DIV: {
      if (b == 0) return T(0);
      T q = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
      return q;
    }
    case ElementWiseOperation::kAND: return (a != 0) && (b != 0);
    case ElementWiseOperation::kOR: return (a != 0) || (b != 0);
    case ElementWiseOperation::kXOR: return (a != 0) != (b != 0);
    case ElementWiseOperation::kEQUAL: return a == b;
    case ElementWiseOperation::kGREATER: return a > b;
    case ElementWiseOperation::kLESS: return a < b;
  }
  return a;
}

/// Unary op. For T = float or double every op is defined (ISINF/ISNAN/NOT give 0 or 1, stored as bool
/// by the caller); for integer T (int32/int64/int8, bool as uint8) only ABS, NEG, SIGN and NOT, the
/// others return x unchanged (the shape rule rejects them before a kernel runs).
template <class T>
T2T_HD T unary(UnaryOperation op, T x) {
  if constexpr (std::is_floating_point_v<T>) {
    using namespace std;  // picks the float overloads on the host; nvcc provides them on the device
    switch (op) {
      case UnaryOperation::kEXP: return exp(x);
      case UnaryOperation::kLOG: return log(x);
      case UnaryOperation::kSQRT: return sqrt(x);
      case UnaryOperation::kRECIP: return T(1) / x;
      case UnaryOperation::kABS: return fabs(x);
      case UnaryOperation::kNEG: return -x;
      case UnaryOperation::kSIN: return sin(x);
      case UnaryOperation::kCOS: return cos(x);
      case UnaryOperation::kTAN: return tan(x);
      case UnaryOperation::kSINH: return sinh(x);
      case UnaryOperation::kCOSH: return cosh(x);
      case UnaryOperation::kASIN: return asin(x);
      case UnaryOperation::kACOS: return acos(x);
      case UnaryOperation::kATAN: return atan(x);
      case UnaryOperation::kASINH: return asinh(x);
      case UnaryOperation::kACOSH: return acosh(x);
      case UnaryOperation::kATANH: return atanh(x);
      case UnaryOperation::kCEIL: return ceil(x);
      case UnaryOperation::kFLOOR: return floor(x);
      case UnaryOperation::kERF: return erf(x);
      case UnaryOperation::kNOT: return x == T(0) ? T(1) : T(0);
      case UnaryOperation::kSIGN: return T((T(0) < x) - (x < T(0)));  // NaN -> 0, as torch.sign
      case UnaryOperation::kROUND: return rint(x);  // default rounding mode: half to even, as torch.round
      case UnaryOperation::kISINF: return (x == x && x - x != x - x) ? T(1) : T(0);
      case UnaryOperation::kISNAN: return x != x ? T(1) : T(0);
    }
    return x;
  } else {
    using U = std::make_unsigned_t<T>;
    if (op == UnaryOperation::kNOT) return x == T(0) ? T(1) : T(0);
    // Through the unsigned type so the most negative value wraps to itself instead of overflowing.
    if (op == UnaryOperation::kNEG) return static_cast<T>(U(0) - static_cast<U>(x));
    if constexpr (std::is_signed_v<T>) {
      if (op == UnaryOperation::kABS) return x < T(0) ? static_cast<T>(U(0) - static_cast<U>(x)) : x;
      if (op == UnaryOperation::kSIGN) return static_cast<T>((T(0) < x) - (x < T(0)));
    } else {
      if (op == UnaryOperation::kSIGN) return x != T(0) ? T(1) : T(0);
    }
    return x;
  }
}

}  // namespace torch2trt::pw
