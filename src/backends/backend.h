// The backend contract: what a device (CPU, CUDA) must provide to run an engine's layers.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "torch2trt/kernel.h"
#include "torch2trt/network.h"

namespace torch2trt {

/// Where an engine runs.
enum class DeviceKind : int32_t { kCPU = 0, kCUDA = 1 };

/// A device backend: allocation, copies, and kernels for the layers it supports.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  /// The device in words ("cpu", "NVIDIA H200 sm_90 cuDNN 9.x cuBLASLt 13.x"): part of timing-cache keys.
  virtual std::string device_description() const { return name(); }
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

  /// Graph replay (CUDA graphs). `capture` records the work `run(s)` enqueues on a capture stream `s`
  /// and returns a replayable handle, or null with `why` set when it cannot be captured (nothing ran then).
  virtual void* graph_capture(void* stream, const std::function<void(void* capture_stream)>& run, std::string* why) {
    (void)stream, (void)run;
    *why = std::string(name()) + " has no graph replay";
    return nullptr;
  }
  /// Replays a captured graph on `stream`.
  virtual void graph_launch(void* graph, void* stream) { (void)graph, (void)stream; }
  virtual void graph_destroy(void* graph) { (void)graph; }

  /// Runs `work` (which enqueues on `stream`) and returns the milliseconds the device spent on it: the
  /// per-layer profiler's clock. The default suits devices whose work is done when `work` returns (the
  /// CPU); devices with streams override it with their own events.
  virtual double timed_run(void* stream, const std::function<void()>& work) {
    (void)stream;
    auto t0 = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
};

/// The CPU backend (always built).
Backend& cpu_backend();
/// The CUDA backend for a device index, or null with `why` set when CUDA is not built or not present.
Backend* cuda_backend(int device_index, std::string* why);
/// Backend by device; throws Unsupported with the reason when unavailable.
Backend& get_backend(DeviceKind kind, int device_index);

}  // namespace torch2trt
