#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "backends/common/cast_rules.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"
#include "backends/cpu/move_util.h"

namespace torch2trt::cpu {
namespace {

class CopyKernel : public Kernel {
 public:
  bool output_aliases_input() const override { return true; }
  void run(const KernelArgs& a) override {
    size_t n = static_cast<size_t>(a.out[0].numel()) * dtype_size(a.out[0].dtype);
    if (a.out[0].data != a.in[0].data) std::memcpy(a.out[0].data, a.in[0].data, n);
  }
  const char* impl_name() const override { return "cpu_copy"; }
};

// One element converted as Tensor.to(dtype) does (see CastLayer). Bool tensors hold bytes; any non-zero
// byte reads as true.
template <class To, class From>
To convert(From x, bool from_bool, bool to_bool) {
  if (from_bool) x = static_cast<From>(x != 0);
  if (to_bool) return static_cast<To>(x != 0);
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    return float_to_integer<To>(static_cast<double>(x));
  } else {
    return static_cast<To>(x);
  }
}

class CastKernel : public Kernel {
 public:
  void run(const KernelArgs& a) override {
    const TensorView &x = a.in[0], &y = a.out[0];
    bool from_bool = x.dtype == DataType::kBOOL, to_bool = y.dtype == DataType::kBOOL;
    dispatch_dtype(x.dtype, [&](auto in_tag) {
      using From = decltype(in_tag);
      dispatch_dtype(y.dtype, [&](auto out_tag) {
        using To = decltype(out_tag);
        const From* src = x.as<const From>();
        To* dst = y.as<To>();
        parallel_for(y.numel(), 1 << 15, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) dst[i] = convert<To, From>(src[i], from_bool, to_bool);
        });
      });
    });
  }
  const char* impl_name() const override { return "cpu_cast"; }
};

}  // namespace

std::unique_ptr<Kernel> make_Identity(const IdentityLayer&, const std::vector<TensorDesc>& in,
                                      const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "identity");
  if (!why->empty()) return nullptr;
  return std::make_unique<CopyKernel>();
}

std::unique_ptr<Kernel> make_Cast(const CastLayer&, const std::vector<TensorDesc>& in,
                                  const std::vector<TensorDesc>& out, std::string* why) {
  for (DataType t : {in[0].dtype, out[0].dtype}) {
    *why = move_dtype_problem(t, "cast");
    if (!why->empty()) return nullptr;
  }
  if (in[0].dtype == out[0].dtype) return std::make_unique<CopyKernel>();
  return std::make_unique<CastKernel>();
}

}  // namespace torch2trt::cpu
