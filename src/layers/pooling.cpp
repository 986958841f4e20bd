#include "torch2trt/layers/pooling.h"

#include <string>

namespace torch2trt {

const char* pooling_type_name(PoolingType t) {
  switch (t) {
    case PoolingType::kMAX: return "MAX";
    case PoolingType::kAVERAGE: return "AVERAGE";
    case PoolingType::kMAX_AVERAGE_BLEND: return "MAX_AVERAGE_BLEND";
  }
  return "?";
}

namespace {

// When `lenient`, an output extent < 1 (padding set later may fix it) sets *deferred and gives -1.
Dims check(const PoolingLayer& l, const TensorDesc& x, std::vector<WindowExtent>* ext, bool lenient, bool* deferred) {
  const PoolingParams& p = l.p;
  int type = static_cast<int>(p.type);
  if (type < 0 || type >= kNumPoolingTypes) l.fail("type", "unknown pooling type " + std::to_string(type));
  if (!(p.blend_factor >= 0.f && p.blend_factor <= 1.f))
    l.fail("blend_factor", "must be in [0, 1], got " + std::to_string(p.blend_factor));
  int nsp;
  if (p.adaptive) {
    nsp = p.output_size.nb_dims;
    if (nsp < 1 || nsp > 3) l.fail("output_size", "needs 1, 2 or 3 spatial dimensions, got " + p.output_size.str());
    check_window_list(l, "output_size", p.output_size, nsp, 1, ">= 1");
    const std::pair<const char*, const Dims*> unused[] = {{"window_size", &p.window_size},
                                                          {"stride", &p.stride},
                                                          {"pre_padding", &p.pre_padding},
                                                          {"post_padding", &p.post_padding},
                                                          {"dilation", &p.dilation}};
    for (auto& [name, d] : unused)
      if (d->nb_dims != 0)
        l.fail(name, "adaptive pooling derives its windows from output_size; leave " + std::string(name) +
                         " empty (got " + d->str() + ")");
    if (p.padding_mode != PaddingMode::kEXPLICIT_ROUND_DOWN)
      l.fail("padding_mode", "adaptive pooling has no padding; leave padding_mode at EXPLICIT_ROUND_DOWN");
  } else {
    nsp = p.window_size.nb_dims;
    if (nsp < 1 || nsp > 3) l.fail("window_size", "needs 1, 2 or 3 spatial dimensions, got " + p.window_size.str());
    if (p.output_size.nb_dims != 0) l.fail("output_size", "is for adaptive pooling only; leave it empty");
    check_window_list(l, "window_size", p.window_size, nsp, 1, ">= 1");
    check_window_list(l, "stride", p.stride, nsp, 1, ">= 1");
    check_window_list(l, "dilation", p.dilation, nsp, 1, ">= 1");
    check_window_list(l, "pre_padding", p.pre_padding, nsp, 0, ">= 0");
    check_window_list(l, "post_padding", p.post_padding, nsp, 0, ">= 0");
    int mode = static_cast<int>(p.padding_mode);
    if (mode < 0 || mode >= kNumPaddingModes) l.fail("padding_mode", "unknown padding mode " + std::to_string(mode));
    for (int i = 0; i < nsp; ++i) {
      if (p.dilation.d[i] != 1 && p.type != PoolingType::kMAX)
        l.fail("dilation", std::string("only MAX pooling supports dilation; ") + pooling_type_name(p.type) +
                               " got " + p.dilation.str());
      int64_t win = p.dilation.d[i] * (p.window_size.d[i] - 1) + 1;
      // A window lying wholly in the padding would have nothing to pool (PyTorch forbids it too).
      if (p.pre_padding.d[i] >= win)
        l.fail("pre_padding", "must be smaller than the dilated window " + std::to_string(win) + ", got " +
                                  p.pre_padding.str());
      if (p.post_padding.d[i] >= win)
        l.fail("post_padding", "must be smaller than the dilated window " + std::to_string(win) + ", got " +
                                   p.post_padding.str());
    }
  }
  if (x.dims.nb_dims < nsp + 1)
    l.fail("input", "a " + std::to_string(nsp) + "-D pooling needs a rank >= " + std::to_string(nsp + 1) +
                        " input (*, C, *spatial), got " + x.dims.str());
  if (!is_floating(x.dtype))
    l.fail("input", std::string("pooling needs a float tensor, got ") + dtype_name(x.dtype) + "; add a cast first");
  Dims out = x.dims;
  int first = x.dims.nb_dims - nsp;
  ext->clear();
  for (int i = 0; i < nsp; ++i) {
    int64_t in = x.dims.d[first + i];
    WindowExtent e;
    if (p.adaptive) {
      if (in == 0) l.fail("input", "adaptive pooling needs non-empty spatial dimensions, got " + x.dims.str());
      e.out = p.output_size.d[i];
    } else {
      int64_t win = p.dilation.d[i] * (p.window_size.d[i] - 1) + 1;
      e = forward_window_extent(p.padding_mode, in, win, p.stride.d[i], p.pre_padding.d[i], p.post_padding.d[i], true);
      if (in >= 0 && e.out < 1 && lenient) {
        e.out = -1;
        *deferred = true;
      } else if (in >= 0 && e.out < 1) {
        l.fail("input", "spatial dimension " + std::to_string(i) + " of input " + x.dims.str() + " is " +
                            std::to_string(in) + ": too small for window " + p.window_size.str() + " (dilation " +
                            p.dilation.str() + ", padding " + p.pre_padding.str() + "/" + p.post_padding.str() +
                            ") — the output extent would be " + std::to_string(e.out));
      }
    }
    out.d[first + i] = e.out;
    ext->push_back(e);
  }
  return out;
}

}  // namespace

// Spatial dimensions of a pooling layer (checked by the shape rule).
int pooling_nsp(const PoolingParams& p) { return p.adaptive ? p.output_size.nb_dims : p.window_size.nb_dims; }

std::vector<TensorDesc> PoolingLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1) fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  std::vector<WindowExtent> ext;
  bool deferred = false;
  TensorDesc x = in[0];
  const int nsp = pooling_nsp(p);
  if (p.channels_last) {
    if (x.dims.nb_dims < nsp + 2)
      fail("channels_last", "needs an input of rank >= " + std::to_string(nsp + 2) + " (..., *spatial, C), got " +
                                x.dims.str());
    x.dims = channels_first_dims(x.dims, nsp);
  }
  Dims out = check(*this, x, &ext, defers_errors(*this, provisional), &deferred);
  if (!deferred && provisional) provisional = false;  // no write on loaded layers: contexts share them
  if (p.channels_last) out = channels_last_dims(out, nsp);
  return {TensorDesc{in[0].dtype, out}};
}

PoolingGeometry PoolingLayer::geometry(const Dims& xd) const {
  if (!xd.is_static()) fail("input", "geometry needs concrete dims, got " + xd.str());
  std::vector<WindowExtent> ext;
  bool deferred = false;
  if (p.channels_last && xd.nb_dims < pooling_nsp(p) + 2)
    fail("channels_last", "needs an input of rank >= " + std::to_string(pooling_nsp(p) + 2) + ", got " + xd.str());
  const Dims x = p.channels_last ? channels_first_dims(xd, pooling_nsp(p)) : xd;
  Dims out = check(*this, TensorDesc{DataType::kFLOAT, x}, &ext, false, &deferred);
  PoolingGeometry g;
  g.nsp = static_cast<int>(ext.size());
  int first = x.nb_dims - g.nsp;
  // Channels-last: the channel axis (just before the spatial ones in x) is stored innermost instead.
  const int outer_end = p.channels_last ? first - 1 : first;
  for (int i = 0; i < outer_end; ++i) g.outer *= x.d[i];
  if (p.channels_last) g.inner = x.d[first - 1];
  for (int i = 0; i < g.nsp; ++i) {
    g.in[i] = x.d[first + i];
    g.out[i] = out.d[first + i];
    if (p.adaptive) continue;
    g.window[i] = p.window_size.d[i];
    g.stride[i] = p.stride.d[i];
    g.dilation[i] = p.dilation.d[i];
    g.pre[i] = ext[i].pre;
    g.post[i] = ext[i].post;
    g.post_eff[i] = ext[i].post_eff;
  }
  return g;
}

PoolingLayer* add_pooling_nd(Network& net, Tensor* input, PoolingType type, const Dims& window_size) {
  auto l = std::make_unique<PoolingLayer>();
  l->p.type = type;
  int nsp = window_size.nb_dims;
  l->p.window_size = l->p.stride = window_size;
  l->p.dilation.nb_dims = l->p.pre_padding.nb_dims = l->p.post_padding.nb_dims = nsp;
  for (int i = 0; i < nsp; ++i) l->p.dilation.d[i] = 1, l->p.pre_padding.d[i] = l->p.post_padding.d[i] = 0;
  l->provisional = true;
  return net.add(std::move(l), {input}, "add_pooling_nd");
}

PoolingLayer* add_adaptive_pooling_nd(Network& net, Tensor* input, PoolingType type, const Dims& output_size) {
  auto l = std::make_unique<PoolingLayer>();
  l->p.type = type;
  l->p.adaptive = true;
  l->p.output_size = output_size;
  return net.add(std::move(l), {input}, "add_adaptive_pooling_nd");
}

}  // namespace torch2trt
