// Normalization layer (TensorRT's INormalizationLayer): layer, instance and group normalization.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Parameters of a normalization layer.
struct NormalizationParams {
  float epsilon = 1e-5f;  ///< added to the variance before the square root
  uint32_t axes = 0;      ///< bit i set: dim i is reduced (the statistics are shared along it)
  int32_t num_groups = 1; ///< G > 1: dim 1 (channels) is split into G groups, each normalized over its channels and `axes`
  DataType compute_precision = DataType::kFLOAT;  ///< precision of the statistics (the CPU runs FLOAT only)
};

/// y = (x - mean) / sqrt(var + epsilon) * scale + bias, with mean and biased variance over the `axes`
/// dims (and, with num_groups > 1, over the channels of each group). Inputs: x (float), scale, bias
/// (same dtype as x). Scale and bias broadcast to x numpy-style (right-aligned, extents equal or 1);
/// with num_groups > 1 their channel extent may also be num_groups (one value per group, as TensorRT's
/// group normalization takes them). Covers torch's layer_norm (axes = trailing dims), instance_norm
/// (axes = spatial dims, scale (1, C, 1, ...)) and group_norm (num_groups = G, axes = spatial dims).
class NormalizationLayer : public Layer {
 public:
  NormalizationLayer() : Layer(LayerKind::kNormalization) {}
  NormalizationParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.epsilon, p.axes, p.num_groups, p.compute_precision)
};

/// Adds a normalization layer over the dims in the `axes` bitmask. `num_groups` is a parameter here (not
/// only a field set afterwards) because per-group scale/bias (1, G, 1, ...) only validate once G is known.
NormalizationLayer* add_normalization(Network& net, Tensor* input, Tensor* scale, Tensor* bias, uint32_t axes,
                                      int32_t num_groups = 1);

}  // namespace torch2trt
