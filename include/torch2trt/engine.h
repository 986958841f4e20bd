// Engine: an optimized network bound to a device, serializable to an engine file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "torch2trt/builder.h"
#include "torch2trt/network.h"

namespace torch2trt {

class Backend;
class ExecutionContext;

/// Whether an I/O tensor is an input or an output.
enum class TensorIOMode : int32_t { kNONE = 0, kINPUT = 1, kOUTPUT = 2 };

/// A built engine. Immutable once made; safe to share between threads.
class Engine {
 public:
  Engine(std::unique_ptr<Network> net, const BuilderConfig& config);
  ~Engine();

  /// The optimized network the engine runs.
  const Network& network() const { return *net_; }
  const BuilderConfig& config() const { return config_; }
  /// Version of torch2trt that built the engine.
  const std::string& producer_version() const { return producer_; }
  /// Description of the build target ("cpu", "cuda:0 NVIDIA H200 sm_90").
  const std::string& target() const { return target_; }

  int num_io_tensors() const;
  /// Inputs first, then outputs, each in network order.
  const std::string& io_tensor_name(int i) const;
  TensorIOMode io_mode(const std::string& name) const;
  /// Build-time shape (-1 for run-time extents) and dtype; throw for unknown names.
  Dims io_dims(const std::string& name) const;
  DataType io_dtype(const std::string& name) const;

  /// Serializes to the engine file format.
  std::vector<uint8_t> serialize() const;
  /// Parses an engine file; throws EngineFormatError with one line saying what is wrong and what to do.
  static std::unique_ptr<Engine> deserialize(const uint8_t* data, size_t size);

  /// A new execution context (its own kernels and activation memory).
  std::unique_ptr<ExecutionContext> create_execution_context() const;
  /// The backend the engine runs on (throws if unavailable in this process).
  Backend& backend() const;

  /// Set by the builder/reader.
  void set_target(const std::string& t) { target_ = t; }
  void set_producer(const std::string& p) { producer_ = p; }

 private:
  const Tensor* io(const std::string& name) const;
  std::unique_ptr<Network> net_;
  BuilderConfig config_;
  std::string producer_;
  std::string target_;
  std::vector<std::string> io_names_;
};

}  // namespace torch2trt
