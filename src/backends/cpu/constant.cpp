#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/move_util.h"

namespace torch2trt::cpu {
namespace {

class ConstantKernel : public Kernel {
 public:
  explicit ConstantKernel(std::shared_ptr<const std::vector<uint8_t>> bytes) : bytes_(std::move(bytes)) {}
  void run(const KernelArgs& a) override {
    if (bytes_ && !bytes_->empty()) std::memcpy(a.out[0].data, bytes_->data(), bytes_->size());
  }
  const char* impl_name() const override { return "cpu_constant"; }
  const void* constant_output() const override { return bytes_ && !bytes_->empty() ? bytes_->data() : nullptr; }

 private:
  std::shared_ptr<const std::vector<uint8_t>> bytes_;  // shared with the network's weights when no conversion is needed
};

}  // namespace

std::unique_ptr<Kernel> make_Constant(const ConstantLayer& l, const std::vector<TensorDesc>&,
                                      const std::vector<TensorDesc>& out, std::string* why) {
  const Weights& w = l.p.weights;
  *why = move_dtype_problem(w.dtype, "a constant");
  if (!why->empty()) return nullptr;
  if (out[0].dtype == w.dtype) return std::make_unique<ConstantKernel>(w.bytes);
  // float16/bfloat16 weights: the backend hands this kernel a float32 output and narrows it afterwards.
  if (out[0].dtype != DataType::kFLOAT || is_floating(w.dtype) == false) {
    *why = std::string("constant of ") + dtype_name(w.dtype) + " into a " + dtype_name(out[0].dtype) + " tensor";
    return nullptr;
  }
  std::vector<float> f = w.to_float();
  auto bytes = std::make_shared<std::vector<uint8_t>>(f.size() * sizeof(float));
  if (!f.empty()) std::memcpy(bytes->data(), f.data(), bytes->size());
  return std::make_unique<ConstantKernel>(std::move(bytes));
}

}  // namespace torch2trt::cpu
