// Channels-last layout for the GPU. cuDNN's tensor-core convolutions want NHWC; converting layouts around
// each convolution costs more than it saves (measured: ResNet-50 fp16 batch 32, 5.65 ms vs 3.42 ms), so
// whole chains must stay NHWC. The rule: each eligible convolution (and then each pooling fed by one)
// becomes channels-last between a transpose to NHWC before it and one back to NCHW after it; the
// transposes back then sink through layout-agnostic layers (activations, elementwise and fused
// pointwise layers, casts; constants they read are permuted once), and a transpose to NHWC that
// reads a transpose to NCHW cancels with it. What remains are transposes where the chain starts and
// ends (the network input, a flatten before the classifier: often only a reshape, which runs free).
#include <cstring>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

const std::vector<int32_t> kToFirst = {0, 3, 1, 2};  // (N, H, W, C) -> (N, C, H, W)
const std::vector<int32_t> kToLast = {0, 2, 3, 1};   // (N, C, H, W) -> (N, H, W, C)

bool is_half(DataType t) { return t == DataType::kHALF || t == DataType::kBF16; }

// True when l is a shuffle doing exactly the transpose `perm` (no reshape, no second transpose, no pin).
bool is_transpose(const Layer* l, const std::vector<int32_t>& perm) {
  if (!l || l->kind() != LayerKind::kShuffle || l->num_inputs() != 1 || l->precision_is_set()) return false;
  const auto* s = static_cast<const ShuffleLayer*>(l);
  if (s->p.has_reshape || s->p.first_transpose != perm) return false;
  for (size_t i = 0; i < s->p.second_transpose.size(); ++i)
    if (s->p.second_transpose[i] != static_cast<int32_t>(i)) return false;
  return true;
}

// The NHWC tensor t is a channels-first view of (t = transpose_to_first(src)), or null.
Tensor* nhwc_source(const Tensor* t) {
  const Layer* p = t ? t->producer() : nullptr;
  return is_transpose(p, kToFirst) ? p->input(0) : nullptr;
}

Tensor* add_transpose(Network& net, Tensor* x, const std::vector<int32_t>& perm, const std::string& name) {
  auto* s = add_shuffle(net, x);
  s->p.first_transpose = perm;
  s->changed([] {});
  s->set_name(name);
  return s->output(0);
}

// x as NHWC: the source of a channels-first view, or a new transpose.
Tensor* as_nhwc(Network& net, Tensor* x) {
  if (Tensor* s = nhwc_source(x)) return s;
  return add_transpose(net, x, kToLast, x->name() + "_nhwc");
}

// Gives the readers of y (now NHWC) a transpose back to NCHW, which also takes y's network-output place.
void view_as_nchw(Network& net, Tensor* y) {
  std::vector<Layer*> readers = net.consumers(y);
  Tensor* v = add_transpose(net, y, kToFirst, y->name() + "_nchw");
  if (y->is_output()) net.replace_output(y, v);
  for (Layer* r : readers)
    for (int i = 0; i < r->num_inputs(); ++i)
      if (r->input(i) == y) net.rewire_input(r, i, v);
}

// Whether a convolution runs well channels-last on the GPU: 2-D, half precision, cuDNN-compatible padding,
// and channels its tensor-core kernels take (multiples of 8 per group), depthwise, or a stem with fewer
// than 8 input channels (an image's 3, which the CUDA kernel pads to 8).
bool convolution_eligible(const ConvolutionLayer* c) {
  if (c->p.channels_last || c->p.kernel_size.nb_dims != 2 || !is_half(c->output(0)->dtype())) return false;
  const Dims& x = c->input(0)->dims();
  if (x.nb_dims != 4 || !x.is_static()) return false;
  ConvolutionGeometry g = c->geometry(x);
  if (!convolution_padding_is_symmetric(g, false)) return false;
  const int64_t cg = g.in_channels / g.groups, kg = g.out_channels / g.groups;
  return (cg % 8 == 0 && kg % 8 == 0) || cg == 1 || (g.groups == 1 && cg < 8 && kg % 8 == 0);
}

// A copy of a constant of rank <= 4 (right-aligned to rank 4, as broadcasting reads it) in NHWC order.
Tensor* nhwc_constant(Network& net, const ConstantLayer* c) {
  const Weights& w = c->p.weights;
  Dims d = c->output(0)->dims(), d4;
  d4.nb_dims = 4;
  for (int i = 0; i < 4; ++i) d4.d[i] = i < 4 - d.nb_dims ? 1 : d.d[i - (4 - d.nb_dims)];
  Dims o;
  o.nb_dims = 4;
  for (int i = 0; i < 4; ++i) o.d[i] = d4.d[kToLast[i]];
  const size_t es = dtype_size(w.dtype);
  Weights r(w.dtype, nullptr, w.count);
  const uint8_t* src = w.bytes ? w.bytes->data() : nullptr;
  uint8_t* dst = r.bytes ? r.bytes->data() : nullptr;
  if (src && dst) {
    // dst element (n, h, w, c) is src element (n, c, h, w).
    int64_t idx = 0;
    for (int64_t n = 0; n < o.d[0]; ++n)
      for (int64_t h = 0; h < o.d[1]; ++h)
        for (int64_t x = 0; x < o.d[2]; ++x)
          for (int64_t ch = 0; ch < o.d[3]; ++ch, ++idx) {
            int64_t s = ((n * d4.d[1] + ch) * d4.d[2] + h) * d4.d[3] + x;
            std::memcpy(dst + idx * es, src + s * es, es);
          }
  }
  auto* k = add_constant(net, o, r);
  k->set_name(c->name() + "_nhwc");
  return k->output(0);
}

bool layout_agnostic(LayerKind k) {
  switch (k) {
    case LayerKind::kActivation:
    case LayerKind::kUnary:
    case LayerKind::kElementWise:
    case LayerKind::kPointwise:
    case LayerKind::kCast:
    case LayerKind::kIdentity:
      return true;
    default:
      return false;
  }
}

// Whether the NHWC form of a 4-D tensor of dims d keeps its memory order (at most one of C, H, W above 1,
// as in a squeeze-excitation's (N, C, 1, 1) gate): the runtime runs that transpose as a free reshape.
bool moves_only_unit_axes(const Dims& d) {
  if (d.nb_dims != 4 || !d.is_static()) return false;
  return (d.d[1] != 1) + (d.d[2] != 1) + (d.d[3] != 1) <= 1;
}

// Moves the transposes back to NCHW that feed a layout-agnostic layer past it; returns the rewrites. The
// layer's other inputs must be constants (permuted once here) or tensors whose NHWC form costs nothing
// (moves_only_unit_axes): EfficientNet's gates x * sigmoid(excite(...)) then stay NHWC when the excite
// convolution itself is not channels-last.
int sink_transposes(Network& net) {
  int changes = 0;
  const int n = net.num_layers();
  for (int i = 0; i < n; ++i) {
    Layer* l = net.layer(i);
    if (!layout_agnostic(l->kind()) || l->num_outputs() != 1 || l->output(0)->dims().nb_dims != 4) continue;
    bool any = false, ok = true;
    for (Tensor* t : l->inputs()) {
      if (!t) continue;
      if (nhwc_source(t)) {
        any = true;
      } else {
        const Layer* p = t->producer();
        const bool constant = p && p->kind() == LayerKind::kConstant && t->dims().nb_dims <= 4 && t->dims().is_static();
        ok = ok && (constant || moves_only_unit_axes(t->dims()));
      }
    }
    if (!any || !ok) continue;
    for (int k = 0; k < l->num_inputs(); ++k) {
      Tensor* t = l->input(k);
      if (!t) continue;
      Tensor* s = nhwc_source(t);
      const Layer* p = t->producer();
      if (!s && p && p->kind() == LayerKind::kConstant && t->dims().nb_dims <= 4 && t->dims().is_static())
        s = nhwc_constant(net, static_cast<const ConstantLayer*>(p));
      net.rewire_input(l, k, s ? s : add_transpose(net, t, kToLast, t->name() + "_nhwc"));
    }
    view_as_nchw(net, l->output(0));
    ++changes;
  }
  return changes;
}

// A transpose to NHWC reading a transpose to NCHW: its readers read the original NHWC tensor.
int cancel_transposes(Network& net) {
  int changes = 0;
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    if (!is_transpose(l, kToLast)) continue;
    Tensor* s = nhwc_source(l->input(0));
    if (!s || l->output(0)->is_output()) continue;
    net.replace_uses(l->output(0), s);
    ++changes;
  }
  return changes;
}

}  // namespace

int layout_channels_last(Network& net, const BuilderConfig& config) {
  if (config.device != DeviceType::kGPU) return 0;
  std::vector<ConvolutionLayer*> convs;
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    if (l->kind() == LayerKind::kConvolution && convolution_eligible(static_cast<ConvolutionLayer*>(l)))
      convs.push_back(static_cast<ConvolutionLayer*>(l));
  }
  if (convs.empty()) return 0;
  int changes = 0;
  for (ConvolutionLayer* c : convs) {
    for (int k = 0; k < c->num_inputs(); ++k) net.rewire_input(c, k, as_nhwc(net, c->input(k)));
    c->p.channels_last = true;
    view_as_nchw(net, c->output(0));
    ++changes;
  }
  net.topo_sort();
  net.reinfer();
  for (int round = 0; round < 64; ++round) {
    int r = sink_transposes(net);
    // 2-D poolings reading a channels-first view of an NHWC tensor pool it in place.
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* l = net.layer(i);
      if (l->kind() != LayerKind::kPooling || !nhwc_source(l->input(0))) continue;
      auto* p = static_cast<PoolingLayer*>(l);
      int nsp = p->p.adaptive ? p->p.output_size.nb_dims : p->p.window_size.nb_dims;
      if (p->p.channels_last || nsp != 2 || l->input(0)->dims().nb_dims != 4) continue;
      net.rewire_input(l, 0, nhwc_source(l->input(0)));
      p->p.channels_last = true;
      view_as_nchw(net, l->output(0));
      ++r;
    }
    // Squeeze-excitation gates read an NHWC tensor in place; their (N, C, 1, 1) gate is the same memory in
    // either layout, so it needs no transpose back (x * gate, apply_to_input, is NHWC like x: a view back).
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* l = net.layer(i);
      if (l->kind() != LayerKind::kSqueezeExcite || !nhwc_source(l->input(0))) continue;
      auto* se = static_cast<SqueezeExciteLayer*>(l);
      if (se->p.channels_last || l->input(0)->dims().nb_dims != 4) continue;
      net.rewire_input(l, 0, nhwc_source(l->input(0)));
      se->p.channels_last = true;
      if (se->p.apply_to_input) view_as_nchw(net, l->output(0));
      ++r;
    }
    net.topo_sort();
    net.reinfer();
    r += cancel_transposes(net);
    changes += r;
    if (!r) break;
  }
  remove_dead_layers(net, config);
  net.topo_sort();
  net.reinfer();
  return changes;
}

}  // namespace torch2trt
