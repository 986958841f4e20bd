// T2T_PLACEHOLDER: family topk, to be written.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

class TopKLayer : public Layer {
 public:
  TopKLayer() : Layer(LayerKind::kTopK) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>&) const override { fail("layer", "not implemented"); }
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

}  // namespace torch2trt
