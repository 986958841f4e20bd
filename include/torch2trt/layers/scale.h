// Scale layer (TensorRT's IScaleLayer): y = (x * scale + shift) ** power.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// How the weights map onto the input; numeric values follow TensorRT's ScaleMode.
enum class ScaleMode : int32_t {
  kUNIFORM = 0,      ///< one value for the whole tensor
  kCHANNEL = 1,      ///< one value per index of the channel axis
  kELEMENTWISE = 2,  ///< one value per element of dims[channel_axis:], repeated over the leading dims
};
/// Number of ScaleMode values.
constexpr int kNumScaleModes = 3;
/// "UNIFORM", "CHANNEL", "ELEMENTWISE" ("?" when out of range).
const char* scale_mode_name(ScaleMode m);

/// Parameters of a scale layer. Each weights array may be empty, meaning the identity for its role
/// (scale 1, shift 0, power 1); non-empty ones hold float32, float16 or bfloat16 values.
struct ScaleParams {
  ScaleMode mode = ScaleMode::kUNIFORM;
  Weights shift;
  Weights scale;
  Weights power;
  int32_t channel_axis = 1;  ///< read by CHANNEL and ELEMENTWISE; UNIFORM has no axis to apply it to
};

/// y = (x * scale + shift) ** power on float tensors; same shape and type as the input.
class ScaleLayer : public Layer {
 public:
  ScaleLayer() : Layer(LayerKind::kScale) {}
  ScaleParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// Number of values each non-empty weights array must hold for input dims `d` (-1 if not yet known or
  /// channel_axis is not a dimension of `d`).
  int64_t weights_count(const Dims& d) const;
  T2T_SERIALIZE_FIELDS(p.mode, p.shift, p.scale, p.power, p.channel_axis)
};

/// Adds a scale layer with channel axis 1 (TensorRT's addScale).
ScaleLayer* add_scale(Network& net, Tensor* input, ScaleMode mode, const Weights& shift, const Weights& scale,
                      const Weights& power);
/// Adds a scale layer with an explicit channel axis (TensorRT's addScaleNd).
ScaleLayer* add_scale_nd(Network& net, Tensor* input, ScaleMode mode, const Weights& shift, const Weights& scale,
                         const Weights& power, int32_t channel_axis);

}  // namespace torch2trt
