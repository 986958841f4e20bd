// T2T_PLACEHOLDER: family resize, to be written.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

class ResizeLayer : public Layer {
 public:
  ResizeLayer() : Layer(LayerKind::kResize) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>&) const override { fail("layer", "not implemented"); }
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

}  // namespace torch2trt
