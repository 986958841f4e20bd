#include "torch2trt/layers/concat.h"

#include <algorithm>

namespace torch2trt {

std::vector<TensorDesc> ConcatenationLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.empty()) fail("inputs", "needs at least one input");
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].dims.nb_dims < 0) fail("inputs", "input " + std::to_string(i) + " is not set");
  const TensorDesc& first = in[0];
  int rank = first.dims.nb_dims;
  if (rank == 0) fail("inputs", "cannot concatenate rank-0 tensors; reshape them to shape (1,) first");
  if (p.axis < 0 || p.axis >= rank)
    fail("axis", "axis " + std::to_string(p.axis) + " is out of range for inputs of rank " + std::to_string(rank) +
                     " (valid: 0.." + std::to_string(rank - 1) + ")");
  if (first.dtype == DataType::kFP8) fail("inputs", "fp8 tensors are not supported");
  Dims out = first.dims;
  for (size_t i = 1; i < in.size(); ++i) {
    const Dims& d = in[i].dims;
    std::string which = "input " + std::to_string(i);
    if (in[i].dtype != first.dtype)
      fail(which, std::string("dtype ") + dtype_name(in[i].dtype) + " differs from input 0's " +
                      dtype_name(first.dtype) + "; add a cast so all inputs match");
    if (d.nb_dims != rank)
      fail(which, "shape " + d.str() + " has rank " + std::to_string(d.nb_dims) + ", input 0 " + first.dims.str() +
                      " has rank " + std::to_string(rank));
    for (int k = 0; k < rank; ++k) {
      if (k == p.axis) {
        out.d[k] = (out.d[k] < 0 || d.d[k] < 0) ? -1 : out.d[k] + d.d[k];
      } else if (out.d[k] == -1) {
        out.d[k] = d.d[k];
      } else if (d.d[k] != -1 && d.d[k] != out.d[k]) {
        fail(which, "shape " + d.str() + " differs from input 0's " + first.dims.str() + " in dimension " +
                        std::to_string(k) + ", which is not the concatenation axis " + std::to_string(p.axis));
      }
    }
  }
  return {TensorDesc{first.dtype, out}};
}

namespace {

// True when the inputs agree on every axis but `axis` (extents known only at run time agree with anything).
bool joinable_on(const std::vector<Tensor*>& inputs, int axis) {
  const Dims& a = inputs[0]->dims();
  for (Tensor* t : inputs) {
    if (!t || t->dims().nb_dims != a.nb_dims) return false;
    for (int k = 0; k < a.nb_dims; ++k)
      if (k != axis && t->dims().d[k] != a.d[k] && t->dims().d[k] >= 0 && a.d[k] >= 0) return false;
  }
  return true;
}

}  // namespace

ConcatenationLayer* add_concatenation(Network& net, const std::vector<Tensor*>& inputs) {
  auto l = std::make_unique<ConcatenationLayer>();
  if (!inputs.empty() && inputs[0]) {
    int rank = inputs[0]->dims().nb_dims;
    l->p.axis = std::max(rank - 3, 0);
    if (!joinable_on(inputs, l->p.axis)) {
      std::vector<int> fits;
      for (int k = 0; k < rank; ++k)
        if (joinable_on(inputs, k)) fits.push_back(k);
      if (fits.size() == 1) l->p.axis = fits[0];
    }
  }
  return net.add(std::move(l), inputs, "add_concatenation");
}

}  // namespace torch2trt
