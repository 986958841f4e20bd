// Folds the pointwise work that follows a Convolution into the convolution's epilogue:
// y = act(conv(x) + bias + z). A per-channel constant add joins the bias, an add of another tensor of
// the output's shape becomes the residual input z, and an activation becomes the fused activation. The
// kernels then write the output once instead of once per pointwise layer (and launch fewer kernels).
#include "passes/epilogue.h"
#include "passes/pass.h"

namespace torch2trt {
namespace {

// The K per-channel values (one value repeated when it is uniform) of a constant that broadcasts along
// the channel axis of y without growing it, or an empty vector.
std::vector<float> per_channel_constant(const Tensor* c, const Tensor* y, int64_t k) {
  const Layer* prod = c->producer();
  if (!prod || prod->kind() != LayerKind::kConstant || prod->precision_is_set()) return {};
  const Weights& w = static_cast<const ConstantLayer*>(prod)->p.weights;
  if (!is_floating(w.dtype) || c->dims().nb_dims != y->dims().nb_dims) return {};
  for (int i = 0; i < c->dims().nb_dims; ++i)
    if (c->dims().d[i] != 1 && !(i == 1 && c->dims().d[i] == k)) return {};
  std::vector<float> v = w.to_float();
  if (v.size() == 1) v.assign(k, v[0]);
  return v;
}

}  // namespace

int fuse_convolution_epilogue(Network& net, const BuilderConfig&) {
  return fold_readers_into_producers(net, [](Layer* l, Layer* next, pattern::Uses&) {
    if (l->kind() != LayerKind::kConvolution) return false;
    auto* conv = static_cast<ConvolutionLayer*>(l);
    const Tensor* y = conv->output(0);
    const int64_t k = conv->p.num_output_maps;
    EpilogueTarget t;
    t.layer = conv, t.bias = &conv->p.bias, t.has_activation = &conv->p.has_activation;
    t.activation = &conv->p.activation, t.residual_input = 1, t.features = k;
    t.feature_constant = [y, k](const Tensor* c) { return per_channel_constant(c, y, k); };
    return absorb_epilogue(t, next);
  });
}

}  // namespace torch2trt
