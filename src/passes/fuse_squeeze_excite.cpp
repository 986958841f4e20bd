// Fuses a squeeze-excitation gate -- a global average pooling (or a mean over the spatial axes), a 1x1
// convolution (with its fused activation), a second 1x1 convolution (with its own); or SENet's form with a
// reshape to (N, C), two Linear layers and a reshape back -- and, when it is the gate's only reader, the product
// x * gate into one SqueezeExcite layer (apply_to_input):
//   x -> Pooling(AVERAGE to 1 x 1) or Reduce(AVG, spatial, keep) -> Convolution(C -> S, 1x1, act1)
//     -> Convolution(S -> C, 1x1, act2) -> gate
//   x -> (the same squeeze) -> Shuffle(reshape to (N, C)) -> MatrixMultiply(by a constant, act1)
//     -> MatrixMultiply(by a constant, act2) -> Shuffle(reshape to (N, C, 1, ...)) -> gate
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

// A Shuffle that only reshapes (no transpose, no run-time shape input).
ShuffleLayer* pure_reshape(const Tensor* t) {
  auto* s = pattern::producer_as<ShuffleLayer>(t, LayerKind::kShuffle);
  if (!s || s->num_inputs() < 1 || !s->input(0)) return nullptr;
  for (int k = 1; k < s->num_inputs(); ++k)
    if (s->input(k)) return nullptr;
  auto identity = [](const std::vector<int32_t>& perm) {
    for (size_t i = 0; i < perm.size(); ++i)
      if (perm[i] != static_cast<int32_t>(i)) return false;
    return true;
  };
  return identity(s->p.first_transpose) && identity(s->p.second_transpose) ? s : nullptr;
}

// A Linear layer: a MatrixMultiply of a (N, K) tensor by a constant read as K x Kout (a (Kout, K) constant
// read TRANSPOSE, as torch's Linear converts, or a (K, Kout) one read as is), without a residual input.
// Its weights as (Kout, K), row-major, in *w.
MatrixMultiplyLayer* linear(const Tensor* t, int64_t* kout, Weights* w) {
  auto* mm = pattern::producer_as<MatrixMultiplyLayer>(t, LayerKind::kMatrixMultiply);
  if (!mm || mm->num_inputs() < 2 || !mm->input(0) || !mm->input(1)) return nullptr;
  if ((mm->num_inputs() > 2 && mm->input(2)) || mm->p.op0 != MatrixOperation::kNONE) return nullptr;
  const Dims &a = mm->input(0)->dims(), &b = mm->input(1)->dims();
  auto* c = pattern::producer_as<ConstantLayer>(mm->input(1), LayerKind::kConstant);
  if (!c || a.nb_dims != 2 || b.nb_dims != 2 || !a.is_static() || !b.is_static()) return nullptr;
  const Weights& wb = c->p.weights;
  if (!is_floating(wb.dtype) || wb.count != b.d[0] * b.d[1]) return nullptr;
  if (mm->p.op1 == MatrixOperation::kTRANSPOSE) {
    if (b.d[1] != a.d[1]) return nullptr;
    *kout = b.d[0], *w = wb;
  } else if (mm->p.op1 == MatrixOperation::kNONE) {
    if (b.d[0] != a.d[1]) return nullptr;
    *kout = b.d[1];
    const std::vector<float> v = wb.to_float();  // exact: half and bfloat16 values are float32 values
    std::vector<float> tr(v.size());
    for (int64_t i = 0; i < b.d[0]; ++i)
      for (int64_t j = 0; j < b.d[1]; ++j) tr[j * b.d[0] + i] = v[i * b.d[1] + j];
    *w = Weights::f32(tr);
  } else {
    return nullptr;
  }
  return mm;
}

// What a matched gate fuses: its layers from the squeeze to the gate, and the fused layer's parameters.
struct Gate {
  Layer* pool = nullptr;
  std::vector<Layer*> layers;
  SqueezeExciteParams p;
  Tensor* out = nullptr;  // the gate (N, C, 1, ...)
};

// pool -> 1x1 Convolution (act1) -> 1x1 Convolution (act2), ending at l.
bool convolution_gate(Layer* l, Gate* g) {
  if (l->kind() != LayerKind::kConvolution) return false;
  ConvolutionLayer* excite = pointwise_convolution(l->output(0));
  ConvolutionLayer* squeeze = excite ? pointwise_convolution(excite->input(0)) : nullptr;
  g->pool = squeeze ? global_average(squeeze->input(0)) : nullptr;
  if (!g->pool || excite->p.num_output_maps != g->pool->input(0)->dims().d[1]) return false;
  g->layers = {g->pool, squeeze, excite};
  g->p.squeeze_channels = squeeze->p.num_output_maps;
  g->p.w1 = squeeze->p.kernel, g->p.b1 = squeeze->p.bias;
  g->p.w2 = excite->p.kernel, g->p.b2 = excite->p.bias;
  g->p.has_act1 = squeeze->p.has_activation, g->p.act1 = squeeze->p.activation;
  g->p.has_act2 = excite->p.has_activation, g->p.act2 = excite->p.activation;
  g->out = excite->output(0);
  return true;
}

// SENet's form: pool -> reshape to (N, C) -> Linear (act1) -> Linear (act2) -> reshape to (N, C, 1, ...),
// ending at l (the last reshape).
bool linear_gate(Layer* l, Gate* g) {
  if (l->kind() != LayerKind::kShuffle) return false;
  ShuffleLayer* back = pure_reshape(l->output(0));
  int64_t c2 = 0, s = 0;
  Weights w1, w2;
  MatrixMultiplyLayer* excite = back ? linear(back->input(0), &c2, &w2) : nullptr;
  MatrixMultiplyLayer* squeeze = excite ? linear(excite->input(0), &s, &w1) : nullptr;
  ShuffleLayer* flat = squeeze ? pure_reshape(squeeze->input(0)) : nullptr;
  g->pool = flat ? global_average(flat->input(0)) : nullptr;
  if (!g->pool) return false;
  const Dims &x = g->pool->input(0)->dims(), &y = back->output(0)->dims();
  const int64_t n = x.d[0], c = x.d[1];
  // (N, C) in and out of the two layers, the gate (N, C, 1, ...) of x's rank.
  if (flat->output(0)->dims() != (Dims{n, c}) || c2 != c || y.nb_dims != x.nb_dims || y.d[0] != n || y.d[1] != c)
    return false;
  for (int i = 2; i < y.nb_dims; ++i)
    if (y.d[i] != 1) return false;
  g->layers = {g->pool, flat, squeeze, excite, back};
  g->p.squeeze_channels = s;
  g->p.w1 = w1, g->p.b1 = squeeze->p.bias;
  g->p.w2 = w2, g->p.b2 = excite->p.bias;
  g->p.has_act1 = squeeze->p.has_activation, g->p.act1 = squeeze->p.activation;
  g->p.has_act2 = excite->p.has_activation, g->p.act2 = excite->p.activation;
  g->out = back->output(0);
  return true;
}

}  // namespace

int fuse_squeeze_excite(Network& net, const BuilderConfig& config) {
  pattern::Rewrites rw(net);
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    Gate g;
    if (rw.gone(l) || !(convolution_gate(l, &g) || linear_gate(l, &g))) continue;
    Tensor* x = g.pool->input(0);
    Tensor* gate = g.out;
    if (gate->dtype() != x->dtype()) continue;
    pattern::Match m;
    for (Layer* k : g.layers) m.add(k);
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
    probe.set_name(l->name() + "_squeeze_excite");
    probe.p = g.p;
    probe.p.apply_to_input = product != nullptr;
    std::vector<TensorDesc> in = {{x->dtype(), x->dims()}}, out;
    try {
      out = probe.infer(in);
    } catch (const InvalidArgument&) {
      continue;
    }
    if (out[0].dims != result->dims() || !pattern::target_runs(probe, in, out, config)) continue;
    auto* se = add_squeeze_excite(net, x, probe.p);
    se->set_name(probe.name());
    rw.replace(m.layers, result, se->output(0));
  }
  return rw.finish();
}

}  // namespace torch2trt
