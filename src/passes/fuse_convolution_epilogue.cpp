// Folds the pointwise work that follows a Convolution into the convolution's epilogue:
// y = act(conv(x) + bias + z). A per-channel constant add joins the bias, an add of another tensor of
// the output's shape becomes the residual input z, and an activation becomes the fused activation. The
// kernels then write the output once instead of once per pointwise layer (and launch fewer kernels).
#include "passes/pass.h"
#include "passes/pattern.h"

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

// Folds `next` (the only reader of conv's output) into conv; returns false when it does not fit.
bool absorb(ConvolutionLayer* conv, Layer* next) {
  Tensor* y = conv->output(0);
  if (next->kind() == LayerKind::kActivation) {
    if (conv->p.has_activation) return false;
    conv->p.has_activation = true;
    conv->p.activation = static_cast<ActivationLayer*>(next)->p;
    return true;
  }
  auto* sum = static_cast<ElementWiseLayer*>(next);
  if (next->kind() != LayerKind::kElementWise || sum->p.op != ElementWiseOperation::kSUM) return false;
  // The activation comes last in the epilogue: nothing added after it can move before it.
  if (conv->p.has_activation || sum->input(0) == sum->input(1)) return false;
  Tensor* other = sum->input(0) == y ? sum->input(1) : sum->input(0);
  const int64_t k = conv->p.num_output_maps;
  std::vector<float> c = per_channel_constant(other, y, k);
  if (!c.empty()) {
    std::vector<float> bias = conv->p.bias.empty() ? std::vector<float>(k, 0.f) : conv->p.bias.to_float();
    for (int64_t i = 0; i < k; ++i) bias[i] += c[i];
    conv->p.bias = Weights::f32(bias);
    return true;
  }
  // A residual: same type and static shape, so the sum neither broadcasts nor changes at run time.
  if (conv->num_inputs() != 1 || other->dtype() != y->dtype() || !y->dims().is_static() ||
      !(other->dims() == y->dims()))
    return false;
  // Layers stay in insertion order: a residual produced after the convolution cannot be its input. In a
  // ResNet block with a projection shortcut the sum then fuses into the shortcut convolution instead.
  if (other->producer() && other->producer()->index() >= conv->index()) return false;
  conv->set_input(1, other);
  return true;
}

}  // namespace

int fuse_convolution_epilogue(Network& net, const BuilderConfig&) {
  int fused = 0;
  for (bool again = true; again;) {
    again = false;
    pattern::Uses uses(net);
    for (int i = 0; i < net.num_layers() && !again; ++i) {
      Layer* l = net.layer(i);
      if (l->kind() != LayerKind::kConvolution || l->precision_is_set()) continue;
      auto* conv = static_cast<ConvolutionLayer*>(l);
      Tensor* y = conv->output(0);
      const auto& readers = uses.of(y);
      if (readers.empty() || !uses.only_by(y, readers[0])) continue;
      Layer* next = readers[0];
      if (next->precision_is_set() || next->output(0)->dtype() != y->dtype()) continue;
      if (!absorb(conv, next)) continue;
      pattern::replace_result(net, next->output(0), y);
      net.remove_layers({next});
      ++fused;
      again = true;  // the readers changed: take a new snapshot
    }
  }
  return fused;
}

}  // namespace torch2trt
