// T2T_PLACEHOLDER: family convolution, to be written.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

class ConvolutionLayer : public Layer {
 public:
  ConvolutionLayer() : Layer(LayerKind::kConvolution) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>&) const override { fail("layer", "not implemented"); }
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

class DeconvolutionLayer : public Layer {
 public:
  DeconvolutionLayer() : Layer(LayerKind::kDeconvolution) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>&) const override { fail("layer", "not implemented"); }
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

}  // namespace torch2trt
