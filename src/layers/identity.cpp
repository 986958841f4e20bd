#include "torch2trt/layers/identity.h"

namespace torch2trt {

namespace {

void check_single_input(const Layer& l, const std::vector<TensorDesc>& in) {
  if (in.size() != 1) l.fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  if (in[0].dims.nb_dims < 0) l.fail("input", "input 0 is not set");
  if (in[0].dtype == DataType::kFP8) l.fail("input", "fp8 tensors are not supported");
}

}  // namespace

std::vector<TensorDesc> IdentityLayer::infer(const std::vector<TensorDesc>& in) const {
  check_single_input(*this, in);
  return {in[0]};
}

std::vector<TensorDesc> CastLayer::infer(const std::vector<TensorDesc>& in) const {
  check_single_input(*this, in);
  if (!is_valid_dtype(static_cast<int32_t>(p.to_type)))
    fail("to_type", "unknown data type " + std::to_string(static_cast<int>(p.to_type)));
  if (p.to_type == DataType::kFP8) fail("to_type", "casting to fp8 is not supported");
  return {TensorDesc{p.to_type, in[0].dims}};
}

IdentityLayer* add_identity(Network& net, Tensor* input) {
  return net.add(std::make_unique<IdentityLayer>(), {input}, "add_identity");
}

CastLayer* add_cast(Network& net, Tensor* input, DataType to_type) {
  auto l = std::make_unique<CastLayer>();
  l->p.to_type = to_type;
  return net.add(std::move(l), {input}, "add_cast");
}

}  // namespace torch2trt
