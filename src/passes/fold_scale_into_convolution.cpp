// Folds a per-channel (or uniform) Scale that follows a Convolution — an inference batch norm — into
// the convolution's kernel and bias: conv(x, W, b) * s + t = conv(x, W * s, b * s + t).
#include "passes/pass.h"
#include "torch2trt/layers/convolution.h"
#include "torch2trt/layers/scale.h"

namespace torch2trt {
namespace {

bool power_is_one(const Weights& p) {
  for (int64_t i = 0; i < p.count; ++i)
    if (p.at(i) != 1.0) return false;
  return true;
}

}  // namespace

int fold_scale_into_convolution(Network& net, const BuilderConfig&) {
  int folded = 0;
  std::vector<Layer*> dead;
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    if (l->kind() != LayerKind::kScale) continue;
    auto* s = static_cast<ScaleLayer*>(l);
    Tensor* x = s->input(0);
    if (!x->producer() || x->producer()->kind() != LayerKind::kConvolution || x->is_output()) continue;
    auto* conv = static_cast<ConvolutionLayer*>(x->producer());
    if (conv->num_inputs() != 1 || net.consumers(x).size() != 1) continue;
    if (s->p.mode == ScaleMode::kELEMENTWISE || !power_is_one(s->p.power)) continue;
    if (s->p.mode == ScaleMode::kCHANNEL && s->p.channel_axis != 1) continue;
    const int64_t K = conv->p.num_output_maps;
    auto per_channel = [&](const Weights& w, double dflt, int64_t k) {
      if (w.count == 0) return dflt;
      return w.count == 1 ? w.at(0) : w.at(k);
    };
    std::vector<float> kernel = conv->p.kernel.to_float();
    std::vector<float> bias(K, 0.f);
    if (!conv->p.bias.empty()) bias = conv->p.bias.to_float();
    const int64_t per_out = static_cast<int64_t>(kernel.size()) / K;
    for (int64_t k = 0; k < K; ++k) {
      double sc = per_channel(s->p.scale, 1.0, k), sh = per_channel(s->p.shift, 0.0, k);
      for (int64_t j = 0; j < per_out; ++j) kernel[k * per_out + j] = static_cast<float>(kernel[k * per_out + j] * sc);
      bias[k] = static_cast<float>(bias[k] * sc + sh);
    }
    conv->p.kernel = Weights::f32(kernel);
    conv->p.bias = Weights::f32(bias);
    net.replace_uses(s->output(0), x);
    dead.push_back(s);
    ++folded;
  }
  if (!dead.empty()) net.remove_layers(dead);
  return folded;
}

}  // namespace torch2trt
