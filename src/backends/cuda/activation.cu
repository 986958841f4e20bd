#include "backends/common/pointwise_math.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

template <class T>
struct ActivationOp {
  const T* x;
  T* y;
  ActivationParams p;
  __device__ __forceinline__ void operator()(int64_t i) const {
    y[i] = from_float<T>(pw::activation<float>(p.type, to_float(x[i]), p.alpha, p.beta));
  }
};

class ActivationKernel : public Kernel {
 public:
  explicit ActivationKernel(const ActivationParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    dispatch_float(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      launch_1d(a.out[0].numel(), ActivationOp<T>{a.in[0].as<const T>(), a.out[0].as<T>(), p_}, stream_of(a),
                "activation");
    });
  }
  const char* impl_name() const override { return "cuda_activation"; }

 private:
  ActivationParams p_;
};

}  // namespace

std::unique_ptr<Kernel> make_Activation(const ActivationLayer& l, const std::vector<TensorDesc>& in,
                                        const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Activation on " + dt(in[0].dtype));
  return std::make_unique<ActivationKernel>(l.p);
}

}  // namespace torch2trt::gpu
