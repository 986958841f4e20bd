#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// The weights are uploaded once (first reshape) and copied device-to-device on each run: the output may
// live in the context's arena, which other layers reuse.
class ConstantKernel : public Kernel {
 public:
  explicit ConstantKernel(std::shared_ptr<const std::vector<uint8_t>> bytes) : bytes_(std::move(bytes)) {}
  void reshape(const std::vector<TensorDesc>&, const std::vector<TensorDesc>&) override {
    if (!uploaded_ && bytes_ && !bytes_->empty()) buf_.upload(bytes_->data(), bytes_->size());
    uploaded_ = true;
  }
  void run(const KernelArgs& a) override {
    if (buf_.size())
      T2T_CUDA_CHECK(cudaMemcpyAsync(a.out[0].data, buf_.get(), buf_.size(), cudaMemcpyDeviceToDevice, stream_of(a)));
  }
  const char* impl_name() const override { return "cuda_constant"; }

 private:
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  DeviceBuffer buf_;
  bool uploaded_ = false;
};

}  // namespace

std::unique_ptr<Kernel> make_Constant(const ConstantLayer& l, const std::vector<TensorDesc>&,
                                      const std::vector<TensorDesc>& out, std::string* why) {
  const Weights& w = l.p.weights;
  *why = move_dtype_problem(w.dtype, "Constant");
  if (!why->empty()) return nullptr;
  if (out[0].dtype != w.dtype)
    return unsupported(why, std::string("Constant of ") + dt(w.dtype) + " weights into a " + dt(out[0].dtype) + " tensor");
  return std::make_unique<ConstantKernel>(w.bytes);
}

}  // namespace torch2trt::gpu
