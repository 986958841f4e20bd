#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// Inputs handled by one launch; more inputs take several launches.
constexpr int kConcatBatch = 16;

// Output viewed as (outer, axis, inner); this launch writes axis positions [first, last) of it, taken from
// up to kConcatBatch inputs: input k covers axis positions [start[k], start[k + 1]).
template <class T>
struct ConcatOp {
  const T* src[kConcatBatch];
  int64_t start[kConcatBatch + 1];
  int count;
  int64_t axis, inner;  // output axis extent, product of the dims after the axis
  T* dst;
  __device__ __forceinline__ void operator()(int64_t i) const {
    int64_t span = start[count] - start[0];
    int64_t r = i % inner, t = i / inner;
    int64_t a = start[0] + t % span, o = t / span;
    int k = 0;
    while (k + 1 < count && a >= start[k + 1]) ++k;
    int64_t n = start[k + 1] - start[k];
    dst[(o * axis + a) * inner + r] = src[k][(o * n + (a - start[k])) * inner + r];
  }
};

class ConcatenationKernel : public Kernel {
 public:
  explicit ConcatenationKernel(int axis) : axis_(axis) {}
  void run(const KernelArgs& a) override {
    const Dims& od = a.out[0].dims;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis_; ++i) outer *= od.d[i];
    for (int i = axis_ + 1; i < od.nb_dims; ++i) inner *= od.d[i];
    dispatch_bytes(dtype_size(a.out[0].dtype), [&](auto tag) {
      using T = decltype(tag);
      ConcatOp<T> op{};
      op.axis = od.d[axis_];
      op.inner = inner;
      op.dst = a.out[0].as<T>();
      int64_t at = 0;
      auto flush = [&] {
        if (op.count == 0) return;
        int64_t span = op.start[op.count] - op.start[0];
        if (span > 0) launch_1d(outer * span * inner, op, stream_of(a), "concatenation");
        op.count = 0;
      };
      for (const TensorView& v : a.in) {
        int64_t n = v.dims.d[axis_];
        if (n == 0) continue;  // an empty input contributes nothing (and may have no memory)
        if (op.count == kConcatBatch) flush();
        op.src[op.count] = v.as<const T>();
        op.start[op.count] = at;
        at += n;
        op.start[op.count + 1] = at;
        ++op.count;
      }
      flush();
    });
  }
  const char* impl_name() const override { return "cuda_concat"; }

 private:
  int axis_;
};

}  // namespace

std::unique_ptr<Kernel> make_Concatenation(const ConcatenationLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "Concatenation");
  if (!why->empty()) return nullptr;
  return std::make_unique<ConcatenationKernel>(l.p.axis);
}

}  // namespace torch2trt::gpu
