// Plugin layer: a user layer implemented in C++ and found by name in the plugin registry (torch2trt/plugin.h).
#pragma once

#include "torch2trt/network.h"
#include "torch2trt/plugin.h"

namespace torch2trt {

/// Parameters of a plugin layer: which plugin, and its opaque field bytes.
struct PluginParams {
  std::string name;           ///< registry name
  std::string version = "1";  ///< registry version
  PluginFields fields;        ///< parameter bytes, handed to the plugin's shape rule and kernel factories
};

/// Runs a registered plugin. Its shape rule decides the outputs; a plugin that is not registered in this
/// process is refused when the layer is added (InvalidArgument) and when an engine holding it is loaded
/// (EngineFormatError).
class PluginLayer : public Layer {
 public:
  PluginLayer() : Layer(LayerKind::kPlugin) {}
  PluginParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  void save(Writer& w) const override;
  void load(Reader& r) override;
};

/// Adds a layer running the plugin `name` (of `version`) on `inputs`, with `fields` as its parameters.
PluginLayer* add_plugin(Network& net, const std::vector<Tensor*>& inputs, const std::string& name,
                        const PluginFields& fields, const std::string& version = "1");

}  // namespace torch2trt
