// T2T_PLACEHOLDER: family plugin, to be written.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

class PluginLayer : public Layer {
 public:
  PluginLayer() : Layer(LayerKind::kPlugin) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>&) const override { fail("layer", "not implemented"); }
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

}  // namespace torch2trt
