// Plugin layers on any backend: the kernel comes from the registered plugin's factory for that device.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "torch2trt/kernel.h"
#include "torch2trt/layers/plugin.h"
#include "torch2trt/plugin.h"

namespace torch2trt {

/// The kernel of plugin layer `l` from the factory `factory` (PluginCreator::cpu_kernel or ::cuda_kernel),
/// wrapped so that user exceptions become torch2trt errors naming the plugin. Returns null with `why`
/// set when the plugin is not registered, has no factory for `device` ("CPU", "CUDA"), or declines.
std::unique_ptr<Kernel> make_plugin_kernel(const PluginLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>& out, PluginKernelFactory PluginCreator::*factory,
                                           const char* device, std::string* why);

}  // namespace torch2trt
