// The float -> integer rule of CastLayer (Tensor.to(dtype)), shared by the CPU and CUDA cast kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "backends/common/hd.h"

namespace torch2trt {

/// x truncated toward zero into integer type To: NaN gives 0; int32/int64 saturate (a float far outside
/// the range has no meaningful low bits); int8/uint8 wrap modulo 256, as integer narrowing does.
template <class To>
T2T_HD To float_to_integer(double x) {
  static_assert(std::is_integral_v<To>, "float_to_integer converts to integer types");
  if (x != x) return To(0);
  const double t = trunc(x);
  constexpr double kLo = -9223372036854775808.0, kHi = 9223372036854775808.0;  // int64 range, exact in double
  int64_t v = t <= kLo ? INT64_MIN : t >= kHi ? INT64_MAX : static_cast<int64_t>(t);
  if constexpr (sizeof(To) >= 4) {
    constexpr int64_t lo = std::is_same_v<To, int32_t> ? INT32_MIN : INT64_MIN;
    constexpr int64_t hi = std::is_same_v<To, int32_t> ? INT32_MAX : INT64_MAX;
    v = v < lo ? lo : (v > hi ? hi : v);
  }
  return static_cast<To>(v);
}

}  // namespace torch2trt
