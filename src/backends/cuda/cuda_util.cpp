#include "backends/cuda/cuda_util.h"

#include <array>
#include <atomic>
#include <map>

namespace torch2trt::gpu {

void check_cuda(cudaError_t e, const char* call) {
  if (e == cudaSuccess) return;
  // Clears the (non-sticky) error so the next call does not report it again.
  cudaGetLastError();
  throw RuntimeFailure(std::string("CUDA error in ") + call + ": " + cudaGetErrorName(e) + " (" +
                       cudaGetErrorString(e) + ")");
}

void check_cublas(cublasStatus_t s, const char* call) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw RuntimeFailure(std::string("cuBLASLt error in ") + call + ": " + cublasLtGetStatusName(s) + " (" +
                       cublasLtGetStatusString(s) + ")");
}

void check_launch(const char* kernel) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw RuntimeFailure(std::string("CUDA kernel ") + kernel + " failed to launch: " + cudaGetErrorName(e) + " (" +
                         cudaGetErrorString(e) + ")");
}

DeviceGuard::DeviceGuard(int device) {
  T2T_CUDA_CHECK(cudaGetDevice(&prev_));
  if (prev_ != device) {
    T2T_CUDA_CHECK(cudaSetDevice(device));
    switched_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (switched_) cudaSetDevice(prev_);
}

void DeviceBuffer::reset() {
  if (ptr_) cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

void DeviceBuffer::allocate(size_t bytes) {
  reset();
  if (bytes == 0) return;
  T2T_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
  bytes_ = bytes;
}

void DeviceBuffer::upload(const void* host, size_t bytes) {
  allocate(bytes);
  if (bytes) T2T_CUDA_CHECK(cudaMemcpy(ptr_, host, bytes, cudaMemcpyHostToDevice));
}

void DeviceBuffer::ensure_zeroed(size_t bytes) {
  if (bytes <= bytes_) return;
  allocate(bytes);
  T2T_CUDA_CHECK(cudaMemset(ptr_, 0, bytes));  // on the legacy stream: wait for it
  T2T_CUDA_CHECK(cudaDeviceSynchronize());
}

void DeviceBuffer::upload_as(const std::vector<float>& values, DataType dt) {
  if (dt == DataType::kFLOAT) return upload(values.data(), values.size() * sizeof(float));
  std::vector<uint16_t> h(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    h[i] = dt == DataType::kHALF ? float_to_half(values[i]) : float_to_bf16(values[i]);
  upload(h.data(), h.size() * sizeof(uint16_t));
}

namespace {

// Handles per device for one thread: cuBLASLt handles carry no stream, but creating one per kernel
// would cost a context's worth of setup per layer; one per (thread, device) is cheap and race-free.
struct ThreadHandles {
  std::map<int, cublasLtHandle_t> lt;
  ~ThreadHandles() {
    for (auto& [dev, h] : lt) cublasLtDestroy(h);
  }
};
thread_local ThreadHandles tls_handles;

}  // namespace

cublasLtHandle_t cublaslt_handle() {
  int dev = 0;
  T2T_CUDA_CHECK(cudaGetDevice(&dev));
  auto it = tls_handles.lt.find(dev);
  if (it != tls_handles.lt.end()) return it->second;
  cublasLtHandle_t h = nullptr;
  T2T_CUBLAS_CHECK(cublasLtCreate(&h));
  tls_handles.lt[dev] = h;
  return h;
}

int sm_count() {
  static std::array<std::atomic<int>, 64> cache{};
  int dev = 0;
  T2T_CUDA_CHECK(cudaGetDevice(&dev));
  bool cached = dev >= 0 && dev < static_cast<int>(cache.size());
  int n = cached ? cache[dev].load(std::memory_order_relaxed) : 0;
  if (n > 0) return n;
  T2T_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
  if (cached) cache[dev].store(n, std::memory_order_relaxed);
  return n;
}

std::nullptr_t unsupported(std::string* why, const std::string& what) {
  *why = "no CUDA kernel for " + what;
  return nullptr;
}

}  // namespace torch2trt::gpu
