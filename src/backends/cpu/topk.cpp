#include <algorithm>
#include <utility>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"

namespace torch2trt::cpu {
namespace {

// Strict order "a comes before b": by value (NaN above every number, as torch.topk), then by index.
template <class T>
struct Before {
  bool largest;
  bool operator()(const std::pair<T, int32_t>& a, const std::pair<T, int32_t>& b) const {
    bool an = a.first != a.first, bn = b.first != b.first;  // always false for integers
    if (an != bn) return largest ? an : bn;
    if (!an && a.first != b.first) return largest ? a.first > b.first : a.first < b.first;
    return a.second < b.second;
  }
};

class TopKKernel : public Kernel {
 public:
  TopKKernel(TopKOperation op, int32_t k, int axis) : largest_(op == TopKOperation::kMAX), k_(k), axis_(axis) {}
  void run(const KernelArgs& a) override {
    const TensorView& X = a.in[0];
    int64_t outer, n, inner;
    split_at_axis(X.dims, axis_, &outer, &n, &inner);
    int64_t k = k_;
    int32_t* idx = a.out[1].as<int32_t>();
    bool largest = largest_;
    dispatch_dtype(X.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* x = X.as<T>();
      T* val = a.out[0].as<T>();
      parallel_for(outer * inner, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, n)), [&](int64_t b, int64_t e) {
        std::vector<std::pair<T, int32_t>> buf(static_cast<size_t>(n));
        for (int64_t s = b; s < e; ++s) {
          int64_t o = s / inner, j = s % inner;
          const T* xs = x + o * n * inner + j;
          for (int64_t i = 0; i < n; ++i) buf[i] = {xs[i * inner], static_cast<int32_t>(i)};
          std::partial_sort(buf.begin(), buf.begin() + k, buf.end(), Before<T>{largest});
          int64_t base = o * k * inner + j;
          for (int64_t i = 0; i < k; ++i) {
            val[base + i * inner] = buf[i].first;
            idx[base + i * inner] = buf[i].second;
          }
        }
      });
    });
  }
  const char* impl_name() const override { return "cpu_topk"; }

 private:
  bool largest_;
  int32_t k_;
  int axis_;
};

}  // namespace

std::unique_ptr<Kernel> make_TopK(const TopKLayer& l, const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&,
                                  std::string* why) {
  DataType t = in[0].dtype;
  if (t != DataType::kFLOAT && t != DataType::kINT32 && t != DataType::kINT64) {
    *why = std::string("top-k on ") + dtype_name(t) + " is not implemented";
    return nullptr;
  }
  int axis = 0;
  while (!((l.p.axes >> axis) & 1u)) ++axis;  // the shape rule guarantees exactly one bit below the rank
  return std::make_unique<TopKKernel>(l.p.op, l.p.k, axis);
}

}  // namespace torch2trt::cpu
