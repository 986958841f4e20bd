// Reduce layer (TensorRT's IReduceLayer): SUM/PROD/MAX/MIN/AVG over a set of axes.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Reductions; numeric values follow TensorRT's ReduceOperation.
enum class ReduceOperation : int32_t {
  kSUM = 0,
  kPROD = 1,
  kMAX = 2,  ///< NaN propagates, as torch.amax
  kMIN = 3,  ///< NaN propagates, as torch.amin
  kAVG = 4,  ///< float types only
};
/// Number of ReduceOperation values.
constexpr int kNumReduceOperations = 5;
/// "SUM", "PROD", ... for an operation ("?" when out of range).
const char* reduce_op_name(ReduceOperation op);

/// Parameters of a reduce layer. Bit i of `axes` selects dimension i.
struct ReduceParams {
  ReduceOperation op = ReduceOperation::kSUM;
  uint32_t axes = 0;
  bool keep_dims = false;  ///< reduced dimensions stay as extent 1 instead of being removed
};

/// y = op over `axes` of x. Float types for every op; int32/int64 for SUM, PROD, MAX and MIN.
/// Float sums accumulate in double. MAX/MIN over an empty axis is an error; AVG over one gives NaN.
class ReduceLayer : public Layer {
 public:
  ReduceLayer() : Layer(LayerKind::kReduce) {}
  ReduceParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.op, p.axes, p.keep_dims)
};

/// Adds a reduce layer.
ReduceLayer* add_reduce(Network& net, Tensor* input, ReduceOperation op, uint32_t axes, bool keep_dims);

/// Checks an axis bitmask (TensorRT's `axes` attribute) against a tensor rank through `layer.fail(argument, ...)`:
/// at least one bit, no bit at or above `rank`, and exactly one bit when `single`. Returns the selected axes.
std::vector<int> axes_from_mask(const Layer& layer, uint32_t axes, int rank, const char* argument, bool single);

}  // namespace torch2trt
