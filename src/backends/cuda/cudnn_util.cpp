#ifdef T2T_WITH_CUDNN
#include "backends/cuda/cudnn_util.h"

#include <map>

namespace torch2trt::gpu {

void check_cudnn(cudnnStatus_t s, const char* call) {
  if (s == CUDNN_STATUS_SUCCESS) return;
  throw RuntimeFailure(std::string("cuDNN error in ") + call + ": " + cudnnGetErrorString(s));
}

namespace {

struct ThreadCudnn {
  std::map<int, cudnnHandle_t> handles;
  ~ThreadCudnn() {
    for (auto& [dev, h] : handles) cudnnDestroy(h);
  }
};
thread_local ThreadCudnn tls_cudnn;

// A cuDNN loaded at run time with another major version than the headers breaks the legacy API silently.
void check_version_once() {
  static const std::string problem = [] {
    size_t v = cudnnGetVersion();
    if (v / 10000 != CUDNN_MAJOR)
      return "cuDNN " + std::to_string(v) + " is loaded but torch2trt was built with cuDNN " +
             std::to_string(CUDNN_VERSION) + " headers; rebuild torch2trt against the installed cuDNN";
    return std::string();
  }();
  if (!problem.empty()) throw RuntimeFailure(problem);
}

}  // namespace

cudnnHandle_t cudnn_handle(cudaStream_t stream) {
  check_version_once();
  int dev = 0;
  T2T_CUDA_CHECK(cudaGetDevice(&dev));
  auto it = tls_cudnn.handles.find(dev);
  cudnnHandle_t h;
  if (it != tls_cudnn.handles.end()) {
    h = it->second;
  } else {
    T2T_CUDNN_CHECK(cudnnCreate(&h));
    tls_cudnn.handles[dev] = h;
  }
  T2T_CUDNN_CHECK(cudnnSetStream(h, stream));
  return h;
}

cudnnDataType_t cudnn_dtype(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return CUDNN_DATA_FLOAT;
    case DataType::kHALF: return CUDNN_DATA_HALF;
    case DataType::kBF16: return CUDNN_DATA_BFLOAT16;
    default: break;
  }
  throw Unsupported(std::string("cuDNN: no data type for ") + dtype_name(t));
}

ActivationDescriptor::ActivationDescriptor() { T2T_CUDNN_CHECK(cudnnCreateActivationDescriptor(&d)); }
ActivationDescriptor::~ActivationDescriptor() { cudnnDestroyActivationDescriptor(d); }
TensorDescriptor::TensorDescriptor() { T2T_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d)); }
TensorDescriptor::~TensorDescriptor() { cudnnDestroyTensorDescriptor(d); }
void TensorDescriptor::set(DataType t, const std::vector<int>& dims) {
  std::vector<int> strides(dims.size());
  int acc = 1;
  for (size_t i = dims.size(); i-- > 0;) strides[i] = acc, acc *= dims[i];
  T2T_CUDNN_CHECK(cudnnSetTensorNdDescriptor(d, cudnn_dtype(t), static_cast<int>(dims.size()), dims.data(), strides.data()));
}

FilterDescriptor::FilterDescriptor() { T2T_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d)); }
FilterDescriptor::~FilterDescriptor() { cudnnDestroyFilterDescriptor(d); }
void FilterDescriptor::set(DataType t, const std::vector<int>& dims) {
  T2T_CUDNN_CHECK(cudnnSetFilterNdDescriptor(d, cudnn_dtype(t), CUDNN_TENSOR_NCHW, static_cast<int>(dims.size()), dims.data()));
}

ConvolutionDescriptor::ConvolutionDescriptor() { T2T_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d)); }
ConvolutionDescriptor::~ConvolutionDescriptor() { cudnnDestroyConvolutionDescriptor(d); }

}  // namespace torch2trt::gpu
#endif
