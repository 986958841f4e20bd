#include "backends/backend.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"
#include "torch2trt/version.h"

namespace torch2trt {

Engine::Engine(std::unique_ptr<Network> net, const BuilderConfig& config)
    : net_(std::move(net)), config_(config), producer_(kVersion), target_("cpu") {
  for (int i = 0; i < net_->num_inputs(); ++i) io_names_.push_back(net_->input(i)->name());
  for (int i = 0; i < net_->num_outputs(); ++i) io_names_.push_back(net_->output(i)->name());
}

Engine::~Engine() = default;

int Engine::num_io_tensors() const { return static_cast<int>(io_names_.size()); }

const std::string& Engine::io_tensor_name(int i) const {
  if (i < 0 || i >= num_io_tensors())
    throw InvalidArgument("I/O tensor index " + std::to_string(i) + " out of range (the engine has " +
                          std::to_string(num_io_tensors()) + ")");
  return io_names_[i];
}

const Tensor* Engine::io(const std::string& name) const {
  const Tensor* t = net_->find_io(name);
  if (!t) {
    std::string names;
    for (auto& n : io_names_) names += (names.empty() ? "" : ", ") + n;
    throw InvalidArgument("the engine has no input or output named '" + name + "' (it has: " + names + ")");
  }
  return t;
}

TensorIOMode Engine::io_mode(const std::string& name) const {
  const Tensor* t = net_->find_io(name);
  if (!t) return TensorIOMode::kNONE;
  return t->is_input() ? TensorIOMode::kINPUT : TensorIOMode::kOUTPUT;
}

Dims Engine::io_dims(const std::string& name) const { return io(name)->dims(); }
DataType Engine::io_dtype(const std::string& name) const { return io(name)->dtype(); }

Backend& Engine::backend() const {
  return get_backend(config_.device == DeviceType::kGPU ? DeviceKind::kCUDA : DeviceKind::kCPU, config_.device_index);
}

std::unique_ptr<ExecutionContext> Engine::create_execution_context() const {
  return std::make_unique<ExecutionContext>(*this);
}

}  // namespace torch2trt
