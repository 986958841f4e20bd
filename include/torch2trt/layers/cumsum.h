// Cumulative layer (TensorRT's ICumulativeLayer): running sum along one axis.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Cumulative operations; numeric values follow TensorRT's CumulativeOperation.
enum class CumulativeOperation : int32_t {
  kSUM = 0,
};
/// Number of CumulativeOperation values.
constexpr int kNumCumulativeOperations = 1;
/// "SUM" ("?" when out of range).
const char* cumulative_op_name(CumulativeOperation op);

/// Parameters of a cumulative layer. TensorRT takes the axis as a 0-D constant input tensor; here it is
/// a parameter (add_cumulative in Python also accepts a tensor made by add_constant and reads its value).
struct CumulativeParams {
  int32_t axis = 0;  ///< in [-rank, rank); negative counts from the end
  CumulativeOperation op = CumulativeOperation::kSUM;
  bool exclusive = false;  ///< y[i] sums x[j] for j < i (j > i when reverse) instead of j <= i
  bool reverse = false;    ///< accumulate from the last element towards the first
};

/// y = cumulative op of x along `axis`; same shape and type. Float types (sums in double), int32, int64
/// and int8 (sums wrap at the type's width).
class CumulativeSumLayer : public Layer {
 public:
  CumulativeSumLayer() : Layer(LayerKind::kCumulativeSum) {}
  CumulativeParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.axis, p.op, p.exclusive, p.reverse)
};

/// Adds a cumulative layer.
CumulativeSumLayer* add_cumulative(Network& net, Tensor* input, int32_t axis, CumulativeOperation op, bool exclusive,
                                   bool reverse);
/// Adds a cumulative layer whose axis is given, as TensorRT does, by a tensor: it must be made by
/// add_constant with one int32/int64 value, which is read now (axes computed at run time are refused).
CumulativeSumLayer* add_cumulative(Network& net, Tensor* input, Tensor* axis, CumulativeOperation op, bool exclusive,
                                   bool reverse);

}  // namespace torch2trt
