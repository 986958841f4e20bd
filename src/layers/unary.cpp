#include "torch2trt/layers/unary.h"

namespace torch2trt {

const char* unary_op_name(UnaryOperation op) {
  switch (op) {
    case UnaryOperation::kEXP: return "EXP";
    case UnaryOperation::kLOG: return "LOG";
    case UnaryOperation::kSQRT: return "SQRT";
    case UnaryOperation::kRECIP: return "RECIP";
    case UnaryOperation::kABS: return "ABS";
    case UnaryOperation::kNEG: return "NEG";
    case UnaryOperation::kSIN: return "SIN";
    case UnaryOperation::kCOS: return "COS";
    case UnaryOperation::kTAN: return "TAN";
    case UnaryOperation::kSINH: return "SINH";
    case UnaryOperation::kCOSH: return "COSH";
    case UnaryOperation::kASIN: return "ASIN";
    case UnaryOperation::kACOS: return "ACOS";
    case UnaryOperation::kATAN: return "ATAN";
    case UnaryOperation::kASINH: return "ASINH";
    case UnaryOperation::kACOSH: return "ACOSH";
    case UnaryOperation::kATANH: return "ATANH";
    case UnaryOperation::kCEIL: return "CEIL";
    case UnaryOperation::kFLOOR: return "FLOOR";
    case UnaryOperation::kERF: return "ERF";
    case UnaryOperation::kNOT: return "NOT";
    case UnaryOperation::kSIGN: return "SIGN";
    case UnaryOperation::kROUND: return "ROUND";
    case UnaryOperation::kISINF: return "ISINF";
    case UnaryOperation::kISNAN: return "ISNAN";
  }
  return "?";
}

bool unary_accepts_int(UnaryOperation op) {
  return op == UnaryOperation::kABS || op == UnaryOperation::kNEG || op == UnaryOperation::kSIGN;
}

bool unary_outputs_bool(UnaryOperation op) {
  return op == UnaryOperation::kISINF || op == UnaryOperation::kISNAN || op == UnaryOperation::kNOT;
}

std::vector<TensorDesc> UnaryLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1) fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  if (in[0].dims.nb_dims < 0) fail("input", "the input is not set");
  if (static_cast<int>(p.op) < 0 || static_cast<int>(p.op) >= kNumUnaryOperations)
    fail("op", "unknown unary operation " + std::to_string(static_cast<int>(p.op)));
  DataType t = in[0].dtype;
  const std::string name = unary_op_name(p.op);
  if (p.op == UnaryOperation::kNOT) {
    if (t != DataType::kBOOL) fail("input", "NOT needs a bool tensor, got " + std::string(dtype_name(t)));
  } else if (t == DataType::kINT32 || t == DataType::kINT64 || t == DataType::kINT8) {
    if (!unary_accepts_int(p.op))
      fail("input", name + " needs a float tensor, got " + dtype_name(t) +
                        " (only ABS, NEG and SIGN take integers); add a cast first");
  } else if (!is_floating(t)) {
    fail("input", name + " does not accept " + dtype_name(t) + " tensors (float types" +
                      (unary_accepts_int(p.op) ? ", int32, int64 or int8" : "") + " only)");
  }
  TensorDesc o = in[0];
  if (unary_outputs_bool(p.op)) o.dtype = DataType::kBOOL;
  return {o};
}

UnaryLayer* add_unary(Network& net, Tensor* input, UnaryOperation op) {
  auto l = std::make_unique<UnaryLayer>();
  l->p.op = op;
  return net.add(std::move(l), {input}, "add_unary");
}

}  // namespace torch2trt
