// Squeeze-excitation gate in one layer: the global average of each channel, two fully connected layers
// with their activations, one gate value per channel:
//   s = mean over the spatial dims of x                         (N, C)
//   h = act1(W1 s + b1)                                         (N, S)   W1: (S, C)
//   g = act2(W2 h + b2)                                         (N, C)   W2: (C, S)
// as torchvision's SqueezeExcitation (EfficientNet, MobileNetV3, RegNet) computes, and with apply_to_input the
// block's output x * g itself. The builder makes it from a global average pooling followed by two 1x1
// convolutions and the product (pass fuse_squeeze_excite); a network may also add it directly. On the GPU it
// is one launch.
#pragma once

#include "torch2trt/layers/activation.h"
#include "torch2trt/network.h"

namespace torch2trt {

/// Parameters of a squeeze-excitation gate. Weights are in PyTorch's Linear / 1x1 Conv2d layouts.
struct SqueezeExciteParams {
  int64_t squeeze_channels = 0;  ///< S, the hidden width
  Weights w1;                    ///< (S, C)
  Weights b1;                    ///< S values, or empty for none
  Weights w2;                    ///< (C, S)
  Weights b2;                    ///< C values, or empty for none
  bool has_act1 = false;         ///< apply act1 to the hidden values (torchvision: ReLU or SiLU)
  ActivationParams act1;
  bool has_act2 = false;         ///< apply act2 to the gate (torchvision: sigmoid or hard sigmoid)
  ActivationParams act2;
  /// Set by the layout_channels_last pass: x is stored (N, *spatial, C). The output is (N, C, 1, ...) either
  /// way: with unit spatial extents both layouts are the same memory.
  bool channels_last = false;
  /// The output is x * g (x's shape, dtype and layout) instead of the gate g.
  bool apply_to_input = false;
};

/// x (N, C, *spatial) of a float type, 1 to 3 spatial dims (channels_last: (N, *spatial, C)) -> the gate
/// (N, C, 1, ...) of x's rank and dtype, or with apply_to_input x * gate (x's dims). Pooling and both layers
/// accumulate in float32 (float64 for float32 tensors on the CPU); the hidden values are not rounded to x's
/// dtype; the gate is rounded to x's dtype before the product, as the unfused layers round it.
class SqueezeExciteLayer : public Layer {
 public:
  SqueezeExciteLayer() : Layer(LayerKind::kSqueezeExcite) {}
  SqueezeExciteParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// (N, C, spatial size) of a static input of this layer.
  void geometry(const Dims& x, int64_t* n, int64_t* c, int64_t* spatial) const;
  T2T_SERIALIZE_FIELDS(p.squeeze_channels, p.w1, p.b1, p.w2, p.b2, p.has_act1, p.act1.type, p.act1.alpha,
                       p.act1.beta, p.has_act2, p.act2.type, p.act2.alpha, p.act2.beta, p.channels_last,
                       p.apply_to_input)
};

/// Adds a squeeze-excitation gate; `params` must hold both weight matrices and squeeze_channels.
SqueezeExciteLayer* add_squeeze_excite(Network& net, Tensor* input, const SqueezeExciteParams& params);

}  // namespace torch2trt
