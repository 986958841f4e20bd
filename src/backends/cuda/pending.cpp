// Factories of the layer kinds that have no CUDA kernel yet: the builder reports them as unsupported
// on CUDA. Each moves to its family file once written.
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_util.h"

namespace torch2trt::gpu {

std::unique_ptr<Kernel> make_TopK(const TopKLayer&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                                 std::string* why) {
  return unsupported(why, "TopK yet");
}

std::unique_ptr<Kernel> make_Gather(const GatherLayer&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                                 std::string* why) {
  return unsupported(why, "Gather yet");
}

std::unique_ptr<Kernel> make_Scatter(const ScatterLayer&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                                 std::string* why) {
  return unsupported(why, "Scatter yet");
}

std::unique_ptr<Kernel> make_Resize(const ResizeLayer&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                                 std::string* why) {
  return unsupported(why, "Resize yet");
}

std::unique_ptr<Kernel> make_Normalization(const NormalizationLayer&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                                 std::string* why) {
  return unsupported(why, "Normalization yet");
}

std::unique_ptr<Kernel> make_CumulativeSum(const CumulativeSumLayer&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                                 std::string* why) {
  return unsupported(why, "CumulativeSum yet");
}

std::unique_ptr<Kernel> make_Plugin(const PluginLayer&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                                 std::string* why) {
  return unsupported(why, "Plugin yet");
}

}  // namespace torch2trt::gpu
