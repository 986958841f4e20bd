#include <cmath>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"

namespace torch2trt::cpu {
namespace {

class ScaleKernel : public Kernel {
 public:
  explicit ScaleKernel(const ScaleParams& p)
      : mode_(p.mode), axis_(p.channel_axis), shift_(p.shift.to_float()), scale_(p.scale.to_float()),
        power_(p.power.to_float()) {}
  void run(const KernelArgs& a) override {
    const TensorView &X = a.in[0], &Y = a.out[0];
    // The tensor as rows of `len` elements; row r uses weights from index (r % period) * row_step,
    // advancing by elem_step per element (1 for ELEMENTWISE, 0 otherwise).
    int64_t rows = 1, len = X.numel(), period = 1, row_step = 0, elem_step = 0;
    if (mode_ == ScaleMode::kCHANNEL) {
      int64_t outer, c, inner;
      split_at_axis(X.dims, axis_, &outer, &c, &inner);
      rows = outer * c, len = inner, period = c, row_step = 1;
    } else if (mode_ == ScaleMode::kELEMENTWISE) {
      int64_t outer, c, inner;
      split_at_axis(X.dims, axis_, &outer, &c, &inner);
      rows = outer, len = c * inner, elem_step = 1;
    }
    if (rows * len == 0) return;
    const float* x = X.as<float>();
    float* y = Y.as<float>();
    const float* sh = shift_.empty() ? nullptr : shift_.data();
    const float* sc = scale_.empty() ? nullptr : scale_.data();
    const float* pw = power_.empty() ? nullptr : power_.data();
    parallel_for(rows, std::max<int64_t>(1, (1 << 14) / len), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        int64_t w0 = (r % period) * row_step;
        const float* xr = x + r * len;
        float* yr = y + r * len;
        for (int64_t i = 0; i < len; ++i) {
          int64_t w = w0 + i * elem_step;
          float v = xr[i];
          if (sc) v *= sc[w];
          if (sh) v += sh[w];
          if (pw) v = std::pow(v, pw[w]);
          yr[i] = v;
        }
      }
    });
  }
  const char* impl_name() const override { return "cpu_scale"; }

 private:
  ScaleMode mode_;
  int axis_;
  std::vector<float> shift_, scale_, power_;
};

}  // namespace

std::unique_ptr<Kernel> make_Scale(const ScaleLayer& l, const std::vector<TensorDesc>& in,
                                   const std::vector<TensorDesc>&, std::string* why) {
  if (in[0].dtype != DataType::kFLOAT) {
    *why = std::string("scale on ") + dtype_name(in[0].dtype) + " is not implemented";
    return nullptr;
  }
  return std::make_unique<ScaleKernel>(l.p);
}

}  // namespace torch2trt::cpu
