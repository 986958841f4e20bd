// CUDA plugin layers: the kernel comes from the registered plugin's CUDA factory.
#include "backends/common/plugin_kernel.h"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {

std::unique_ptr<Kernel> make_Plugin(const PluginLayer& l, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>& out, std::string* why) {
  return make_plugin_kernel(l, in, out, &PluginCreator::cuda_kernel, "CUDA", why);
}

}  // namespace torch2trt::gpu
