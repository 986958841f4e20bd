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

// Global pooling (one window covering every spatial position, as adaptive 1x1 pooling): a parallel
// reduction per output instead of one thread looping over the whole plane. Element (o, s, c) is at
// (o * sp + s) * inner + c; channels-first planes have inner = 1. A block of 32 x 8 threads takes 32
// channels (32 planes' worth of lanes when inner = 1 would not coalesce, so there the 256 threads split
// one plane).
template <class T>
__global__ void global_pool(int64_t inner, int64_t sp, PoolMode m, const T* __restrict__ x, T* __restrict__ y) {
  using Acc = std::conditional_t<std::is_same_v<T, float>, double, float>;
  __shared__ Acc sums[256];
  __shared__ float maxes[256];
  const int tid = threadIdx.y * 32 + threadIdx.x;
  const int64_t o = blockIdx.x;
  int64_t c, s0, step;
  if (inner > 1) {
    c = blockIdx.y * 32 + threadIdx.x, s0 = threadIdx.y, step = 8;
  } else {
    c = 0, s0 = tid, step = 256;
  }
  Acc sum = 0;
  float mx = -INFINITY;
  if (c < inner)
    for (int64_t s = s0; s < sp; s += step) {
      float v = to_float(x[(o * sp + s) * inner + c]);
      if (v > mx || v != v) mx = mx != mx ? mx : v;  // NaN propagates, as in PyTorch
      sum += v;
    }
  sums[tid] = sum, maxes[tid] = mx;
  __syncthreads();
  // inner > 1: reduce the 8 rows of each lane; inner = 1: reduce all 256 threads.
  for (int w = (inner > 1 ? 4 : 128); w >= 1; w /= 2) {
    const int stride = inner > 1 ? w * 32 : w;
    if ((inner > 1 ? threadIdx.y < w : tid < w)) {
      sums[tid] += sums[tid + stride];
      float b = maxes[tid + stride];
      float a = maxes[tid];
      maxes[tid] = (b > a || b != b) && a == a ? b : a;
    }
    __syncthreads();
  }
  if ((inner > 1 ? threadIdx.y == 0 : tid == 0) && c < inner) {
    float avg = sp > 0 ? static_cast<float>(sums[tid] / static_cast<Acc>(sp)) : 0.f;
    float r = m.type == PoolingType::kMAX       ? maxes[tid]
              : m.type == PoolingType::kAVERAGE ? avg
                                                : (1.f - m.blend) * maxes[tid] + m.blend * avg;
    y[o * inner + c] = from_float<T>(r);
  }
}

// True when the one output window of every plane covers the whole input without padding.
bool is_global(const PoolGeo3& g, bool adaptive) {
  for (int a = 0; a < 3; ++a) {
    if (g.out[a] != 1) return false;
    if (!adaptive && (g.pre[a] != 0 || g.post[a] != 0 || g.win[a] != g.in[a] || g.dil[a] != 1)) return false;
  }
  return g.in[0] * g.in[1] * g.in[2] > 0;
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
    global_ = is_global(g_, mode_.adaptive) && g_.inner < 65536 * 32;
  }
  void run(const KernelArgs& a) override {
    dispatch_float(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      int64_t n = a.out[0].numel();
      if (global_ && g_.outer < 65536 * 1024) {
        dim3 grid(static_cast<unsigned>(g_.outer), static_cast<unsigned>((g_.inner + 31) / 32));
        global_pool<T><<<grid, dim3(32, 8), 0, stream_of(a)>>>(g_.inner, g_.in[0] * g_.in[1] * g_.in[2], mode_,
                                                                 a.in[0].as<const T>(), a.out[0].as<T>());
        return;
      }
      pool_kernel<T><<<grid_1d(n), kBlock, 0, stream_of(a)>>>(g_, mode_, a.in[0].as<const T>(), a.out[0].as<T>());
    });
    check_launch("pooling");
  }
  const char* impl_name() const override { return global_ ? "cuda_global_pool" : "cuda_pool"; }

 private:
  PoolingLayer layer_;
  PoolMode mode_;
  PoolGeo3 g_;
  bool global_ = false;
};

}  // namespace

std::unique_ptr<Kernel> make_Pooling(const PoolingLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Pooling on " + dt(in[0].dtype));
  return std::make_unique<PoolKernel>(l);
}

}  // namespace torch2trt::gpu
