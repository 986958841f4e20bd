#include <algorithm>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"

namespace torch2trt::cpu {
namespace {

constexpr int64_t kBlock = 64;  // positions along the inner (contiguous) dimension handled together

// Running sums along the axis for a block of jn inner positions, walking rows so reads stay contiguous.
// Acc is double for floats and uint64_t for integers (wrapping like the fixed-width type).
template <class T, class Acc>
void cumsum_block(const T* x, T* y, int64_t n, int64_t inner, int64_t jn, bool exclusive, bool reverse) {
  Acc acc[kBlock];
  std::fill(acc, acc + jn, Acc(0));
  for (int64_t s = 0; s < n; ++s) {
    int64_t k = reverse ? n - 1 - s : s;
    const T* xr = x + k * inner;
    T* yr = y + k * inner;
    for (int64_t j = 0; j < jn; ++j) {
      Acc v;
      if constexpr (std::is_floating_point_v<T>)
        v = static_cast<Acc>(xr[j]);
      else
        v = static_cast<Acc>(static_cast<int64_t>(xr[j]));
      if (exclusive) {
        yr[j] = static_cast<T>(acc[j]);
        acc[j] += v;
      } else {
        acc[j] += v;
        yr[j] = static_cast<T>(acc[j]);
      }
    }
  }
}

class CumulativeSumKernel : public Kernel {
 public:
  explicit CumulativeSumKernel(const CumulativeParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    const TensorView &X = a.in[0], &Y = a.out[0];
    int rank = X.dims.nb_dims;
    int axis = p_.axis < 0 ? p_.axis + rank : p_.axis;
    int64_t outer, n, inner;
    split_at_axis(X.dims, axis, &outer, &n, &inner);
    int64_t nblocks = (inner + kBlock - 1) / kBlock;
    bool exclusive = p_.exclusive, reverse = p_.reverse;
    dispatch_dtype(X.dtype, [&](auto tag) {
      using T = decltype(tag);
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
      const T* x = X.as<T>();
      T* y = Y.as<T>();
      parallel_for(outer * nblocks, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, n * std::min(inner, kBlock))),
                   [&](int64_t b, int64_t e) {
                     for (int64_t w = b; w < e; ++w) {
                       int64_t o = w / nblocks, j0 = (w % nblocks) * kBlock;
                       int64_t off = o * n * inner + j0;
                       cumsum_block<T, Acc>(x + off, y + off, n, inner, std::min(kBlock, inner - j0), exclusive, reverse);
                     }
                   });
    });
  }
  const char* impl_name() const override { return "cpu_cumsum"; }

 private:
  CumulativeParams p_;
};

}  // namespace

std::unique_ptr<Kernel> make_CumulativeSum(const CumulativeSumLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  switch (in[0].dtype) {
    case DataType::kFLOAT:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kINT8: return std::make_unique<CumulativeSumKernel>(l.p);
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kBOOL:
    case DataType::kUINT8:
    case DataType::kFP8: break;
  }
  *why = std::string("cumulative sum on ") + dtype_name(in[0].dtype) + " is not implemented";
  return nullptr;
}

}  // namespace torch2trt::cpu
