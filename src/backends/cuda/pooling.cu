// CUDA pooling, windowed (padding, dilation, ceil mode, count_include_pad) and adaptive, with the CPU
// kernel's semantics (PyTorch's): a block reduction per output for global windows, vector loads for
// channels-last 2-D windows (pool_cl2d), one thread per output element for the rest.
#include <algorithm>
#include <type_traits>

#include "backends/common/pool_window.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/vector_io.cuh"

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

// Channels-last windowed pooling over two spatial dims (PoolGeo3's depth a unit dim: in, out and window 1,
// no padding), as after ResNet's stem: one thread per (output pixel, V channels) with V-element vector
// loads, 32-bit indices (the caller checks the sizes fit) and the window's taps computed once per thread.
// pool_kernel spent its time on 64-bit index math and window logic repeated for every element. The sums
// run in pool_kernel's order, so the results are the same. Thread t covers output pixel t / (inner / V),
// channels (t % (inner / V)) * V + [0, V): the output elements t * V + [0, V).
template <class T, int V>
__global__ void pool_cl2d(PoolGeo3 g, PoolMode m, uint32_t threads, FastDiv groups, FastDiv out_w, FastDiv out_h,
                          const T* __restrict__ x, T* __restrict__ y) {
  using Acc = std::conditional_t<std::is_same_v<T, float>, double, float>;
  const uint32_t in_w = static_cast<uint32_t>(g.in[2]), in_h = static_cast<uint32_t>(g.in[1]);
  const uint32_t inner = static_cast<uint32_t>(g.inner);
  for (uint32_t t = blockIdx.x * blockDim.x + threadIdx.x; t < threads; t += gridDim.x * blockDim.x) {
    const uint32_t pix = groups.div(t), ch = (t - pix * groups.d) * V;
    const uint32_t row = out_w.div(pix), ow = pix - row * out_w.d;
    const uint32_t plane = out_h.div(row), oh = row - plane * out_h.d;
    const PoolTaps th = pool_window_taps(g, 1, oh, false), tw = pool_window_taps(g, 2, ow, false);
    const uint32_t h0 = static_cast<uint32_t>(th.first), hstep = static_cast<uint32_t>(th.step);
    const uint32_t w0 = static_cast<uint32_t>(tw.first), wstep = static_cast<uint32_t>(tw.step);
    const int hn = static_cast<int>(th.count), wn = static_cast<int>(tw.count);
    const T* xp = x + plane * in_h * in_w * inner + ch;
    float mx[V];
    Acc sum[V];
#pragma unroll
    for (int j = 0; j < V; ++j) mx[j] = -INFINITY, sum[j] = 0;
    for (int b = 0; b < hn; ++b) {
      const T* xr = xp + ((h0 + b * hstep) * in_w + w0) * inner;
      for (int c = 0; c < wn; ++c) {
        const Pack<T, V> p = load_pack<T, V>(xr + c * wstep * inner);
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const float v = to_float(p.v[j]);
          if (v > mx[j] || v != v) mx[j] = mx[j] != mx[j] ? mx[j] : v;  // NaN propagates, as in PyTorch
          sum[j] += v;
        }
      }
    }
    // The depth dim contributes one tap and a padded extent of 1, so these are pool_kernel's divisors.
    const int64_t n = m.exclude_padding ? th.count * tw.count : th.padded * tw.padded;
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const float avg = n > 0 ? static_cast<float>(sum[j] / static_cast<Acc>(n)) : 0.f;
      const float r = m.type == PoolingType::kMAX       ? mx[j]
                      : m.type == PoolingType::kAVERAGE ? avg
                                                        : (1.f - m.blend) * mx[j] + m.blend * avg;
      out.v[j] = from_float<T>(r);
    }
    store_pack<T, V>(y + static_cast<size_t>(t) * V, out);
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

// Global pooling of channels-last planes (inner > 1 channels innermost): blocks of tx x ty threads, tx lanes
// taking V channels each (one vector load per position), ty rows striding the positions. At batch 1 a plane
// is one block per 32 channel vectors (EfficientNet's first squeeze-excite pool, 112 x 112 x 32 half: one
// block, 10 us on an H200), so the positions are also split among `splits` blocks (gridDim.z): each leaves
// its partial sum and max in `part`, and the block of a (plane, channel group) that arrives last, counted in
// `done` (which it resets for the next run), combines the partials in split order and writes the output.
template <class T, int V>
__global__ void global_pool_cl(uint32_t inner, uint32_t sp, uint32_t rows_per_split, PoolMode m,
                               const T* __restrict__ x, T* __restrict__ y, void* part, unsigned* done) {
  using Acc = std::conditional_t<std::is_same_v<T, float>, double, float>;
  __shared__ Acc s_sum[256 * V];
  __shared__ float s_max[256 * V];
  __shared__ bool s_last;
  const uint32_t tx = blockDim.x, ty = blockDim.y, lane = threadIdx.x, row = threadIdx.y;
  const uint32_t o = blockIdx.y, split = blockIdx.z, splits = gridDim.z;
  const uint32_t c0 = (blockIdx.x * tx + lane) * V;
  const bool active = c0 < inner;
  Acc sum[V];
  float mx[V];
#pragma unroll
  for (int j = 0; j < V; ++j) sum[j] = 0, mx[j] = -INFINITY;
  auto take_max = [](float& a, float v) {
    if (v > a || v != v) a = a != a ? a : v;  // NaN propagates, as in PyTorch
  };
  // Sums the ty rows of each lane into row 0 (in shared memory, in a fixed order).
  auto reduce_rows = [&]() {
#pragma unroll
    for (int j = 0; j < V; ++j) s_sum[(row * tx + lane) * V + j] = sum[j], s_max[(row * tx + lane) * V + j] = mx[j];
    __syncthreads();
    uint32_t w = 1;
    while (w < ty) w *= 2;
    for (w /= 2; w >= 1; w /= 2) {
      if (row < w && row + w < ty) {
        const uint32_t a = (row * tx + lane) * V, b = ((row + w) * tx + lane) * V;
#pragma unroll
        for (int j = 0; j < V; ++j) {
          s_sum[a + j] += s_sum[b + j];
          take_max(s_max[a + j], s_max[b + j]);
        }
      }
      __syncthreads();
    }
  };
  if (active) {
    const uint32_t s_end = min(sp, (split + 1) * rows_per_split);
    const T* xp = x + static_cast<size_t>(o) * sp * inner + c0;
    for (uint32_t s = split * rows_per_split + row; s < s_end; s += ty) {
      const Pack<T, V> p = load_pack<T, V>(xp + static_cast<size_t>(s) * inner);
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float v = to_float(p.v[j]);
        take_max(mx[j], v);
        sum[j] += v;
      }
    }
  }
  reduce_rows();
  if (splits > 1) {
    Acc* psum = static_cast<Acc*>(part);
    float* pmax = reinterpret_cast<float*>(psum + static_cast<size_t>(gridDim.y) * splits * inner);
    const size_t at = (static_cast<size_t>(o) * splits + split) * inner + c0;
    if (row == 0 && active)
#pragma unroll
      for (int j = 0; j < V; ++j) psum[at + j] = s_sum[lane * V + j], pmax[at + j] = s_max[lane * V + j];
    __threadfence();
    __syncthreads();
    if (row == 0 && lane == 0) {
      unsigned* counter = done + o * gridDim.x + blockIdx.x;
      s_last = atomicAdd(counter, 1u) == splits - 1;
      if (s_last) *counter = 0;  // ready for the next run (this launch's other blocks have all counted)
    }
    __syncthreads();
    if (!s_last) return;
    __threadfence();
    // The last block: every split's partials for its channels, rows striding the splits in order.
#pragma unroll
    for (int j = 0; j < V; ++j) sum[j] = 0, mx[j] = -INFINITY;
    if (active)
      for (uint32_t k = row; k < splits; k += ty) {
        const size_t src = (static_cast<size_t>(o) * splits + k) * inner + c0;
#pragma unroll
        for (int j = 0; j < V; ++j) {
          sum[j] += __ldcg(psum + src + j);
          take_max(mx[j], __ldcg(pmax + src + j));
        }
      }
    __syncthreads();
    reduce_rows();
  }
  if (row == 0 && active) {
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const float avg = sp > 0 ? static_cast<float>(s_sum[lane * V + j] / static_cast<Acc>(sp)) : 0.f;
      const float mj = s_max[lane * V + j];
      const float r = m.type == PoolingType::kMAX       ? mj
                      : m.type == PoolingType::kAVERAGE ? avg
                                                        : (1.f - m.blend) * mj + m.blend * avg;
      out.v[j] = from_float<T>(r);
    }
    store_pack<T, V>(y + static_cast<size_t>(o) * inner + c0, out);
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
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    g_ = lift_pool_geometry(layer_.geometry(in[0].dims));
    global_ = is_global(g_, mode_.adaptive) && g_.inner < 65536 * 32;
    // Channels-last global pools take global_pool_cl (32-bit indices, planes on grid.y).
    const int64_t sp = g_.in[0] * g_.in[1] * g_.in[2];
    global_cl_ = global_ && g_.inner > 1 && g_.outer < 65536 && in[0].dims.volume() < (int64_t(1) << 31);
    if (global_cl_) {
      const size_t acc = in[0].dtype == DataType::kFLOAT ? sizeof(double) : sizeof(float);
      size_t part = 0, done = 0;
      for (int v : {16 / static_cast<int>(dtype_size(in[0].dtype)), 2, 1}) {
        if (g_.inner % v) continue;
        const GlobalPlan p = global_plan(v, sp);
        if (p.splits > 1) {
          part = std::max(part, static_cast<size_t>(g_.outer) * p.splits * g_.inner * (acc + sizeof(float)));
          done = std::max(done, static_cast<size_t>(g_.outer) * p.groups * sizeof(unsigned));
        }
      }
      if (part > part_.size()) part_.allocate(part);
      done_.ensure_zeroed(done);  // the last block of each run resets its counter
    }
    // pool_cl2d: channels-last windows over two spatial dims, every index below 2^31.
    constexpr int64_t kLim = int64_t(1) << 31;
    const int64_t in_n = in[0].dims.volume(), out_n = out[0].dims.volume();
    cl2d_ = !global_ && !mode_.adaptive && g_.inner > 1 && g_.in[0] == 1 && g_.out[0] == 1 && g_.win[0] == 1 &&
            g_.pre[0] == 0 && g_.post[0] == 0 && in_n > 0 && out_n > 0 && in_n < kLim && out_n < kLim;
  }
  void run(const KernelArgs& a) override {
    dispatch_float(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      int64_t n = a.out[0].numel();
      if (global_cl_) {
        run_global_cl<T>(a.in[0].as<const T>(), a.out[0].as<T>(), stream_of(a));
        check_launch("global_pool_channels_last");
      } else if (global_ && g_.outer < 65536 * 1024) {
        dim3 grid(static_cast<unsigned>(g_.outer), static_cast<unsigned>((g_.inner + 31) / 32));
        global_pool<T><<<grid, dim3(32, 8), 0, stream_of(a)>>>(g_.inner, g_.in[0] * g_.in[1] * g_.in[2], mode_,
                                                                 a.in[0].as<const T>(), a.out[0].as<T>());
        check_launch("global_pool");
      } else if (cl2d_) {
        run_cl2d<T>(a.in[0].as<const T>(), a.out[0].as<T>(), stream_of(a));
        check_launch("pool_channels_last_2d");
      } else {
        pool_kernel<T><<<grid_1d(n), kBlock, 0, stream_of(a)>>>(g_, mode_, a.in[0].as<const T>(), a.out[0].as<T>());
        check_launch("pooling");
      }
    });
  }
  const char* impl_name() const override {
    return global_cl_ ? "cuda_global_pool_channels_last"
           : global_  ? "cuda_global_pool"
           : cl2d_    ? "cuda_pool_channels_last_2d"
                      : "cuda_pool";
  }

 private:
  // The widest channel vector the channel count and the pointers allow: 16 bytes, else 2 channels, else 1
  // (an image's 3 channels, a view at an odd offset). Calls f(std::integral_constant<int, V>) for it.
  template <class T, class F>
  void with_vector_width(const T* x, const T* y, F&& f) const {
    constexpr int kWide = 16 / sizeof(T);
    auto fits = [&](int v) {
      const size_t bytes = v * sizeof(T);
      return g_.inner % v == 0 && is_aligned(x, bytes) && is_aligned(y, bytes);
    };
    if (fits(kWide))
      f(std::integral_constant<int, kWide>{});
    else if (fits(2))
      f(std::integral_constant<int, 2>{});
    else
      f(std::integral_constant<int, 1>{});
  }
  template <class T>
  void run_cl2d(const T* x, T* y, cudaStream_t s) {
    with_vector_width(x, y, [&](auto v) { launch_cl2d<T, decltype(v)::value>(x, y, s); });
  }
  // global_pool_cl's launch for V-channel vectors: tx lanes (at most 32) over the channel vectors, 256 / tx
  // rows, and the positions split so that about two blocks per multiprocessor run, each thread loading at
  // least twice.
  struct GlobalPlan {
    uint32_t tx, ty, groups, splits, rows;
  };
  GlobalPlan global_plan(int v, int64_t sp) const {
    GlobalPlan p;
    const uint32_t vecs = static_cast<uint32_t>(g_.inner / v);
    p.tx = std::min<uint32_t>(vecs, 32);
    p.ty = 256 / p.tx;
    p.groups = (vecs + p.tx - 1) / p.tx;
    const int64_t blocks = g_.outer * p.groups, target = 2 * static_cast<int64_t>(sm_count());
    int64_t splits = 1;
    if (blocks < target) splits = std::max<int64_t>(1, std::min((target + blocks - 1) / blocks, sp / (2 * p.ty)));
    const int64_t rows = std::max<int64_t>(1, (sp + splits - 1) / splits);
    p.rows = static_cast<uint32_t>(rows);
    p.splits = static_cast<uint32_t>(std::max<int64_t>(1, (sp + rows - 1) / rows));
    return p;
  }
  template <class T>
  void run_global_cl(const T* x, T* y, cudaStream_t s) {
    with_vector_width(x, y, [&](auto v) { launch_global_cl<T, decltype(v)::value>(x, y, s); });
  }
  template <class T, int V>
  void launch_global_cl(const T* x, T* y, cudaStream_t s) {
    const int64_t sp = g_.in[0] * g_.in[1] * g_.in[2];
    const GlobalPlan p = global_plan(V, sp);
    global_pool_cl<T, V><<<dim3(p.groups, static_cast<unsigned>(g_.outer), p.splits), dim3(p.tx, p.ty), 0, s>>>(
        static_cast<uint32_t>(g_.inner), static_cast<uint32_t>(sp), p.rows, mode_, x, y, part_.get(),
        done_.as<unsigned>());
  }
  template <class T, int V>
  void launch_cl2d(const T* x, T* y, cudaStream_t s) {
    const int64_t threads = g_.outer * g_.out[1] * g_.out[2] * (g_.inner / V);
    pool_cl2d<T, V><<<grid_1d(threads), kBlock, 0, s>>>(
        g_, mode_, static_cast<uint32_t>(threads), FastDiv(static_cast<uint32_t>(g_.inner / V)),
        FastDiv(static_cast<uint32_t>(g_.out[2])), FastDiv(static_cast<uint32_t>(g_.out[1])), x, y);
  }

  PoolingLayer layer_;
  PoolMode mode_;
  PoolGeo3 g_;
  bool global_ = false;
  bool global_cl_ = false;  // global_pool_cl runs
  DeviceBuffer part_, done_;  // its partial sums and maxima, and arrival counters (zero between runs)
  bool cl2d_ = false;  // pool_cl2d runs (decided at reshape; its vector width at run time, by the pointers)
};

}  // namespace

std::unique_ptr<Kernel> make_Pooling(const PoolingLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Pooling on " + dt(in[0].dtype));
  return std::make_unique<PoolKernel>(l);
}

}  // namespace torch2trt::gpu
