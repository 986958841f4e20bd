// SoftMax layer (TensorRT's ISoftMaxLayer) over one axis, with a log-softmax extension.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Parameters of a softmax layer.
struct SoftMaxParams {
  uint32_t axes = 1;  ///< bitmask with exactly one bit: 1 << axis
  /// Extension (not in TensorRT): compute log_softmax, x - max - log(sum(exp(x - max))), in one stable
  /// pass instead of log(softmax(x)), which underflows to -inf for very negative inputs.
  bool log = false;
};

/// y = softmax(x) (or log_softmax) along one axis; float types, same shape and type as the input.
/// Computed with the maximum subtracted and the sum accumulated in double.
class SoftMaxLayer : public Layer {
 public:
  SoftMaxLayer() : Layer(LayerKind::kSoftMax) {}
  SoftMaxParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.axes, p.log)
};

/// TensorRT's default softmax axis for a rank: rank - 3 (the C of NCHW), or 0 below rank 3.
int softmax_default_axis(int rank);

/// Adds a softmax over TensorRT's default axis (see softmax_default_axis); change it through `p.axes`.
SoftMaxLayer* add_softmax(Network& net, Tensor* input);

}  // namespace torch2trt
