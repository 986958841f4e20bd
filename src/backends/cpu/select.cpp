#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"
#include "backends/cpu/move_util.h"

namespace torch2trt::cpu {
namespace {

class SelectKernel : public Kernel {
 public:
  void run(const KernelArgs& a) override {
    const TensorView &c = a.in[0], &t = a.in[1], &f = a.in[2], &y = a.out[0];
    int64_t sc[kMaxDims], st[kMaxDims], sf[kMaxDims];
    broadcast_strides(c.dims, y.dims, sc);
    broadcast_strides(t.dims, y.dims, st);
    broadcast_strides(f.dims, y.dims, sf);
    bool same = c.dims == y.dims && t.dims == y.dims && f.dims == y.dims;
    const uint8_t* cond = c.as<const uint8_t>();
    dispatch_bits(y.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* a_ = t.as<const T>();
      const T* b_ = f.as<const T>();
      T* out = y.as<T>();
      parallel_for(y.numel(), 1 << 14, [&](int64_t b, int64_t e) {
        if (same) {
          for (int64_t i = b; i < e; ++i) out[i] = cond[i] ? a_[i] : b_[i];
        } else {
          for (int64_t i = b; i < e; ++i)
            out[i] = cond[broadcast_offset(i, y.dims, sc)] ? a_[broadcast_offset(i, y.dims, st)]
                                                           : b_[broadcast_offset(i, y.dims, sf)];
        }
      });
    });
  }
  const char* impl_name() const override { return "cpu_select"; }
};

}  // namespace

std::unique_ptr<Kernel> make_Select(const SelectLayer&, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[1].dtype, "select");
  if (!why->empty()) return nullptr;
  return std::make_unique<SelectKernel>();
}

}  // namespace torch2trt::cpu
