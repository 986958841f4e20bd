#include "torch2trt/layers/normalization.h"

#include <cmath>

namespace torch2trt {

namespace {

std::string axes_text(uint32_t axes) {
  std::string s = "{";
  for (int i = 0; i < 32; ++i)
    if (axes >> i & 1u) s += (s.size() > 1 ? ", " : "") + std::to_string(i);
  return s + "}";
}

}  // namespace

std::vector<TensorDesc> NormalizationLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 3) fail("inputs", "expects 3 inputs (input, scale, bias), got " + std::to_string(in.size()));
  const char* names[3] = {"input", "scale", "bias"};
  for (int i = 0; i < 3; ++i)
    if (in[i].dims.nb_dims < 0) fail(names[i], "must be set");
  const Dims& x = in[0].dims;
  DataType t = in[0].dtype;
  if (!is_floating(t)) fail("input", std::string("needs a float tensor, got ") + dtype_name(t) + "; add a cast first");
  for (int i = 1; i < 3; ++i)
    if (in[i].dtype != t)
      fail(names[i], std::string("dtype ") + dtype_name(in[i].dtype) + " differs from the input's " + dtype_name(t));
  if (!std::isfinite(p.epsilon) || p.epsilon < 0) fail("epsilon", "must be finite and >= 0, got " + std::to_string(p.epsilon));
  if (!is_floating(p.compute_precision))
    fail("compute_precision", std::string("must be a float type, got ") + dtype_name(p.compute_precision));
  int r = x.nb_dims;
  if (r < 1) fail("input", "needs a tensor of rank >= 1, got a scalar");
  if (r < 32 && (p.axes >> r) != 0)
    fail("axes", "bitmask " + axes_text(p.axes) + " names dims beyond the input's rank " + std::to_string(r) +
                     " (shape " + x.str() + ")");
  if (p.num_groups < 1) fail("num_groups", "must be >= 1, got " + std::to_string(p.num_groups));
  int64_t groups = p.num_groups;
  if (groups > 1) {
    if (r < 2) fail("num_groups", "group normalization needs a channel dim 1; the input " + x.str() + " has none");
    if (p.axes & 2u)
      fail("axes", "must not include the channel dim 1 when num_groups > 1 (the groups already split it), got " +
                       axes_text(p.axes));
    if (x.d[1] >= 0 && x.d[1] % groups != 0)
      fail("num_groups", std::to_string(groups) + " groups do not divide the " + std::to_string(x.d[1]) +
                             " channels of the input " + x.str());
  } else if (p.axes == 0) {
    fail("axes", "selects no dim: set bit i to normalize over dim i (layer norm: the trailing dims)");
  }
  for (int k = 1; k < 3; ++k) {
    const Dims& s = in[k].dims;
    if (s.nb_dims > r)
      fail(names[k], "rank of " + s.str() + " exceeds the input's " + x.str() + "; it must broadcast to the input");
    for (int j = 0; j < s.nb_dims; ++j) {
      int i = r - s.nb_dims + j;  // right-aligned, as numpy broadcasting
      int64_t se = s.d[j], xe = x.d[i];
      bool per_group = groups > 1 && i == 1 && s.nb_dims == r && se == groups;
      if (se == 1 || se == xe || se == -1 || xe == -1 || per_group) continue;
      fail(names[k], "shape " + s.str() + " does not broadcast to the input " + x.str() + " (dim " + std::to_string(i) +
                         ": " + std::to_string(se) + " vs " + std::to_string(xe) +
                         (i == 1 && s.nb_dims == r
                              ? "; per-group values (1, G, 1, ...) need num_groups = G, given to add_normalization"
                              : "") +
                         ")");
    }
  }
  return {in[0]};
}

NormalizationLayer* add_normalization(Network& net, Tensor* input, Tensor* scale, Tensor* bias, uint32_t axes,
                                      int32_t num_groups) {
  auto l = std::make_unique<NormalizationLayer>();
  l->p.axes = axes;
  l->p.num_groups = num_groups;
  return net.add(std::move(l), {input, scale, bias}, "add_normalization");
}

}  // namespace torch2trt
