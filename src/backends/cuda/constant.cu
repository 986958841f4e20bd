#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// The weights are uploaded once (first reshape). Readers use that copy in place (constant_output); run()
// copies it only when the constant is a network output, which lives in the caller's memory.
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
  const void* constant_output() const override { return buf_.size() ? buf_.get() : nullptr; }

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
