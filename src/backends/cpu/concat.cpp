#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/move_util.h"

namespace torch2trt::cpu {
namespace {

// The output is `outer` rows; each row holds, input after input, that input's axis extent times `inner`.
class ConcatenationKernel : public Kernel {
 public:
  explicit ConcatenationKernel(int axis) : axis_(axis) {}
  void run(const KernelArgs& a) override {
    const Dims& od = a.out[0].dims;
    size_t es = dtype_size(a.out[0].dtype);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis_; ++i) outer *= od.d[i];
    for (int i = axis_ + 1; i < od.nb_dims; ++i) inner *= od.d[i];
    const size_t row = static_cast<size_t>(od.d[axis_] * inner) * es;
    auto* dst = static_cast<uint8_t*>(a.out[0].data);
    size_t at = 0;  // byte offset of the current input within an output row
    for (const TensorView& v : a.in) {
      const size_t chunk = static_cast<size_t>(v.dims.d[axis_] * inner) * es;
      const auto* src = static_cast<const uint8_t*>(v.data);
      if (chunk > 0)
        parallel_for(outer, std::max<int64_t>(1, static_cast<int64_t>((1 << 16) / chunk)), [&](int64_t b, int64_t e) {
          for (int64_t o = b; o < e; ++o) std::memcpy(dst + o * row + at, src + o * chunk, chunk);
        });
      at += chunk;
    }
  }
  const char* impl_name() const override { return "cpu_concat"; }

 private:
  int axis_;
};

}  // namespace

std::unique_ptr<Kernel> make_Concatenation(const ConcatenationLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "concatenation");
  if (!why->empty()) return nullptr;
  return std::make_unique<ConcatenationKernel>(l.p.axis);
}

}  // namespace torch2trt::cpu
