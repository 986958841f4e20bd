// cuDNN helpers of the CUDA backend (only built with T2T_WITH_CUDNN).
#pragma once

#ifdef T2T_WITH_CUDNN
#include <cudnn.h>

#include "backends/cuda/cuda_util.h"

namespace torch2trt::gpu {

/// Throws RuntimeFailure "cuDNN error in <call>: <message>" unless s is CUDNN_STATUS_SUCCESS.
void check_cudnn(cudnnStatus_t s, const char* call);
#define T2T_CUDNN_CHECK(expr) ::torch2trt::gpu::check_cudnn((expr), #expr)

/// This thread's cuDNN handle for the current device, bound to `stream`. cuDNN handles keep a stream,
/// so one per (thread, device) keeps concurrent contexts from racing on it.
cudnnHandle_t cudnn_handle(cudaStream_t stream);

/// cuDNN's data type for a float dtype (float32, float16, bfloat16).
cudnnDataType_t cudnn_dtype(DataType t);

/// Owning wrappers of cuDNN descriptors.
struct TensorDescriptor {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDescriptor();
  ~TensorDescriptor();
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
  /// A dense NC(D)HW tensor (`dims` of rank >= 4).
  void set(DataType t, const std::vector<int>& dims);
};
struct FilterDescriptor {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDescriptor();
  ~FilterDescriptor();
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
  void set(DataType t, const std::vector<int>& dims);
};
struct ConvolutionDescriptor {
  cudnnConvolutionDescriptor_t d = nullptr;
  ConvolutionDescriptor();
  ~ConvolutionDescriptor();
  ConvolutionDescriptor(const ConvolutionDescriptor&) = delete;
  ConvolutionDescriptor& operator=(const ConvolutionDescriptor&) = delete;
};
struct ActivationDescriptor {
  cudnnActivationDescriptor_t d = nullptr;
  ActivationDescriptor();
  ~ActivationDescriptor();
  ActivationDescriptor(const ActivationDescriptor&) = delete;
  ActivationDescriptor& operator=(const ActivationDescriptor&) = delete;
};

}  // namespace torch2trt::gpu
#endif
