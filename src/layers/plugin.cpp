// The plugin registry, plugin libraries, and the plugin layer's shape rule.
#include "torch2trt/layers/plugin.h"

#include <dlfcn.h>

#include <map>
#include <mutex>

namespace torch2trt {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const PluginCreator>> plugins;
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string plugin_label(const std::string& name, const std::string& version) {
  return "plugin '" + name + "' (version " + version + ")";
}

// Forwards a library's registrations to the process registry and remembers what happened.
class LibraryRegistry : public PluginRegistry {
 public:
  int abi_version() const override { return kPluginAbiVersion; }
  bool add(PluginCreator creator) override {
    bool added = register_plugin(std::move(creator));
    added_ += added;
    return added;
  }
  void fail(const std::string& message) override { error_ = message; }
  int added() const { return added_; }
  const std::string& error() const { return error_; }

 private:
  int added_ = 0;
  std::string error_;
};

}  // namespace

std::string plugin_not_registered_message(const std::string& name, const std::string& version) {
  return plugin_label(name, version) +
         " is not registered in this process: load the library that registers it before building/loading";
}

bool register_plugin(PluginCreator creator) {
  if (creator.name.empty()) throw InvalidArgument("register_plugin: the plugin needs a name");
  std::string label = plugin_label(creator.name, creator.version);
  if (creator.version.empty()) throw InvalidArgument("register_plugin: " + label + " needs a non-empty version");
  if (!creator.infer) throw InvalidArgument("register_plugin: " + label + " has no shape rule (infer)");
  if (!creator.cpu_kernel && !creator.cuda_kernel)
    throw InvalidArgument("register_plugin: " + label + " has neither a CPU nor a CUDA kernel factory");
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto key = std::make_pair(creator.name, creator.version);
  if (r.plugins.count(key)) return false;
  r.plugins[key] = std::make_shared<const PluginCreator>(std::move(creator));
  return true;
}

bool deregister_plugin(const std::string& name, const std::string& version) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  return r.plugins.erase({name, version}) > 0;
}

std::shared_ptr<const PluginCreator> find_plugin(const std::string& name, const std::string& version) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.plugins.find({name, version});
  return it == r.plugins.end() ? nullptr : it->second;
}

std::vector<std::pair<std::string, std::string>> registered_plugins() {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  std::vector<std::pair<std::string, std::string>> v;
  for (auto& [key, c] : r.plugins) v.push_back(key);
  return v;
}

int load_plugin_library(const std::string& path) {
  // Libraries stay loaded for the life of the process: their code backs registered creators and kernels.
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    throw InvalidArgument("load_plugin_library: cannot load '" + path + "': " + (e ? e : "unknown error"));
  }
  using Entry = int (*)(PluginRegistry*);
  auto entry = reinterpret_cast<Entry>(dlsym(h, "torch2trt_register_plugins"));
  if (!entry)
    throw InvalidArgument("load_plugin_library: '" + path +
                          "' has no torch2trt_register_plugins entry point; define one with T2T_PLUGIN_LIBRARY "
                          "(torch2trt/plugin.h)");
  LibraryRegistry reg;
  int rc = entry(&reg);
  if (rc > 0)
    throw InvalidArgument("load_plugin_library: '" + path + "' was built against plugin ABI " + std::to_string(rc) +
                          "; this torch2trt has ABI " + std::to_string(kPluginAbiVersion) +
                          ": rebuild the library against this torch2trt's headers");
  if (rc < 0)
    throw InvalidArgument("load_plugin_library: '" + path + "' failed to register its plugins: " +
                          (reg.error().empty() ? "no reason given" : reg.error()));
  return reg.added();
}

std::vector<TensorDesc> PluginLayer::infer(const std::vector<TensorDesc>& in) const {
  auto creator = find_plugin(p.name, p.version);
  if (!creator) fail("plugin", plugin_not_registered_message(p.name, p.version));
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].dims.nb_dims < 0) fail("input " + std::to_string(i), "must be set");
  std::vector<TensorDesc> out;
  std::string error;
  // The rule is user code: anything it throws becomes this layer's InvalidArgument.
  try {
    out = creator->infer(p.fields, in);
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "its shape rule threw a non-standard exception";
  }
  std::string label = plugin_label(p.name, p.version);
  if (!error.empty()) fail(label, error);
  if (out.empty()) fail(label, "its shape rule returned no outputs");
  bool inputs_static = true;
  for (auto& d : in) inputs_static = inputs_static && d.dims.is_static();
  for (size_t i = 0; i < out.size(); ++i) {
    const TensorDesc& d = out[i];
    std::string which = label + " output " + std::to_string(i);
    if (!is_valid_dtype(static_cast<int32_t>(d.dtype)))
      fail(which, "the shape rule returned an unknown dtype " + std::to_string(static_cast<int>(d.dtype)));
    if (d.dims.nb_dims < 0 || d.dims.nb_dims > kMaxDims)
      fail(which, "the shape rule returned rank " + std::to_string(d.dims.nb_dims));
    for (int k = 0; k < d.dims.nb_dims; ++k)
      if (d.dims.d[k] < -1) fail(which, "the shape rule returned the shape " + d.dims.str());
    // At run time every input is concrete; an output extent left at -1 could not be allocated.
    if (inputs_static && !d.dims.is_static())
      fail(which, "the shape rule returned " + d.dims.str() + " for inputs of known shape; it must compute every extent");
  }
  return out;
}

void PluginLayer::save(Writer& w) const { w.put_all(p.name, p.version, p.fields); }

void PluginLayer::load(Reader& r) {
  r.get_all(p.name, p.version, p.fields);
  // A well-formed engine whose plugin is missing here: say which one and how to fix it, rather than
  // the generic "layer fails validation" the shape rule would give.
  if (!find_plugin(p.name, p.version)) throw EngineFormatError(plugin_not_registered_message(p.name, p.version));
}

PluginLayer* add_plugin(Network& net, const std::vector<Tensor*>& inputs, const std::string& name,
                        const PluginFields& fields, const std::string& version) {
  auto l = std::make_unique<PluginLayer>();
  l->p.name = name;
  l->p.version = version;
  l->p.fields = fields;
  return net.add(std::move(l), inputs, "add_plugin");
}

}  // namespace torch2trt
