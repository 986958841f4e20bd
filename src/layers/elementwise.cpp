#include "torch2trt/layers/elementwise.h"

#include <algorithm>

namespace torch2trt {

const char* elementwise_op_name(ElementWiseOperation op) {
  switch (op) {
    case ElementWiseOperation::kSUM: return "SUM";
    case ElementWiseOperation::kPROD: return "PROD";
    case ElementWiseOperation::kMAX: return "MAX";
    case ElementWiseOperation::kMIN: return "MIN";
    case ElementWiseOperation::kSUB: return "SUB";
    case ElementWiseOperation::kDIV: return "DIV";
    case ElementWiseOperation::kPOW: return "POW";
    case ElementWiseOperation::kFLOOR_DIV: return "FLOOR_DIV";
    case ElementWiseOperation::kAND: return "AND";
    case ElementWiseOperation::kOR: return "OR";
    case ElementWiseOperation::kXOR: return "XOR";
    case ElementWiseOperation::kEQUAL: return "EQUAL";
    case ElementWiseOperation::kGREATER: return "GREATER";
    case ElementWiseOperation::kLESS: return "LESS";
  }
  return "?";
}

bool elementwise_is_comparison(ElementWiseOperation op) {
  return op == ElementWiseOperation::kEQUAL || op == ElementWiseOperation::kGREATER || op == ElementWiseOperation::kLESS;
}
bool elementwise_is_logical(ElementWiseOperation op) {
  return op == ElementWiseOperation::kAND || op == ElementWiseOperation::kOR || op == ElementWiseOperation::kXOR;
}

Dims broadcast_dims(const Layer& layer, const Dims& a, const Dims& b, const char* arg_a, const char* arg_b) {
  // numpy rules: align trailing dimensions; each pair equal or one of them 1.
  Dims r;
  r.nb_dims = std::max(a.nb_dims, b.nb_dims);
  for (int i = 0; i < r.nb_dims; ++i) {
    int ia = a.nb_dims - r.nb_dims + i, ib = b.nb_dims - r.nb_dims + i;
    int64_t x = ia >= 0 ? a.d[ia] : 1, y = ib >= 0 ? b.d[ib] : 1;
    int64_t v;
    if (x == y)
      v = x;
    else if (x == 1)
      v = y;
    else if (y == 1)
      v = x;
    else if (x == -1 || y == -1)
      v = x == -1 ? y : x;  // the run-time check decides
    else
      layer.fail(std::string(arg_a) + "/" + arg_b, "shapes " + a.str() + " and " + b.str() +
                                                       " do not broadcast (dimension " + std::to_string(i) + ": " +
                                                       std::to_string(x) + " vs " + std::to_string(y) + ")");
    r.d[i] = v;
  }
  return r;
}

std::vector<TensorDesc> ElementWiseLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 2) fail("inputs", "expects 2 inputs, got " + std::to_string(in.size()));
  if (static_cast<int>(p.op) < 0 || static_cast<int>(p.op) >= kNumElementWiseOperations)
    fail("op", "unknown operation " + std::to_string(static_cast<int>(p.op)));
  if (in[0].dims.nb_dims < 0 || in[1].dims.nb_dims < 0) fail("inputs", "both inputs must be set");
  if (in[0].dtype != in[1].dtype)
    fail("input1", std::string("dtypes differ: ") + dtype_name(in[0].dtype) + " vs " + dtype_name(in[1].dtype) +
                       "; add a cast so both match");
  DataType t = in[0].dtype;
  if (elementwise_is_logical(p.op)) {
    if (t != DataType::kBOOL)
      fail("op", std::string(elementwise_op_name(p.op)) + " needs bool inputs, got " + dtype_name(t));
  } else if (t == DataType::kBOOL && !(p.op == ElementWiseOperation::kEQUAL)) {
    fail("op", std::string(elementwise_op_name(p.op)) + " does not accept bool inputs");
  }
  if (t == DataType::kFP8 || t == DataType::kUINT8) fail("input0", std::string("dtype ") + dtype_name(t) + " is not supported");
  TensorDesc o;
  o.dims = broadcast_dims(*this, in[0].dims, in[1].dims, "input0", "input1");
  o.dtype = elementwise_is_comparison(p.op) ? DataType::kBOOL : t;
  return {o};
}

ElementWiseLayer* add_elementwise(Network& net, Tensor* a, Tensor* b, ElementWiseOperation op) {
  auto l = std::make_unique<ElementWiseLayer>();
  l->p.op = op;
  return net.add(std::move(l), {a, b}, "add_elementwise");
}

}  // namespace torch2trt
