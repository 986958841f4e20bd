#include "backends/common/pointwise_math.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

template <class T>
__global__ void activation_kernel(int64_t n, const T* __restrict__ x, T* __restrict__ y, ActivationParams p) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = from_float<T>(pw::activation<float>(p.type, to_float(x[i]), p.alpha, p.beta));
}

class ActivationKernel : public Kernel {
 public:
  explicit ActivationKernel(const ActivationParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    int64_t n = a.out[0].numel();
    dispatch_float(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      activation_kernel<T><<<grid_1d(n), kBlock, 0, stream_of(a)>>>(n, a.in[0].as<const T>(), a.out[0].as<T>(), p_);
    });
    check_launch("activation");
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
