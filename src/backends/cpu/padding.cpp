#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/move_util.h"

namespace torch2trt::cpu {
namespace {

class PaddingKernel : public Kernel {
 public:
  PaddingKernel(const PaddingParams& p, uint64_t fill) : p_(p), fill_(fill) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    const Dims &x = in[0].dims, &y = out[0].dims;
    std::vector<int64_t> xs = contiguous_strides(x);
    int first = x.nb_dims - p_.pre_padding.nb_dims;  // first padded axis
    map_.dims = y;
    map_.offset.assign(y.nb_dims, {});
    for (int i = 0; i < y.nb_dims; ++i) {
      auto& o = map_.offset[i];
      o.resize(static_cast<size_t>(y.d[i]));
      int64_t pre = i >= first ? p_.pre_padding.d[i - first] : 0;
      int64_t post = i >= first ? p_.post_padding.d[i - first] : 0;
      for (int64_t k = 0; k < y.d[i]; ++k) {
        int64_t c = pad_source(p_.mode, k, pre, post, x.d[i]);
        o[k] = c < 0 ? -1 : c * xs[i];
      }
    }
  }
  void run(const KernelArgs& a) override {
    dispatch_bits(a.out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      T fill;
      std::memcpy(&fill, &fill_, sizeof(T));  // value_bits stores the element in the leading bytes
      run_axis_map(map_, a.in[0].as<const T>(), a.out[0].as<T>(), fill);
    });
  }
  const char* impl_name() const override { return "cpu_padding"; }

 private:
  PaddingParams p_;
  uint64_t fill_;  // the fill value's bits in the output dtype
  AxisMap map_;
};

}  // namespace

std::unique_ptr<Kernel> make_Padding(const PaddingLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "padding");
  if (!why->empty()) return nullptr;
  return std::make_unique<PaddingKernel>(l.p, value_bits(l.p.value, in[0].dtype));
}

}  // namespace torch2trt::cpu
