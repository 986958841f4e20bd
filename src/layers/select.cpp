#include "torch2trt/layers/select.h"

#include "torch2trt/layers/elementwise.h"

namespace torch2trt {

std::vector<TensorDesc> SelectLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 3) fail("inputs", "expects 3 inputs (condition, then, else), got " + std::to_string(in.size()));
  const char* names[] = {"condition", "then_input", "else_input"};
  for (int i = 0; i < 3; ++i)
    if (in[i].dims.nb_dims < 0) fail(names[i], "input " + std::to_string(i) + " is not set");
  if (in[0].dtype != DataType::kBOOL)
    fail("condition", std::string("must be bool, got ") + dtype_name(in[0].dtype) + "; compare it with a value first");
  if (in[1].dtype != in[2].dtype)
    fail("else_input", std::string("dtype ") + dtype_name(in[2].dtype) + " differs from then_input's " +
                           dtype_name(in[1].dtype) + "; add a cast so both match");
  if (in[1].dtype == DataType::kFP8) fail("then_input", "fp8 tensors are not supported");
  Dims d = broadcast_dims(*this, in[1].dims, in[2].dims, "then_input", "else_input");
  d = broadcast_dims(*this, in[0].dims, d, "condition", "then_input/else_input");
  return {TensorDesc{in[1].dtype, d}};
}

SelectLayer* add_select(Network& net, Tensor* condition, Tensor* then_input, Tensor* else_input) {
  return net.add(std::make_unique<SelectLayer>(), {condition, then_input, else_input}, "add_select");
}

}  // namespace torch2trt
