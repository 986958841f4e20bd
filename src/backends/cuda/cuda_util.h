// Host-side helpers of the CUDA backend: status checks, device guard, owned device memory, library
// handles. Included by both .cpp and .cu files of src/backends/cuda.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace torch2trt::gpu {

/// Throws RuntimeFailure "CUDA error in <call>: <message>" unless e is cudaSuccess.
void check_cuda(cudaError_t e, const char* call);
/// Throws RuntimeFailure "cuBLASLt error in <call>: <status>" unless s is CUBLAS_STATUS_SUCCESS.
void check_cublas(cublasStatus_t s, const char* call);
/// Checks that the last kernel launch was accepted (launch configuration, missing sm_XX image).
/// Never synchronizes: errors raised later by the kernel surface at the next checked call.
void check_launch(const char* kernel);

#define T2T_CUDA_CHECK(expr) ::torch2trt::gpu::check_cuda((expr), #expr)
#define T2T_CUBLAS_CHECK(expr) ::torch2trt::gpu::check_cublas((expr), #expr)

/// The stream a kernel runs on (null is the legacy default stream).
inline cudaStream_t stream_of(const KernelArgs& a) { return static_cast<cudaStream_t>(a.stream); }

/// Makes `device` current for the guard's lifetime and restores the previous device after.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = -1;
  bool switched_ = false;
};

/// Device memory owned by a kernel (weights, lookup tables). Freed on destruction, errors ignored
/// because destructors cannot report them and a failing free leaves nothing to recover.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  /// Frees the memory.
  void reset();
  /// Allocates `bytes` (dropping the old memory) on the current device.
  void allocate(size_t bytes);
  /// Allocates and copies `bytes` from host memory (synchronously).
  void upload(const void* host, size_t bytes);
  /// Grows to at least `bytes`, zeroed (and the zeroing finished before a kernel on any stream, a non-blocking
  /// one too, can read it); keeps the memory, contents included, when it is already large enough. For
  /// counters that kernels reset themselves after each run.
  void ensure_zeroed(size_t bytes);
  /// Uploads float values stored as `dt` (float32, or float16/bfloat16 rounded to nearest even).
  void upload_as(const std::vector<float>& values, DataType dt);
  void* get() const { return ptr_; }
  size_t size() const { return bytes_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

/// This thread's cuBLASLt handle for the current device (created on first use).
cublasLtHandle_t cublaslt_handle();

/// Number of multiprocessors of the current device (cached), for sizing grids.
int sm_count();

/// "float32", "float16", ... for messages.
inline std::string dt(DataType t) { return dtype_name(t); }

/// True for float32, float16 and bfloat16.
inline bool is_float_type(DataType t) {
  return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
}

/// Sets *why to "no CUDA kernel for <what>" and returns null: the capability answer of a kernel factory.
std::nullptr_t unsupported(std::string* why, const std::string& what);

}  // namespace torch2trt::gpu
