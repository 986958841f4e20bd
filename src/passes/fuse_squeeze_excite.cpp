// Fuses a squeeze-excitation gate -- a global average pooling (or a mean over the spatial axes), a 1x1
// convolution (with its fused activation), a second 1x1 convolution (with its own) -- and, when it is the gate's only reader, the product
// x * gate into one SqueezeExcite layer (apply_to_input):
//   x -> Pooling(AVERAGE to 1 x 1) or Reduce(AVG, spatial, keep) -> Convolution(C -> S, 1x1, act1)
//     -> Convolution(S -> C, 1x1, act2) -> gate
//   [-> ElementWise PROD with x]
// as torchvision's SqueezeExcitation (EfficientNet, MobileNetV3, RegNet) is converted. The convolutions run
// on one pixel per image, so the cost is the launches: on the GPU five kernels per gate (the pooling, and
// per convolution cuDNN plus an epilogue for any activation but ReLU) and the product, one after this pass.
// Runs after fuse_convolution_epilogue (the activations must already be the convolutions' fused ones).
// Left alone: poolings that do not average the whole input to one value per channel (padding, windows
// smaller than the input), convolutions with groups, dilation, stride or padding that matter, a residual
// input, a precision pin, tensors read outside the chain, and sizes the target backend does not run.
#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

// A 1x1 convolution with one group, no residual input, and an output of its input's spatial extents without
// padding: a fully connected layer at every pixel.
ConvolutionLayer* pointwise_convolution(const Tensor* t) {
  auto* c = pattern::producer_as<ConvolutionLayer>(t, LayerKind::kConvolution);
  if (!c || c->num_inputs() != 1 || c->p.num_groups != 1 || c->p.channels_last || c->p.kernel.empty()) return nullptr;
  const Dims& x = c->input(0)->dims();
  if (!x.is_static()) return nullptr;
  ConvolutionGeometry g;
  try {
    g = c->geometry(x);
  } catch (const InvalidArgument&) {
    return nullptr;
  }
  for (int i = 0; i < g.nsp; ++i)
    if (g.kernel[i] != 1 || g.pre[i] != 0 || g.post_eff[i] != 0 || g.out[i] != g.in[i]) return nullptr;
  return c;
}

// The layer averaging every position of its input (N, C, *spatial), channels-first, to one value per channel
// (N, C, 1, ...): an AVERAGE Pooling without padding (adaptive to 1, or a window equal to the input), or a
// Reduce AVG over all the spatial axes keeping them (`x.mean((2, 3), keepdim=True)`, as timm writes the
// squeeze). Null otherwise, and for an input with no positions (the Reduce would give NaN, the layer 0).
Layer* global_average(const Tensor* t) {
  const Layer* l = t ? t->producer() : nullptr;
  if (!l || l->num_inputs() != 1) return nullptr;
  const Dims& x = l->input(0)->dims();
  if (!x.is_static() || x.nb_dims < 3 || x.nb_dims > 5) return nullptr;
  for (int i = 2; i < x.nb_dims; ++i)
    if (x.d[i] < 1) return nullptr;
  if (auto* r = pattern::producer_as<ReduceLayer>(t, LayerKind::kReduce)) {
    uint32_t spatial = 0;
    for (int i = 2; i < x.nb_dims; ++i) spatial |= 1u << i;
    return r->p.op == ReduceOperation::kAVG && r->p.keep_dims && r->p.axes == spatial ? r : nullptr;
  }
  auto* p = pattern::producer_as<PoolingLayer>(t, LayerKind::kPooling);
  if (!p || p->p.type != PoolingType::kAVERAGE || p->p.channels_last) return nullptr;
  PoolingGeometry g;
  try {
    g = p->geometry(x);
  } catch (const InvalidArgument&) {
    return nullptr;
  }
  if (g.nsp + 2 != x.nb_dims) return nullptr;  // (N, C, *spatial) only
  // Adaptive pooling to one output covers the whole input; a windowed one must do so without padding.
  for (int i = 0; i < g.nsp; ++i)
    if (g.out[i] != 1 || (!p->p.adaptive && (g.pre[i] != 0 || g.post_eff[i] != 0 || g.window[i] != g.in[i])))
      return nullptr;
  return p;
}

}  // namespace

int fuse_squeeze_excite(Network& net, const BuilderConfig& config) {
  pattern::Rewrites rw(net);
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    if (l->kind() != LayerKind::kConvolution || rw.gone(l)) continue;
    ConvolutionLayer* excite = pointwise_convolution(l->output(0));
    ConvolutionLayer* squeeze = excite ? pointwise_convolution(excite->input(0)) : nullptr;
    Layer* pool = squeeze ? global_average(squeeze->input(0)) : nullptr;
    if (!pool) continue;
    Tensor* x = pool->input(0);
    Tensor* gate = excite->output(0);
    const int64_t c = x->dims().d[1], s = squeeze->p.num_output_maps;
    if (excite->p.num_output_maps != c || gate->dtype() != x->dtype()) continue;
    pattern::Match m;
    m.add(pool);
    m.add(squeeze);
    m.add(excite);
    // The block's product x * gate joins when it is the gate's only reader.
    Tensor* result = gate;
    const std::vector<Layer*>& readers = rw.uses().of(gate);
    ElementWiseLayer* product =
        readers.size() == 1 && readers[0]->num_outputs() == 1 ? pattern::elementwise(readers[0]->output(0), ElementWiseOperation::kPROD) : nullptr;
    if (product && !gate->is_output() &&
        ((product->input(0) == x && product->input(1) == gate) || (product->input(1) == x && product->input(0) == gate)) &&
        product->output(0)->dims() == x->dims() && product->output(0)->dtype() == x->dtype()) {
      m.add(product);
      result = product->output(0);
    } else {
      product = nullptr;
    }
    if (!m.self_contained(rw.uses(), result)) continue;
    SqueezeExciteLayer probe;
    probe.set_name(excite->name() + "_squeeze_excite");
    auto& p = probe.p;
    p.squeeze_channels = s;
    p.w1 = squeeze->p.kernel, p.b1 = squeeze->p.bias;
    p.w2 = excite->p.kernel, p.b2 = excite->p.bias;
    p.has_act1 = squeeze->p.has_activation, p.act1 = squeeze->p.activation;
    p.has_act2 = excite->p.has_activation, p.act2 = excite->p.activation;
    p.apply_to_input = product != nullptr;
    std::vector<TensorDesc> in = {{x->dtype(), x->dims()}}, out;
    try {
      out = probe.infer(in);
    } catch (const InvalidArgument&) {
      continue;
    }
    if (out[0].dims != result->dims() || !pattern::target_runs(probe, in, out, config)) continue;
    auto* se = add_squeeze_excite(net, x, p);
    se->set_name(probe.name());
    rw.replace(m.layers, result, se->output(0));
  }
  return rw.finish();
}

}  // namespace torch2trt
