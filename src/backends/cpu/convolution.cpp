// CPU convolution and deconvolution: oneDNN primitives when available, direct loops otherwise.
#include <algorithm>

#include "backends/common/pointwise_math.h"
#include "backends/cpu/channels_last.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/onednn_util.h"

namespace torch2trt::cpu {
namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// The geometry with 1-D and 2-D cases lifted to 3-D (leading unit dimensions), so one loop nest serves all.
struct Geo3 {
  int64_t n, c, k, groups;
  int64_t in[3], out[3], ker[3], stride[3], dil[3], pad[3];
};

Geo3 lift(const ConvolutionGeometry& g) {
  Geo3 r{g.batch, g.in_channels, g.out_channels, g.groups, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}};
  int off = 3 - g.nsp;
  for (int i = 0; i < g.nsp; ++i) {
    r.in[off + i] = g.in[i];
    r.out[off + i] = g.out[i];
    r.ker[off + i] = g.kernel[i];
    r.stride[off + i] = g.stride[i];
    r.dil[off + i] = g.dilation[i];
    r.pad[off + i] = g.pre[i];
  }
  return r;
}

// Positions p in [0, count) whose mapped index p*stride - pad + tap lies in [0, limit).
void valid_range(int64_t count, int64_t limit, int64_t stride, int64_t pad, int64_t tap, int64_t* lo, int64_t* hi) {
  *lo = std::max<int64_t>(0, ceil_div(pad - tap, stride));
  *hi = std::min<int64_t>(count, floor_div(limit - 1 + pad - tap, stride) + 1);
}

// y[n, oc, o] = bias[oc] + sum over the group's input channels and taps of x[n, ic, o*s - pad + k*d] * w[oc, ic, k].
// Each (n, oc) plane belongs to one thread.
void ref_conv(const Geo3& g, const float* x, const float* w, const float* bias, float* y) {
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t isp = g.in[0] * g.in[1] * g.in[2], osp = g.out[0] * g.out[1] * g.out[2];
  const int64_t kvol = g.ker[0] * g.ker[1] * g.ker[2];
  parallel_for(g.n * g.k, 1, [&](int64_t b, int64_t e) {
    for (int64_t idx = b; idx < e; ++idx) {
      int64_t n = idx / g.k, oc = idx % g.k, grp = oc / kg;
      float* yo = y + idx * osp;
      std::fill(yo, yo + osp, bias ? bias[oc] : 0.f);
      for (int64_t ic = 0; ic < cg; ++ic) {
        const float* xi = x + (n * g.c + grp * cg + ic) * isp;
        const float* wk = w + (oc * cg + ic) * kvol;
        for (int64_t kd = 0; kd < g.ker[0]; ++kd)
          for (int64_t kh = 0; kh < g.ker[1]; ++kh)
            for (int64_t kw = 0; kw < g.ker[2]; ++kw) {
              const float wv = wk[(kd * g.ker[1] + kh) * g.ker[2] + kw];
              int64_t tap[3] = {kd * g.dil[0], kh * g.dil[1], kw * g.dil[2]};
              int64_t lo[3], hi[3];
              for (int a = 0; a < 3; ++a) valid_range(g.out[a], g.in[a], g.stride[a], g.pad[a], tap[a], &lo[a], &hi[a]);
              const int64_t sw = g.stride[2], shift = tap[2] - g.pad[2];
              for (int64_t od = lo[0]; od < hi[0]; ++od) {
                int64_t id = od * g.stride[0] - g.pad[0] + tap[0];
                for (int64_t oh = lo[1]; oh < hi[1]; ++oh) {
                  int64_t ih = oh * g.stride[1] - g.pad[1] + tap[1];
                  const float* xr = xi + (id * g.in[1] + ih) * g.in[2] + shift;
                  float* yr = yo + (od * g.out[1] + oh) * g.out[2];
                  for (int64_t ow = lo[2]; ow < hi[2]; ++ow) yr[ow] += wv * xr[ow * sw];
                }
              }
            }
      }
    }
  });
}

// Transposed convolution: every input element x[n, ic, i] adds x * w[ic, oc, k] to y[n, oc, i*s - pad + k*d].
// Parallel over (n, oc) output planes, so the scatter never races.
void ref_deconv(const Geo3& g, const float* x, const float* w, const float* bias, float* y) {
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t isp = g.in[0] * g.in[1] * g.in[2], osp = g.out[0] * g.out[1] * g.out[2];
  const int64_t kvol = g.ker[0] * g.ker[1] * g.ker[2];
  parallel_for(g.n * g.k, 1, [&](int64_t b, int64_t e) {
    for (int64_t idx = b; idx < e; ++idx) {
      int64_t n = idx / g.k, oc = idx % g.k, grp = oc / kg, ocg = oc % kg;
      float* yo = y + idx * osp;
      std::fill(yo, yo + osp, bias ? bias[oc] : 0.f);
      for (int64_t ic = 0; ic < cg; ++ic) {
        const float* xi = x + (n * g.c + grp * cg + ic) * isp;
        const float* wk = w + ((grp * cg + ic) * kg + ocg) * kvol;
        for (int64_t kd = 0; kd < g.ker[0]; ++kd)
          for (int64_t kh = 0; kh < g.ker[1]; ++kh)
            for (int64_t kw = 0; kw < g.ker[2]; ++kw) {
              const float wv = wk[(kd * g.ker[1] + kh) * g.ker[2] + kw];
              int64_t tap[3] = {kd * g.dil[0], kh * g.dil[1], kw * g.dil[2]};
              int64_t lo[3], hi[3];
              for (int a = 0; a < 3; ++a) valid_range(g.in[a], g.out[a], g.stride[a], g.pad[a], tap[a], &lo[a], &hi[a]);
              const int64_t sw = g.stride[2], shift = tap[2] - g.pad[2];
              for (int64_t id = lo[0]; id < hi[0]; ++id) {
                int64_t od = id * g.stride[0] - g.pad[0] + tap[0];
                for (int64_t ih = lo[1]; ih < hi[1]; ++ih) {
                  int64_t oh = ih * g.stride[1] - g.pad[1] + tap[1];
                  const float* xr = xi + (id * g.in[1] + ih) * g.in[2];
                  float* yr = yo + (od * g.out[1] + oh) * g.out[2] + shift;
                  for (int64_t iw = lo[2]; iw < hi[2]; ++iw) yr[iw * sw] += wv * xr[iw];
                }
              }
            }
      }
    }
  });
}

#ifdef T2T_WITH_ONEDNN
// Builds the oneDNN primitive for the geometry; returns false when oneDNN has no implementation for it.
bool build_onednn(const ConvolutionGeometry& g, bool transposed, const std::vector<float>& w,
                  const std::vector<float>& bias, dnn::Primitive* prim) {
  using dnnl::memory;
  const int nsp = g.nsp;
  const int64_t G = g.groups, cg = g.in_channels / G, kg = g.out_channels / G;
  memory::dims src{g.batch, g.in_channels}, dst{g.batch, g.out_channels};
  for (int i = 0; i < nsp; ++i) src.push_back(g.in[i]), dst.push_back(g.out[i]);
  for (auto d : src)
    if (d == 0) return false;
  for (auto d : dst)
    if (d == 0) return false;
  // oneDNN orders weights (groups, out/G, in/G, *k). PyTorch's convolution layout (K, C/G, *k) is that
  // layout densely; its transposed layout (C, K/G, *k) swaps the two channel strides.
  int64_t kvol = 1;
  for (int i = 0; i < nsp; ++i) kvol *= g.kernel[i];
  memory::dims wd, ws;
  if (G > 1) wd.push_back(G), ws.push_back(cg * kg * kvol);
  wd.push_back(kg);
  ws.push_back(transposed ? kvol : cg * kvol);
  wd.push_back(cg);
  ws.push_back(transposed ? kg * kvol : kvol);
  int64_t acc = kvol;
  for (int i = 0; i < nsp; ++i) {
    acc /= g.kernel[i];
    wd.push_back(g.kernel[i]);
    ws.push_back(acc);
  }
  memory::dims strides, dil, pl, pr;
  for (int i = 0; i < nsp; ++i) {
    strides.push_back(g.stride[i]);
    dil.push_back(g.dilation[i] - 1);  // oneDNN counts dilation from 0
    pl.push_back(g.pre[i]);
    // A rounded-down forward window may stop short of the input end (post_eff < 0); oneDNN wants the
    // padding that reproduces the extent, and 0 does. A transposed window's negative post_eff is
    // PyTorch's output_padding, which oneDNN takes as negative right padding.
    pr.push_back(transposed ? g.post_eff[i] : std::max<int64_t>(g.post_eff[i], 0));
  }
  // The primitive picks its own activation layouts (channel-blocked where that is faster, as PyTorch's
  // CPU convolution does); Primitive reorders the dense tensors into and out of them.
  memory::desc src_md = dnn::plain_f32(src), dst_md = dnn::plain_f32(dst);
  memory::desc any_src(src, memory::data_type::f32, memory::format_tag::any);
  memory::desc any_dst(dst, memory::data_type::f32, memory::format_tag::any);
  memory::desc user_w(wd, memory::data_type::f32, ws);
  memory::desc any_w(wd, memory::data_type::f32, memory::format_tag::any);
  memory::desc bias_md = bias.empty() ? memory::desc() : dnn::plain_f32({g.out_channels});
  try {
    dnnl::primitive_desc pd;
    if (transposed) {
      dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                          any_src, any_w, bias_md, any_dst, strides, dil, pl, pr);
      pd = dnnl::deconvolution_forward::primitive_desc(d, dnn::engine());
    } else {
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                        any_src, any_w, bias_md, any_dst, strides, dil, pl, pr);
      pd = dnnl::convolution_forward::primitive_desc(d, dnn::engine());
    }
    std::vector<std::pair<int, memory>> fixed = {
        {DNNL_ARG_WEIGHTS, dnn::reorder_to(user_w, w.data(), pd.weights_desc())}};
    if (!bias.empty())
      fixed.push_back({DNNL_ARG_BIAS, memory(bias_md, dnn::engine(), const_cast<float*>(bias.data()))});
    prim->init(pd, {{DNNL_ARG_SRC, src_md, pd.src_desc(), false}, {DNNL_ARG_DST, dst_md, pd.dst_desc(), true}}, fixed);
    return true;
  } catch (const dnnl::error&) {
    return false;  // no oneDNN implementation for this geometry: the direct loops run it
  }
}
#endif

// One kernel class for both layer kinds. It keeps a detached copy of the layer (parameters and name,
// weights shared) for the shape rule, so it does not depend on the network's lifetime.
template <class L>
class ConvKernel : public Kernel {
 public:
  ConvKernel(const L& layer, bool transposed) : transposed_(transposed) {
    layer_.p = layer.p;
    layer_.set_name(layer.name());
    w_ = layer.p.kernel.to_float();
    if (!layer.p.bias.empty()) b_ = layer.p.bias.to_float();
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    g_ = layer_.geometry(in[0].dims);
    use_dnn_ = false;
#ifdef T2T_WITH_ONEDNN
    if (onednn_enabled()) use_dnn_ = build_onednn(g_, transposed_, w_, b_, &prim_);
#endif
  }
  size_t workspace_size() const override {
#ifdef T2T_WITH_ONEDNN
    if (use_dnn_) return prim_.workspace_size();
#endif
    return 0;
  }
  void run(const KernelArgs& a) override {
    const float* x = a.in[0].as<float>();
    float* y = a.out[0].as<float>();
    const float* b = b_.empty() ? nullptr : b_.data();
#ifdef T2T_WITH_ONEDNN
    if (use_dnn_)
      prim_.run({const_cast<float*>(x), y}, a.workspace);
    else
#endif
    if (transposed_)
      ref_deconv(lift(g_), x, w_.data(), b, y);
    else
      ref_conv(lift(g_), x, w_.data(), b, y);
    const float* z = a.in.size() > 1 ? a.in[1].as<float>() : nullptr;
    if (z || layer_.p.has_activation) epilogue(z, y, a.out[0].numel());
  }
  // The fused epilogue after the bias: y = act(y + z), in place.
  void epilogue(const float* z, float* y, int64_t n) const {
    const ActivationParams act = layer_.p.activation;
    const bool has_act = layer_.p.has_activation;
    parallel_for(n, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        float v = z ? y[i] + z[i] : y[i];
        y[i] = has_act ? pw::activation<float>(act.type, v, act.alpha, act.beta) : v;
      }
    });
  }
  const char* impl_name() const override {
    if (use_dnn_) return transposed_ ? "onednn_deconv" : "onednn_conv";
    return transposed_ ? "ref_deconv" : "ref_conv";
  }

 private:
  L layer_;
  bool transposed_;
  std::vector<float> w_, b_;
  ConvolutionGeometry g_;
  bool use_dnn_ = false;
#ifdef T2T_WITH_ONEDNN
  dnn::Primitive prim_;
#endif
};

bool float_io(const std::vector<TensorDesc>& in, std::string* why, const char* what) {
  if (in[0].dtype == DataType::kFLOAT) return true;
  *why = std::string(what) + " on " + dtype_name(in[0].dtype) + " is not implemented on the CPU";
  return false;
}

}  // namespace

std::unique_ptr<Kernel> make_Convolution(const ConvolutionLayer& l, const std::vector<TensorDesc>& in,
                                         const std::vector<TensorDesc>&, std::string* why) {
  if (!float_io(in, why, "convolution")) return nullptr;
  if (l.p.channels_last) {
    ConvolutionLayer cf;  // the channels-first twin (the kernel copies what it needs)
    cf.p = l.p;
    cf.p.channels_last = false;
    cf.set_name(l.name());
    return channels_last_adapter(std::make_unique<ConvKernel<ConvolutionLayer>>(cf, false), l.p.kernel_size.nb_dims,
                                 {true, true});
  }
  return std::make_unique<ConvKernel<ConvolutionLayer>>(l, false);
}

std::unique_ptr<Kernel> make_Deconvolution(const DeconvolutionLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  if (!float_io(in, why, "deconvolution")) return nullptr;
  return std::make_unique<ConvKernel<DeconvolutionLayer>>(l, true);
}

}  // namespace torch2trt::cpu
