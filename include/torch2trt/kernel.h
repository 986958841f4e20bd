// What a kernel sees: tensor views, invocation arguments and the Kernel interface.
// Public so that plugin authors (torch2trt/plugin.h) implement the same interface as built-in kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "torch2trt/network.h"

namespace torch2trt {

/// A tensor in device memory as a kernel sees it: dense row-major.
struct TensorView {
  void* data = nullptr;
  DataType dtype = DataType::kFLOAT;
  Dims dims;
  int64_t numel() const { return dims.volume(); }
  template <class T>
  T* as() const { return static_cast<T*>(data); }
};

/// Everything one kernel invocation gets.
struct KernelArgs {
  std::vector<TensorView> in;   ///< one per layer input (data null for an unset optional input)
  std::vector<TensorView> out;  ///< one per layer output
  void* workspace = nullptr;    ///< scratch of workspace_size() bytes
  void* stream = nullptr;       ///< cudaStream_t on CUDA, unused on the CPU
};

/// A layer prepared for one backend. Each execution context owns its kernels, so a kernel is used
/// by one thread at a time and may keep state (primitives, descriptors) between runs.
class Kernel {
 public:
  virtual ~Kernel() = default;
  /// Called before the first run and whenever the concrete shapes change.
  virtual void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) {
    (void)in, (void)out;
  }
  /// Scratch bytes needed for the shapes of the last reshape().
  virtual size_t workspace_size() const { return 0; }
  /// The most scratch the engine allows (`BuilderConfig::workspace_limit`, torch2trt's max_workspace_size),
  /// given before the first reshape(). Kernels with a choice (cuBLASLt algorithms, cuDNN algorithms) keep
  /// within it; scratch a kernel cannot do without may still exceed it, which the runtime then reports.
  virtual void set_workspace_limit(size_t bytes) { (void)bytes; }
  /// Computes the outputs from the inputs; throws RuntimeFailure on a failure it can detect.
  virtual void run(const KernelArgs& a) = 0;
  /// Short name of the implementation, for profiles ("onednn_conv", "ref_pool", ...).
  virtual const char* impl_name() const { return "kernel"; }
  /// Non-null (after reshape()) when the single output is always these bytes in device memory, owned by the
  /// kernel: the runtime then lets readers use them in place and never calls run() (unless the output is a
  /// network output, which must land in the caller's memory).
  virtual const void* constant_output() const { return nullptr; }
  /// Ids of the implementations ("tactics") the kernel can run for the shapes of the last reshape(), for
  /// the builder to time; empty when there is nothing to choose. Ids are defined by the kernel and stay
  /// valid across processes on the same device and libraries (a cuDNN algorithm number, say).
  virtual std::vector<int64_t> tactics() const { return {}; }
  /// Runs tactic `id` from now on (-1: the kernel's own choice); takes effect at the next reshape().
  /// An id the kernel cannot run for the current shapes falls back to its own choice.
  virtual void set_tactic(int64_t id) { (void)id; }
  /// What the timing cache files a tactic choice under: the problem (kind, geometry, types, layout);
  /// "" when not cacheable.
  virtual std::string tactic_key() const { return ""; }
  /// True (after reshape()) when output 0 holds input 0's bytes unchanged (a reshape): the runtime then gives
  /// the output the input's memory and skips run() (unless the output is a network output).
  virtual bool output_aliases_input() const { return false; }
};

}  // namespace torch2trt
