#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// Strict total order "a comes before b" of the CPU kernel: by value (NaN above every number, as
// torch.topk), then by index. V is float for the float storage types, the integer type otherwise.
template <class V>
__device__ __forceinline__ bool before(bool largest, V av, int64_t ai, V bv, int64_t bi) {
  bool an = av != av, bn = bv != bv;  // always false for integers
  if (an != bn) return largest ? an : bn;
  if (!an && av != bv) return largest ? av > bv : av < bv;
  return ai < bi;
}

template <class T>
__device__ __forceinline__ auto value_of(T x) {
  if constexpr (is_float_storage_v<T>)
    return to_float(x);
  else
    return x;
}

// One thread per slice along the axis. Pass j picks the element that comes first among those after the
// (j-1)-th pick in the total order: k scans of the slice, no scratch, exact ties. Suits the small k of
// argmax/top-5; large k on long axes is slow but correct.
template <class T>
__global__ void topk_kernel(const T* __restrict__ x, T* __restrict__ val, int32_t* __restrict__ idx, int64_t outer,
                            int64_t n, int64_t inner, int64_t k, bool largest) {
  using V = decltype(value_of(T{}));
  for (int64_t s = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; s < outer * inner;
       s += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = s / inner, c = s % inner;
    const T* xs = x + o * n * inner + c;
    int64_t base = o * k * inner + c;
    V prev_v{};
    int64_t prev_i = -1;
    for (int64_t j = 0; j < k; ++j) {
      int64_t best = -1;
      V best_v{};
      for (int64_t i = 0; i < n; ++i) {
        V v = value_of(xs[i * inner]);
        if (prev_i >= 0 && !before(largest, prev_v, prev_i, v, i)) continue;
        if (best < 0 || before(largest, v, i, best_v, best)) best = i, best_v = v;
      }
      val[base + j * inner] = xs[best * inner];
      idx[base + j * inner] = static_cast<int32_t>(best);
      prev_v = best_v, prev_i = best;
    }
  }
}

class TopKKernel : public Kernel {
 public:
  TopKKernel(TopKOperation op, int32_t k, int axis) : largest_(op == TopKOperation::kMAX), k_(k), axis_(axis) {}
  void run(const KernelArgs& a) override {
    int64_t outer, n, inner;
    cpu::split_at_axis(a.in[0].dims, axis_, &outer, &n, &inner);
    dispatch_any(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      topk_kernel<T><<<grid_1d(outer * inner, 128), 128, 0, stream_of(a)>>>(
          a.in[0].as<const T>(), a.out[0].as<T>(), a.out[1].as<int32_t>(), outer, n, inner, k_, largest_);
    });
    check_launch("topk");
  }
  const char* impl_name() const override { return "cuda_topk"; }

 private:
  bool largest_;
  int64_t k_;
  int axis_;
};

}  // namespace

std::unique_ptr<Kernel> make_TopK(const TopKLayer& l, const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&,
                                  std::string* why) {
  DataType t = in[0].dtype;
  if (!is_float_type(t) && t != DataType::kINT32 && t != DataType::kINT64)
    return unsupported(why, "TopK on " + dt(t));
  int axis = 0;
  while (!((l.p.axes >> axis) & 1u)) ++axis;  // the shape rule guarantees exactly one bit below the rank
  return std::make_unique<TopKKernel>(l.p.op, l.p.k, axis);
}

}  // namespace torch2trt::gpu
