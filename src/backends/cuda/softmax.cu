#include <cfloat>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

constexpr int kMaxRowBlock = 512;

__device__ __forceinline__ float max_nan(float a, float b) { return (a != a || a > b) ? a : b; }

// x - max, safe when the max is -inf (every value -inf): the CPU kernel and torch use 0 there.
__device__ __forceinline__ float fix_max(float m) { return m == -INFINITY ? 0.f : m; }

// One block per row of n contiguous values (softmax over the last non-trivial axis).
template <class T>
__global__ void softmax_rows(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t n, bool log_out) {
  __shared__ float smem[kMaxRowBlock];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * n;
    T* yr = y + row * n;
    float m = -INFINITY;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) m = max_nan(m, to_float(xr[k]));
    m = fix_max(block_reduce(m, max_nan, smem));
    float s = 0.f;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += expf(to_float(xr[k]) - m);
    s = block_reduce(s, [](float a, float b) { return a + b; }, smem);
    if (log_out) {
      float shift = m + logf(s);
      for (int64_t k = threadIdx.x; k < n; k += blockDim.x) yr[k] = from_float<T>(to_float(xr[k]) - shift);
    } else {
      float inv = 1.f / s;
      for (int64_t k = threadIdx.x; k < n; k += blockDim.x) yr[k] = from_float<T>(expf(to_float(xr[k]) - m) * inv);
    }
  }
}

// One thread per (outer, inner) column when the axis is not the innermost: neighbouring threads read
// neighbouring addresses at every step along the axis.
template <class T>
__global__ void softmax_columns(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t n, int64_t inner,
                                bool log_out) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < outer * inner;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = c / inner, r = c % inner;
    const T* xc = x + o * n * inner + r;
    T* yc = y + o * n * inner + r;
    float m = -INFINITY;
    for (int64_t k = 0; k < n; ++k) m = max_nan(m, to_float(xc[k * inner]));
    m = fix_max(m);
    float s = 0.f;
    for (int64_t k = 0; k < n; ++k) s += expf(to_float(xc[k * inner]) - m);
    if (log_out) {
      float shift = m + logf(s);
      for (int64_t k = 0; k < n; ++k) yc[k * inner] = from_float<T>(to_float(xc[k * inner]) - shift);
    } else {
      float inv = 1.f / s;
      for (int64_t k = 0; k < n; ++k) yc[k * inner] = from_float<T>(expf(to_float(xc[k * inner]) - m) * inv);
    }
  }
}

class SoftMaxKernel : public Kernel {
 public:
  SoftMaxKernel(int axis, bool log_out) : axis_(axis), log_(log_out) {}
  void run(const KernelArgs& a) override {
    int64_t outer, n, inner;
    cpu::split_at_axis(a.in[0].dims, axis_, &outer, &n, &inner);
    if (outer * n * inner == 0) return;
    cudaStream_t s = stream_of(a);
    dispatch_float(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* x = a.in[0].as<const T>();
      T* y = a.out[0].as<T>();
      if (inner == 1) {
        int block = pow2_block(n, 32, kMaxRowBlock);
        unsigned grid = static_cast<unsigned>(std::min<int64_t>(outer, 1 << 20));
        softmax_rows<T><<<grid, block, 0, s>>>(x, y, outer, n, log_);
      } else {
        softmax_columns<T><<<grid_1d(outer * inner), kBlock, 0, s>>>(x, y, outer, n, inner, log_);
      }
    });
    check_launch("softmax");
  }
  const char* impl_name() const override { return "cuda_softmax"; }

 private:
  int axis_;
  bool log_;
};

}  // namespace

std::unique_ptr<Kernel> make_SoftMax(const SoftMaxLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "SoftMax on " + dt(in[0].dtype));
  int axis = 0;
  while (!((l.p.axes >> axis) & 1u)) ++axis;  // the shape rule guarantees exactly one bit below the rank
  return std::make_unique<SoftMaxKernel>(axis, l.p.log);
}

}  // namespace torch2trt::gpu
