// Unary layer (TensorRT's IUnaryLayer): y = f(x) elementwise.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Unary operations; numeric values follow TensorRT's UnaryOperation.
enum class UnaryOperation : int32_t {
  kEXP = 0,
  kLOG = 1,
  kSQRT = 2,
  kRECIP = 3,
  kABS = 4,    ///< also int32/int64/int8 (the most negative value maps to itself, as in PyTorch)
  kNEG = 5,    ///< also int32/int64/int8
  kSIN = 6,
  kCOS = 7,
  kTAN = 8,
  kSINH = 9,
  kCOSH = 10,
  kASIN = 11,
  kACOS = 12,
  kATAN = 13,
  kASINH = 14,
  kACOSH = 15,
  kATANH = 16,
  kCEIL = 17,
  kFLOOR = 18,
  kERF = 19,
  kNOT = 20,    ///< bool -> bool only
  kSIGN = 21,   ///< -1, 0 or 1 (0 for NaN, as torch.sign); also int32/int64/int8
  kROUND = 22,  ///< round half to even, as torch.round
  kISINF = 23,  ///< float -> bool
  kISNAN = 24,  ///< float -> bool
};
/// Number of UnaryOperation values.
constexpr int kNumUnaryOperations = 25;
/// "EXP", "LOG", ... for an operation ("?" when out of range).
const char* unary_op_name(UnaryOperation op);
/// True for ops that also accept int32/int64/int8 inputs (ABS, NEG, SIGN).
bool unary_accepts_int(UnaryOperation op);
/// True for ops whose output is bool (ISINF, ISNAN, NOT).
bool unary_outputs_bool(UnaryOperation op);

/// Parameters of a unary layer.
struct UnaryParams {
  UnaryOperation op = UnaryOperation::kEXP;
};

/// y = op(x), same shape. Float inputs for the math ops; see UnaryOperation for the others.
class UnaryLayer : public Layer {
 public:
  UnaryLayer() : Layer(LayerKind::kUnary) {}
  UnaryParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.op)
};

/// Adds a unary layer.
UnaryLayer* add_unary(Network& net, Tensor* input, UnaryOperation op);

}  // namespace torch2trt
