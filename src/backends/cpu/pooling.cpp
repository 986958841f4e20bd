// CPU pooling: oneDNN primitives for uniform windows, direct loops for the rest (adaptive windows that do
// not divide evenly, average counts oneDNN does not reproduce) and for builds without oneDNN.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "backends/common/pool_window.h"
#include "backends/cpu/channels_last.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/onednn_util.h"

namespace torch2trt::cpu {
namespace {

void ref_pool(const PoolGeo3& g, const PoolMode& m, const float* x, float* y) {
  const int64_t isp = g.in[0] * g.in[1] * g.in[2];
  const int64_t rows = g.outer * g.out[0] * g.out[1];
  parallel_for(rows, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t oh = r % g.out[1], od = (r / g.out[1]) % g.out[0], plane = r / (g.out[1] * g.out[0]);
      const float* xp = x + plane * isp;
      float* yr = y + r * g.out[2];
      PoolTaps td = pool_window_taps(g, 0, od, m.adaptive), th = pool_window_taps(g, 1, oh, m.adaptive);
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        PoolTaps tw = pool_window_taps(g, 2, ow, m.adaptive);
        float mx = -std::numeric_limits<float>::infinity();
        double sum = 0;
        for (int64_t i = 0; i < td.count; ++i)
          for (int64_t j = 0; j < th.count; ++j) {
            const float* xr = xp + ((td.first + i * td.step) * g.in[1] + th.first + j * th.step) * g.in[2] + tw.first;
            for (int64_t k = 0; k < tw.count; ++k) {
              float v = xr[k * tw.step];
              mx = std::max(mx, v);
              if (std::isnan(v)) mx = v;  // PyTorch propagates NaN through max pooling
              sum += v;
            }
          }
        int64_t n = m.exclude_padding || m.adaptive ? td.count * th.count * tw.count : td.padded * th.padded * tw.padded;
        float avg = n > 0 ? static_cast<float>(sum / static_cast<double>(n)) : 0.f;
        switch (m.type) {
          case PoolingType::kMAX: yr[ow] = mx; break;
          case PoolingType::kAVERAGE: yr[ow] = avg; break;
          case PoolingType::kMAX_AVERAGE_BLEND: yr[ow] = (1.f - m.blend) * mx + m.blend * avg; break;
        }
      }
    }
  });
}

#ifdef T2T_WITH_ONEDNN
// Builds a oneDNN pooling; false when oneDNN cannot reproduce this case (or has no implementation).
bool build_onednn(const PoolingGeometry& pg, bool adaptive, dnnl::algorithm alg, dnn::Primitive* prim) {
  using dnnl::memory;
  PoolingGeometry g = pg;
  if (adaptive) {
    // Evenly dividing adaptive windows are ordinary windows of in/out elements.
    for (int i = 0; i < g.nsp; ++i) {
      if (g.in[i] % g.out[i] != 0) return false;
      g.window[i] = g.stride[i] = g.in[i] / g.out[i];
    }
  }
  // The planes go in the channel dimension, so oneDNN can pool them channels-last with its vectorized
  // kernels (its plain-layout pooling is a scalar loop).
  memory::dims src{1, g.outer}, dst{1, g.outer}, ker, strides, dil, pl, pr;
  for (int i = 0; i < g.nsp; ++i) {
    src.push_back(g.in[i]);
    dst.push_back(g.out[i]);
    ker.push_back(g.window[i]);
    strides.push_back(g.stride[i]);
    dil.push_back(g.dilation[i] - 1);
    pl.push_back(g.pre[i]);
    pr.push_back(std::max<int64_t>(g.post_eff[i], 0));  // see convolution.cpp: 0 reproduces a rounded-down extent
    // oneDNN divides by the whole window under include-padding; PyTorch clips it to the declared padding,
    // which differs only where a rounded-up window reaches past that padding.
    if (alg == dnnl::algorithm::pooling_avg_include_padding && g.post_eff[i] > g.post[i]) return false;
  }
  for (auto d : src)
    if (d == 0) return false;
  using tag = memory::format_tag;
  const tag channels_last = g.nsp == 1 ? tag::nwc : g.nsp == 2 ? tag::nhwc : tag::ndhwc;
  memory::desc src_md = dnn::plain_f32(src), dst_md = dnn::plain_f32(dst);
  memory::desc src_cl(src, memory::data_type::f32, channels_last);
  memory::desc any_dst(dst, memory::data_type::f32, tag::any);
  try {
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, src_cl, any_dst, strides, ker, dil, pl, pr);
    dnnl::pooling_v2_forward::primitive_desc pd(d, dnn::engine());
    prim->init(pd, {{DNNL_ARG_SRC, src_md, src_cl, false}, {DNNL_ARG_DST, dst_md, pd.dst_desc(), true}});
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}
#endif

#ifdef T2T_WITH_ONEDNN
// Whether any of the n floats at x is NaN (one vectorizable pass; the max pooling's read is far costlier).
bool has_nan(const float* x, int64_t n) {
  std::atomic<bool> found{false};
  parallel_for(n, 1 << 16, [&](int64_t s, int64_t e) {
    bool f = false;
    for (int64_t i = s; i < e; ++i) f |= x[i] != x[i];
    if (f) found.store(true, std::memory_order_relaxed);
  });
  return found.load();
}
#endif

class PoolKernel : public Kernel {
 public:
  explicit PoolKernel(const PoolingLayer& layer) {
    // A detached copy for the shape rule, so the kernel does not depend on the network's lifetime.
    layer_.p = layer.p;
    layer_.set_name(layer.name());
    mode_ = {layer.p.type, layer.p.adaptive, layer.p.average_count_excludes_padding, layer.p.blend_factor};
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    g_ = layer_.geometry(in[0].dims);
    out_numel_ = out[0].dims.volume();
    use_dnn_ = false;
#ifdef T2T_WITH_ONEDNN
    if (!onednn_enabled()) return;
    auto avg = mode_.exclude_padding ? dnnl::algorithm::pooling_avg_exclude_padding
                                     : dnnl::algorithm::pooling_avg_include_padding;
    switch (mode_.type) {
      case PoolingType::kMAX: use_dnn_ = build_onednn(g_, mode_.adaptive, dnnl::algorithm::pooling_max, &max_); break;
      case PoolingType::kAVERAGE: use_dnn_ = build_onednn(g_, mode_.adaptive, avg, &avg_); break;
      case PoolingType::kMAX_AVERAGE_BLEND:
        use_dnn_ = build_onednn(g_, mode_.adaptive, dnnl::algorithm::pooling_max, &max_) &&
                   build_onednn(g_, mode_.adaptive, avg, &avg_);
        break;
    }
#endif
  }
  // oneDNN path: each primitive's reorder scratch, then (blend) the average's result.
  size_t workspace_size() const override {
#ifdef T2T_WITH_ONEDNN
    if (!use_dnn_) return 0;
    switch (mode_.type) {
      case PoolingType::kMAX: return max_.workspace_size();
      case PoolingType::kAVERAGE: return avg_.workspace_size();
      case PoolingType::kMAX_AVERAGE_BLEND:
        return max_.workspace_size() + avg_.workspace_size() + static_cast<size_t>(out_numel_) * 4;
    }
#endif
    return 0;
  }
  void run(const KernelArgs& a) override {
    const float* x = a.in[0].as<float>();
    float* y = a.out[0].as<float>();
#ifdef T2T_WITH_ONEDNN
    // oneDNN's max drops NaN where PyTorch's max pooling propagates it: an input holding NaN takes the loops.
    if (use_dnn_ && (mode_.type == PoolingType::kAVERAGE || !has_nan(x, a.in[0].numel()))) {
      void* xp = const_cast<float*>(x);
      auto* ws = static_cast<uint8_t*>(a.workspace);
      switch (mode_.type) {
        case PoolingType::kMAX: max_.run({xp, y}, ws); return;
        case PoolingType::kAVERAGE: avg_.run({xp, y}, ws); return;
        case PoolingType::kMAX_AVERAGE_BLEND: {
          float* avg = reinterpret_cast<float*>(ws + max_.workspace_size() + avg_.workspace_size());
          max_.run({xp, y}, ws);
          avg_.run({xp, avg}, ws + max_.workspace_size());
          const float b = mode_.blend;
          parallel_for(out_numel_, 1 << 14, [&](int64_t s, int64_t e) {
            for (int64_t i = s; i < e; ++i) y[i] = (1.f - b) * y[i] + b * avg[i];
          });
          return;
        }
      }
    }
#endif
    ref_pool(lift_pool_geometry(g_), mode_, x, y);
  }
  const char* impl_name() const override { return use_dnn_ ? "onednn_pool" : "ref_pool"; }

 private:
  PoolingLayer layer_;
  PoolMode mode_;
  PoolingGeometry g_;
  int64_t out_numel_ = 0;
  bool use_dnn_ = false;
#ifdef T2T_WITH_ONEDNN
  dnn::Primitive max_, avg_;
#endif
};

}  // namespace

std::unique_ptr<Kernel> make_Pooling(const PoolingLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  if (in[0].dtype != DataType::kFLOAT) {
    *why = std::string("pooling on ") + dtype_name(in[0].dtype) + " is not implemented on the CPU";
    return nullptr;
  }
  if (l.p.channels_last) {
    PoolingLayer cf;  // the channels-first twin (the kernel copies what it needs)
    cf.p = l.p;
    cf.p.channels_last = false;
    cf.set_name(l.name());
    int nsp = l.p.adaptive ? l.p.output_size.nb_dims : l.p.window_size.nb_dims;
    return channels_last_adapter(std::make_unique<PoolKernel>(cf), nsp, {true});
  }
  return std::make_unique<PoolKernel>(l);
}

}  // namespace torch2trt::cpu
