// Concatenation layer (TensorRT's IConcatenationLayer).
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Parameters of a concatenation layer.
struct ConcatenationParams {
  int32_t axis = 0;  ///< 0 is the outermost axis; add_concatenation sets TensorRT's default
};

/// Joins its inputs along `axis`. All inputs have one dtype and rank, and equal extents off the axis.
class ConcatenationLayer : public Layer {
 public:
  ConcatenationLayer() : Layer(LayerKind::kConcatenation) {}
  ConcatenationParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.axis)
};

/// Adds a concatenation of one or more tensors; the axis defaults, as in TensorRT, to rank - 3
/// (the channel axis of NCHW) or 0 when the rank is below 3. When the inputs cannot be joined on that
/// axis but can on exactly one other, that axis is taken instead, so that TensorRT code which adds the
/// layer and then sets `axis` works although every add_* validates at once.
ConcatenationLayer* add_concatenation(Network& net, const std::vector<Tensor*>& inputs);

}  // namespace torch2trt
