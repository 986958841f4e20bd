// T2T_PLACEHOLDER: family gather, to be written.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

class GatherLayer : public Layer {
 public:
  GatherLayer() : Layer(LayerKind::kGather) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>&) const override { fail("layer", "not implemented"); }
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

class ScatterLayer : public Layer {
 public:
  ScatterLayer() : Layer(LayerKind::kScatter) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>&) const override { fail("layer", "not implemented"); }
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

}  // namespace torch2trt
