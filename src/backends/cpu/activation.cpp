#include "backends/common/pointwise_math.h"
#include "backends/cpu/cpu_kernels.h"

namespace torch2trt::cpu {
namespace {

class ActivationKernel : public Kernel {
 public:
  explicit ActivationKernel(const ActivationParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    const float* x = a.in[0].as<float>();
    float* y = a.out[0].as<float>();
    auto p = p_;
    parallel_for(a.out[0].numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = pw::activation<float>(p.type, x[i], p.alpha, p.beta);
    });
  }
  const char* impl_name() const override { return "cpu_activation"; }

 private:
  ActivationParams p_;
};

}  // namespace

std::unique_ptr<Kernel> make_Activation(const ActivationLayer& l, const std::vector<TensorDesc>& in,
                                        const std::vector<TensorDesc>&, std::string* why) {
  if (in[0].dtype != DataType::kFLOAT) {
    *why = std::string("activation on ") + dtype_name(in[0].dtype) + " is not implemented";
    return nullptr;
  }
  return std::make_unique<ActivationKernel>(l.p);
}

}  // namespace torch2trt::cpu
