// CUDA pooling: one thread per output element, windowed (padding, dilation, ceil mode, count_include_pad)
// and adaptive, with the CPU kernel's semantics (PyTorch's).
#include <type_traits>

#include "backends/common/pool_window.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

template <class T>
__global__ void pool_kernel(PoolGeo3 g, PoolMode m, const T* __restrict__ x, T* __restrict__ y) {
  // float32 sums accumulate in double as on the CPU (global pools add thousands of values).
  using Acc = std::conditional_t<std::is_same_v<T, float>, double, float>;
  const int64_t isp = g.in[0] * g.in[1] * g.in[2];
  const int64_t total = g.outer * g.out[0] * g.out[1] * g.out[2] * g.inner;
  // Channels-last (inner > 1): neighbouring threads take neighbouring channels, so reads coalesce.
  const int64_t step = g.inner;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t ch = i % g.inner, t = i / g.inner;
    int64_t ow = t % g.out[2];
    t /= g.out[2];
    int64_t oh = t % g.out[1];
    t /= g.out[1];
    int64_t od = t % g.out[0], plane = t / g.out[0];
    const T* xp = x + plane * isp * step + ch;
    PoolTaps td = pool_window_taps(g, 0, od, m.adaptive), th = pool_window_taps(g, 1, oh, m.adaptive),
         tw = pool_window_taps(g, 2, ow, m.adaptive);
    float mx = -INFINITY;
    Acc sum = 0;
    for (int64_t a = 0; a < td.count; ++a)
      for (int64_t b = 0; b < th.count; ++b) {
        const T* xr = xp + (((td.first + a * td.step) * g.in[1] + th.first + b * th.step) * g.in[2] + tw.first) * step;
        for (int64_t c = 0; c < tw.count; ++c) {
          float v = to_float(xr[c * tw.step * step]);
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
    g_ = lift_pool_geometry(layer_.geometry(in[0].dims));
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
  PoolGeo3 g_;
};

}  // namespace

std::unique_ptr<Kernel> make_Pooling(const PoolingLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Pooling on " + dt(in[0].dtype));
  return std::make_unique<PoolKernel>(l);
}

}  // namespace torch2trt::gpu
