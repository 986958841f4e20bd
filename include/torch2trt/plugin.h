// Public plugin API: user layers written in C++, registered by name and version, used through
// add_plugin() and stored in engine files by name. See docs/plugins.md for a worked example.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "torch2trt/kernel.h"
#include "torch2trt/network.h"

namespace torch2trt {

/// A plugin layer's parameters as bytes; their layout is private to the plugin. They are stored in
/// the engine file and handed back to the plugin's shape rule and kernel factories.
using PluginFields = std::vector<uint8_t>;

/// Shape rule: output types and shapes from the fields and the input descs. Dims may hold -1 at build
/// time (propagate it); the rule runs again with concrete dims at run time. Throw InvalidArgument with a
/// message naming the problem for inputs or fields the plugin does not accept.
using PluginShapeRule =
    std::function<std::vector<TensorDesc>(const PluginFields& fields, const std::vector<TensorDesc>& in)>;

/// Kernel factory: a kernel for these fields and descs, or null with *why set when it cannot run them.
/// The kernel gets dense row-major tensors; on the CPU float16/bfloat16 tensors reach it as float32.
using PluginKernelFactory = std::function<std::unique_ptr<Kernel>(
    const PluginFields& fields, const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out, std::string* why)>;

/// Everything torch2trt needs to know about one plugin (TensorRT's IPluginCreator, in one struct).
struct PluginCreator {
  std::string name;                 ///< the name add_plugin() and engine files use
  std::string version = "1";        ///< several versions of one name may be registered side by side
  PluginShapeRule infer;            ///< required
  PluginKernelFactory cpu_kernel;   ///< the CPU implementation (leave empty for a GPU-only plugin)
  PluginKernelFactory cuda_kernel;  ///< optional CUDA implementation (kernels run on KernelArgs::stream)
};

/// Registers a plugin for this process. Returns false (and keeps the existing one) when a plugin of the
/// same name and version is registered already; throws InvalidArgument for an incomplete creator.
bool register_plugin(PluginCreator creator);
/// Removes a registered plugin; returns false when none has that name and version.
bool deregister_plugin(const std::string& name, const std::string& version = "1");
/// The registered plugin of that name and version, or null.
std::shared_ptr<const PluginCreator> find_plugin(const std::string& name, const std::string& version = "1");
/// (name, version) of every registered plugin, sorted.
std::vector<std::pair<std::string, std::string>> registered_plugins();
/// The one-line error for a plugin that is not registered (add time, engine load, kernel creation).
std::string plugin_not_registered_message(const std::string& name, const std::string& version);

/// Version of the interface between torch2trt and plugin libraries; a library built against another
/// version is refused by load_plugin_library().
constexpr int kPluginAbiVersion = 1;

/// What a plugin library's entry point receives: the registry of the process that loads it.
class PluginRegistry {
 public:
  virtual ~PluginRegistry() = default;
  /// kPluginAbiVersion of the loading torch2trt.
  virtual int abi_version() const = 0;
  /// register_plugin() in the loading process.
  virtual bool add(PluginCreator creator) = 0;
  /// Records why the library's registration failed (load_plugin_library() raises it).
  virtual void fail(const std::string& message) = 0;
};

/// Loads a shared library that defines its plugins with T2T_PLUGIN_LIBRARY and registers them here.
/// Returns how many plugins it added. Throws InvalidArgument saying what went wrong (no such file,
/// no entry point, built against another plugin ABI, its registration failed).
int load_plugin_library(const std::string& path);

}  // namespace torch2trt

/// Defines a plugin library's entry point: `fn` is a function `void fn(torch2trt::PluginRegistry&)` that
/// calls registry.add(creator) for each plugin. Use once per shared library.
#define T2T_PLUGIN_LIBRARY(fn)                                                                      \
  extern "C" __attribute__((visibility("default"))) int torch2trt_register_plugins(                 \
      ::torch2trt::PluginRegistry* registry) {                                                     \
    if (registry->abi_version() != ::torch2trt::kPluginAbiVersion) return ::torch2trt::kPluginAbiVersion; \
    try {                                                                                           \
      fn(*registry);                                                                                \
    } catch (const std::exception& e) {                                                             \
      registry->fail(e.what());                                                                     \
      return -1;                                                                                    \
    }                                                                                               \
    return 0;                                                                                       \
  }
