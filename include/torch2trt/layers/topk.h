// TopK layer (TensorRT's ITopKLayer): the k largest or smallest values along one axis, and their indices.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Which end to keep; numeric values follow TensorRT's TopKOperation.
enum class TopKOperation : int32_t {
  kMAX = 0,  ///< largest first (NaN counts as larger than any number, as torch.topk)
  kMIN = 1,  ///< smallest first (NaN last)
};
/// Number of TopKOperation values.
constexpr int kNumTopKOperations = 2;
/// "MAX" or "MIN" ("?" when out of range).
const char* topk_op_name(TopKOperation op);

/// Parameters of a top-k layer.
struct TopKParams {
  TopKOperation op = TopKOperation::kMAX;
  int32_t k = 1;      ///< 1..extent of the axis (checked at run time when the extent is -1 at build time)
  uint32_t axes = 1;  ///< bitmask with exactly one bit: 1 << axis
};

/// Output 0: the k selected values (input dtype), sorted (descending for MAX, ascending for MIN; equal
/// values in index order). Output 1: their indices along the axis (int32). The axis extent becomes k.
/// Inputs: float types, int32, int64. k is a parameter; TensorRT's run-time k input is not supported.
class TopKLayer : public Layer {
 public:
  TopKLayer() : Layer(LayerKind::kTopK) {}
  TopKParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.op, p.k, p.axes)
};

/// Adds a top-k layer.
TopKLayer* add_topk(Network& net, Tensor* input, TopKOperation op, int32_t k, uint32_t axes);

}  // namespace torch2trt
