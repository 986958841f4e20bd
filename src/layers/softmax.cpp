#include "torch2trt/layers/softmax.h"

#include <algorithm>

#include "torch2trt/layers/reduce.h"

namespace torch2trt {

int softmax_default_axis(int rank) { return std::max(0, rank - 3); }

std::vector<TensorDesc> SoftMaxLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1) fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  if (in[0].dims.nb_dims < 0) fail("input", "the input is not set");
  if (in[0].dims.nb_dims == 0) fail("input", "softmax needs a tensor of rank >= 1, got a scalar");
  if (!is_floating(in[0].dtype))
    fail("input", std::string("softmax needs a float tensor, got ") + dtype_name(in[0].dtype) + "; add a cast first");
  axes_from_mask(*this, p.axes, in[0].dims.nb_dims, "axes", true);
  return {in[0]};
}

SoftMaxLayer* add_softmax(Network& net, Tensor* input) {
  auto l = std::make_unique<SoftMaxLayer>();
  if (input) l->p.axes = 1u << softmax_default_axis(input->dims().nb_dims);
  return net.add(std::move(l), {input}, "add_softmax");
}

}  // namespace torch2trt
