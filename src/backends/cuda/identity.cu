#include "backends/common/cast_rules.h"
#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

class CopyKernel : public Kernel {
 public:
  bool output_aliases_input() const override { return true; }
  void run(const KernelArgs& a) override {
    size_t n = static_cast<size_t>(a.out[0].numel()) * dtype_size(a.out[0].dtype);
    if (a.out[0].data != a.in[0].data)
      T2T_CUDA_CHECK(cudaMemcpyAsync(a.out[0].data, a.in[0].data, n, cudaMemcpyDeviceToDevice, stream_of(a)));
  }
  const char* impl_name() const override { return "cuda_copy"; }
};

// One element converted as Tensor.to(dtype) does (CastLayer documents the rules): float -> integer
// truncates, NaN -> 0, saturating for int32/int64 and wrapping for int8/uint8; -> bool is x != 0; bool
// bytes read as 0/1; half types convert through float.
template <class To, class From>
__device__ __forceinline__ To cast_value(From x, bool from_bool, bool to_bool) {
  constexpr bool src_float = is_float_storage_v<From>;
  constexpr bool dst_float = is_float_storage_v<To>;
  if (from_bool) x = static_cast<From>(x != From(0));
  if (to_bool) {
    if constexpr (src_float)
      return static_cast<To>(to_float(x) != 0.f);
    else
      return static_cast<To>(x != From(0));
  }
  if constexpr (src_float && !dst_float) {
    return float_to_integer<To>(static_cast<double>(to_float(x)));
  } else if constexpr (dst_float) {
    if constexpr (src_float)
      return from_float<To>(to_float(x));
    else
      return from_float<To>(static_cast<float>(x));
  } else {
    return static_cast<To>(x);
  }
}

template <class To, class From>
struct CastOp {
  const From* x;
  To* y;
  bool from_bool, to_bool;
  __device__ __forceinline__ void operator()(int64_t i) const { y[i] = cast_value<To, From>(x[i], from_bool, to_bool); }
};

class CastKernel : public Kernel {
 public:
  void run(const KernelArgs& a) override {
    const TensorView &x = a.in[0], &y = a.out[0];
    bool from_bool = x.dtype == DataType::kBOOL, to_bool = y.dtype == DataType::kBOOL;
    dispatch_any(x.dtype, [&](auto in_tag) {
      using From = decltype(in_tag);
      dispatch_any(y.dtype, [&](auto out_tag) {
        using To = decltype(out_tag);
        launch_1d(y.numel(), CastOp<To, From>{x.as<const From>(), y.as<To>(), from_bool, to_bool}, stream_of(a), "cast");
      });
    });
  }
  const char* impl_name() const override { return "cuda_cast"; }
};

}  // namespace

std::unique_ptr<Kernel> make_Identity(const IdentityLayer&, const std::vector<TensorDesc>& in,
                                      const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "Identity");
  if (!why->empty()) return nullptr;
  return std::make_unique<CopyKernel>();
}

std::unique_ptr<Kernel> make_Cast(const CastLayer&, const std::vector<TensorDesc>& in,
                                  const std::vector<TensorDesc>& out, std::string* why) {
  for (DataType t : {in[0].dtype, out[0].dtype}) {
    *why = move_dtype_problem(t, "Cast");
    if (!why->empty()) return nullptr;
  }
  if (in[0].dtype == out[0].dtype) return std::make_unique<CopyKernel>();
  return std::make_unique<CastKernel>();
}

}  // namespace torch2trt::gpu
