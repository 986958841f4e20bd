// Plugin layers on any backend: see plugin_kernel.h.
#include "backends/common/plugin_kernel.h"

namespace torch2trt {
namespace {

// Wraps a plugin's kernel so that whatever user code throws reaches the caller as a torch2trt error
// naming the plugin, and keeps the creator (and so its factories) alive as long as the kernel.
class PluginKernel : public Kernel {
 public:
  PluginKernel(std::unique_ptr<Kernel> inner, std::shared_ptr<const PluginCreator> creator)
      : inner_(std::move(inner)), creator_(std::move(creator)), impl_("plugin_" + creator_->name) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    guard("reshape", [&] { inner_->reshape(in, out); });
  }
  size_t workspace_size() const override { return inner_->workspace_size(); }
  void run(const KernelArgs& a) override {
    guard("run", [&] { inner_->run(a); });
  }
  const char* impl_name() const override { return impl_.c_str(); }

 private:
  template <class F>
  void guard(const char* what, F&& f) {
    try {
      f();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw RuntimeFailure("plugin '" + creator_->name + "' (version " + creator_->version + ") failed in " + what +
                           ": " + e.what());
    }
  }
  std::unique_ptr<Kernel> inner_;
  std::shared_ptr<const PluginCreator> creator_;
  std::string impl_;
};

}  // namespace

std::unique_ptr<Kernel> make_plugin_kernel(const PluginLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>& out, PluginKernelFactory PluginCreator::*factory,
                                           const char* device, std::string* why) {
  auto creator = find_plugin(l.p.name, l.p.version);
  if (!creator) {
    *why = plugin_not_registered_message(l.p.name, l.p.version);
    return nullptr;
  }
  std::string label = "plugin '" + l.p.name + "' (version " + l.p.version + ")";
  const PluginKernelFactory& make = (*creator).*factory;
  if (!make) {
    *why = label + " has no " + device + " kernel (its PluginCreator has no factory for " + device + ")";
    return nullptr;
  }
  std::unique_ptr<Kernel> k;
  std::string reason;
  try {
    k = make(l.p.fields, in, out, &reason);
  } catch (const std::exception& e) {
    *why = label + ": its " + device + " kernel factory failed: " + e.what();
    return nullptr;
  }
  if (!k) {
    *why = label + " declined on " + device + ": " + (reason.empty() ? "no reason given" : reason);
    return nullptr;
  }
  return std::make_unique<PluginKernel>(std::move(k), std::move(creator));
}

}  // namespace torch2trt
