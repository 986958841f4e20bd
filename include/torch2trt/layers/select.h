// Select layer (TensorRT's ISelectLayer): elementwise choice between two tensors, as torch.where.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// y = condition ? then_input : else_input, with numpy broadcasting across all three inputs.
/// condition is bool; then_input and else_input share one dtype, which is the output's.
class SelectLayer : public Layer {
 public:
  SelectLayer() : Layer(LayerKind::kSelect) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

/// Adds a select layer.
SelectLayer* add_select(Network& net, Tensor* condition, Tensor* then_input, Tensor* else_input);

}  // namespace torch2trt
