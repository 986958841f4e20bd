// CUDA pooling: one thread per output element, windowed (padding, dilation, ceil mode, count_include_pad)
// and adaptive, with the CPU kernel's semantics (PyTorch's).
#include <type_traits>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// The geometry with 1-D and 2-D cases lifted to 3-D (leading unit dimensions).
struct Geo3 {
  int64_t outer = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, win[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1};
  int64_t pre[3] = {0, 0, 0}, post[3] = {0, 0, 0};
};

Geo3 lift(const PoolingGeometry& g) {
  Geo3 r;
  r.outer = g.outer;
  int off = 3 - g.nsp;
  for (int i = 0; i < g.nsp; ++i) {
    r.in[off + i] = g.in[i];
    r.out[off + i] = g.out[i];
    r.win[off + i] = g.window[i];
    r.stride[off + i] = g.stride[i];
    r.dil[off + i] = g.dilation[i];
    r.pre[off + i] = g.pre[i];
    r.post[off + i] = g.post[i];
  }
  return r;
}

struct PoolMode {
  PoolingType type;
  bool adaptive, exclude_padding;
  float blend;
};

// The input taps of output position o along one dimension: [first, first + count*step) within the input,
// and the divisor PyTorch's count_include_pad uses (the window clipped to the declared padding).
struct Taps {
  int64_t first, count, step, padded;
};

__device__ __forceinline__ Taps window_taps(const Geo3& g, int a, int64_t o, bool adaptive) {
  if (adaptive) {
    // PyTorch: start = floor(o * in / out), end = ceil((o + 1) * in / out).
    int64_t s = o * g.in[a] / g.out[a];
    int64_t e = ((o + 1) * g.in[a] + g.out[a] - 1) / g.out[a];
    return {s, e - s, 1, e - s};
  }
  int64_t start = o * g.stride[a] - g.pre[a], d = g.dil[a];
  int64_t k_lo = start >= 0 ? 0 : (-start + d - 1) / d;
  int64_t k_hi = min(g.win[a], (g.in[a] - 1 - start) / d + 1);  // start <= in - 1 by the shape rule
  int64_t padded = min(start + g.win[a], g.in[a] + g.post[a]) - start;
  return {start + k_lo * d, max(k_hi - k_lo, int64_t(0)), d, padded};
}

template <class T>
__global__ void pool_kernel(Geo3 g, PoolMode m, const T* __restrict__ x, T* __restrict__ y) {
  // float32 sums accumulate in double as on the CPU (global pools add thousands of values).
  using Acc = std::conditional_t<std::is_same_v<T, float>, double, float>;
  const int64_t isp = g.in[0] * g.in[1] * g.in[2];
  const int64_t total = g.outer * g.out[0] * g.out[1] * g.out[2];
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t ow = i % g.out[2], t = i / g.out[2];
    int64_t oh = t % g.out[1];
    t /= g.out[1];
    int64_t od = t % g.out[0], plane = t / g.out[0];
    const T* xp = x + plane * isp;
    Taps td = window_taps(g, 0, od, m.adaptive), th = window_taps(g, 1, oh, m.adaptive),
         tw = window_taps(g, 2, ow, m.adaptive);
    float mx = -INFINITY;
    Acc sum = 0;
    for (int64_t a = 0; a < td.count; ++a)
      for (int64_t b = 0; b < th.count; ++b) {
        const T* xr = xp + ((td.first + a * td.step) * g.in[1] + th.first + b * th.step) * g.in[2] + tw.first;
        for (int64_t c = 0; c < tw.count; ++c) {
          float v = to_float(xr[c * tw.step]);
          if (v > mx || v != v) mx = mx != mx ? mx : v;  // NaN propagates, as in PyTorch
          sum += v;
        }
      }
    int64_t n = m.exclude_padding || m.adaptive ? td.count * th.count * tw.count : td.padded * th.padded * tw.padded;
    float avg = n > 0 ? static_cast<float>(sum / static_cast<Acc>(n)) : 0.f;
    float r = m.type == PoolingType::kMAX       ? mx
              : m.type == PoolingType::kAVERAGE ? avg
                                                : (1.f - m.blend) * mx + m.blend * avg;
    y[i] = from_float<T>(r);
  }
}

class PoolKernel : public Kernel {
 public:
  explicit PoolKernel(const PoolingLayer& layer) {
    // A detached copy for the geometry, so the kernel does not depend on the network's lifetime.
    layer_.p = layer.p;
    layer_.set_name(layer.name());
    mode_ = {layer.p.type, layer.p.adaptive, layer.p.average_count_excludes_padding, layer.p.blend_factor};
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    g_ = lift(layer_.geometry(in[0].dims));
  }
  void run(const KernelArgs& a) override {
    dispatch_float(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      int64_t n = a.out[0].numel();
      pool_kernel<T><<<grid_1d(n), kBlock, 0, stream_of(a)>>>(g_, mode_, a.in[0].as<const T>(), a.out[0].as<T>());
    });
    check_launch("pooling");
  }
  const char* impl_name() const override { return "cuda_pool"; }

 private:
  PoolingLayer layer_;
  PoolMode mode_;
  Geo3 g_;
};

}  // namespace

std::unique_ptr<Kernel> make_Pooling(const PoolingLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Pooling on " + dt(in[0].dtype));
  return std::make_unique<PoolKernel>(l);
}

}  // namespace torch2trt::gpu
