// The backend contract: what a device (CPU, CUDA) must provide to run an engine's layers.
#pragma once

#include <memory>
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
  virtual void run(const KernelArgs& a) = 0;
  /// Short name of the implementation, for profiles ("onednn_conv", "ref_pool", ...).
  virtual const char* impl_name() const { return "kernel"; }
};

/// Where an engine runs.
enum class DeviceKind : int32_t { kCPU = 0, kCUDA = 1 };

/// A device backend: allocation, copies, and kernels for the layers it supports.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual DeviceKind device() const = 0;
  /// Why this backend cannot run `layer` with these input/output descs, or "" when it can.
  /// Derived from the kernels actually registered: a backend never claims what it cannot run.
  virtual std::string unsupported_reason(const Layer& layer, const std::vector<TensorDesc>& in,
                                         const std::vector<TensorDesc>& out) const = 0;
  /// Creates a kernel for the layer (only called when unsupported_reason() is empty).
  virtual std::unique_ptr<Kernel> make_kernel(const Layer& layer, const std::vector<TensorDesc>& in,
                                              const std::vector<TensorDesc>& out) const = 0;
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* p) = 0;
  /// Copies within device memory (asynchronously on `stream` where the device has streams).
  virtual void copy(void* dst, const void* src, size_t bytes, void* stream) = 0;
  /// Copies host memory to device memory and back (synchronous).
  virtual void upload(void* dst, const void* src, size_t bytes) = 0;
  virtual void download(void* dst, const void* src, size_t bytes) = 0;
  virtual void synchronize(void* stream) = 0;
};

/// The CPU backend (always built).
Backend& cpu_backend();
/// The CUDA backend for a device index, or null with `why` set when CUDA is not built or not present.
Backend* cuda_backend(int device_index, std::string* why);
/// Backend by device; throws Unsupported with the reason when unavailable.
Backend& get_backend(DeviceKind kind, int device_index);

}  // namespace torch2trt
