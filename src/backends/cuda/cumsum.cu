#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// One thread per (outer, inner) column, walking the axis: neighbouring threads read neighbouring
// addresses. Floats accumulate in double and integers in uint64 (wrapping like the fixed-width type), as
// the CPU kernel does.
template <class T>
__global__ void cumsum_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t n, int64_t inner,
                              bool exclusive, bool reverse) {
  using Acc = std::conditional_t<is_float_storage_v<T>, double, uint64_t>;
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < outer * inner;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = c / inner, r = c % inner;
    const T* xc = x + o * n * inner + r;
    T* yc = y + o * n * inner + r;
    Acc acc = 0;
    for (int64_t s = 0; s < n; ++s) {
      int64_t k = reverse ? n - 1 - s : s;
      Acc v;
      if constexpr (is_float_storage_v<T>)
        v = static_cast<double>(to_float(xc[k * inner]));
      else
        v = static_cast<Acc>(static_cast<int64_t>(xc[k * inner]));
      if (!exclusive) acc += v;
      if constexpr (is_float_storage_v<T>)
        yc[k * inner] = from_float<T>(static_cast<float>(acc));
      else
        yc[k * inner] = static_cast<T>(acc);
      if (exclusive) acc += v;
    }
  }
}

class CumulativeSumKernel : public Kernel {
 public:
  explicit CumulativeSumKernel(const CumulativeParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    int rank = a.in[0].dims.nb_dims;
    int axis = p_.axis < 0 ? p_.axis + rank : p_.axis;
    int64_t outer, n, inner;
    cpu::split_at_axis(a.in[0].dims, axis, &outer, &n, &inner);
    dispatch_any(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      cumsum_kernel<T><<<grid_1d(outer * inner), kBlock, 0, stream_of(a)>>>(a.in[0].as<const T>(), a.out[0].as<T>(),
                                                                              outer, n, inner, p_.exclusive, p_.reverse);
    });
    check_launch("cumulative_sum");
  }
  const char* impl_name() const override { return "cuda_cumsum"; }

 private:
  CumulativeParams p_;
};

}  // namespace

std::unique_ptr<Kernel> make_CumulativeSum(const CumulativeSumLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  switch (in[0].dtype) {
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kINT8: return std::make_unique<CumulativeSumKernel>(l.p);
    default: return unsupported(why, "CumulativeSum on " + dt(in[0].dtype));
  }
}

}  // namespace torch2trt::gpu
