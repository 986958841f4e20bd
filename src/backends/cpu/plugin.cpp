// CPU plugin layers: the kernel comes from the registered plugin's CPU factory.
#include "backends/common/plugin_kernel.h"
#include "backends/cpu/cpu_kernels.h"

namespace torch2trt::cpu {

std::unique_ptr<Kernel> make_Plugin(const PluginLayer& l, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>& out, std::string* why) {
  return make_plugin_kernel(l, in, out, &PluginCreator::cpu_kernel, "CPU", why);
}

}  // namespace torch2trt::cpu
