#include "torch2trt/layers/topk.h"

#include <limits>

#include "torch2trt/layers/reduce.h"

namespace torch2trt {

const char* topk_op_name(TopKOperation op) {
  switch (op) {
    case TopKOperation::kMAX: return "MAX";
    case TopKOperation::kMIN: return "MIN";
  }
  return "?";
}

std::vector<TensorDesc> TopKLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1)
    fail("inputs", "expects 1 input, got " + std::to_string(in.size()) +
                       " (a run-time k tensor is not supported: set the layer's `k`)");
  if (in[0].dims.nb_dims < 0) fail("input", "the input is not set");
  if (static_cast<int>(p.op) < 0 || static_cast<int>(p.op) >= kNumTopKOperations)
    fail("op", "unknown top-k operation " + std::to_string(static_cast<int>(p.op)));
  DataType t = in[0].dtype;
  if (!is_floating(t) && t != DataType::kINT32 && t != DataType::kINT64)
    fail("input", std::string("top-k does not accept ") + dtype_name(t) + " tensors (float types, int32 or int64 only)");
  const Dims& d = in[0].dims;
  if (d.nb_dims == 0) fail("input", "top-k needs a tensor of rank >= 1, got a scalar");
  int axis = axes_from_mask(*this, p.axes, d.nb_dims, "axes", true)[0];
  int64_t n = d.d[axis];
  if (p.k < 1) fail("k", "must be at least 1, got " + std::to_string(p.k));
  if (n >= 0 && p.k > n)
    fail("k", std::to_string(p.k) + " exceeds the extent " + std::to_string(n) + " of axis " + std::to_string(axis) +
                  " of the input of shape " + d.str());
  if (n > std::numeric_limits<int32_t>::max())
    fail("input", "axis " + std::to_string(axis) + " of shape " + d.str() + " is too long for int32 indices");
  TensorDesc values{t, d}, indices{DataType::kINT32, d};
  values.dims.d[axis] = indices.dims.d[axis] = p.k;
  return {values, indices};
}

TopKLayer* add_topk(Network& net, Tensor* input, TopKOperation op, int32_t k, uint32_t axes) {
  auto l = std::make_unique<TopKLayer>();
  l->p.op = op;
  l->p.k = k;
  l->p.axes = axes;
  return net.add(std::move(l), {input}, "add_topk");
}

}  // namespace torch2trt
