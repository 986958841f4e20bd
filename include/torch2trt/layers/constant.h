// Constant layer (TensorRT's IConstantLayer): a tensor whose values are stored in the network.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Parameters of a constant layer.
struct ConstantParams {
  Dims shape;       ///< static output shape
  Weights weights;  ///< volume(shape) values; their dtype is the output's dtype
};

/// Output = the weights laid out row-major with `shape`; the layer has no inputs.
class ConstantLayer : public Layer {
 public:
  ConstantLayer() : Layer(LayerKind::kConstant) {}
  ConstantParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.shape, p.weights)
};

/// Adds a constant; weights.count must equal the volume of the static `shape` (fp8 weights are refused).
ConstantLayer* add_constant(Network& net, const Dims& shape, const Weights& weights);

/// The values of `t` when a Constant layer with int32/int64 weights produces it, else false.
bool constant_int_values(const Tensor* t, std::vector<int64_t>* values);

/// Values of input `index` of `layer`: a 1-D int32/int64 shape tensor, which must come from a Constant
/// layer because shapes are fixed when the network is built. Otherwise fails naming `argument`.
std::vector<int64_t> read_shape_input(const Layer& layer, int index, const std::string& argument);

}  // namespace torch2trt
