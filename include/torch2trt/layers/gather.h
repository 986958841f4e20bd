// Gather layer (TensorRT's IGatherLayer) and scatter layer (IScatterLayer).
//
// Indices are int32 or int64; a negative index counts from the end of its axis. An index still out of
// range at run time never reads or writes outside a tensor: gather writes 0 (false) for it, scatter
// skips that update.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Gather modes; numeric values follow TensorRT's GatherMode.
enum class GatherMode : int32_t {
  kDEFAULT = 0,  ///< ONNX Gather / torch.index_select: whole slices along `axis`
  kELEMENT = 1,  ///< ONNX GatherElements / torch.gather
  kND = 2,       ///< ONNX GatherND with num_elementwise_dims batch dimensions
};
constexpr int kNumGatherModes = 3;
/// Upper-case name of a gather mode.
const char* gather_mode_name(GatherMode m);

/// Parameters of a gather layer.
struct GatherParams {
  int32_t axis = 0;                  ///< DEFAULT and ELEMENT: the data axis indexed
  int32_t num_elementwise_dims = 0;  ///< DEFAULT: 0 or 1 leading dims shared (broadcast) by data and indices;
                                     ///< ND: batch dims; ELEMENT: must be 0
  GatherMode mode = GatherMode::kDEFAULT;
};

/// Output shapes (data rank r, indices rank q, e = num_elementwise_dims):
///   DEFAULT: broadcast(data[:e], indices[:e]) + data[e:axis] + indices[e:] + data[axis+1:]
///   ELEMENT: indices' shape (q = r; indices extents off the axis <= the data's, as torch.gather)
///   ND:      indices[:-1] + data[e + indices[-1]:]   (indices[:e] == data[:e])
class GatherLayer : public Layer {
 public:
  GatherLayer() : Layer(LayerKind::kGather) {}
  GatherParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.axis, p.num_elementwise_dims, p.mode)
};

/// Adds a DEFAULT-mode gather of `data` along `axis` at `indices`.
GatherLayer* add_gather(Network& net, Tensor* data, Tensor* indices, int32_t axis);
/// Adds a gather in `mode` (TensorRT's add_gather_v2) with axis 0, or in ELEMENT mode with the one axis
/// the indices fit when they do not fit axis 0 (TensorRT code sets `axis` after adding the layer).
GatherLayer* add_gather_v2(Network& net, Tensor* data, Tensor* indices, GatherMode mode);

/// Scatter modes; numeric values follow TensorRT's ScatterMode.
enum class ScatterMode : int32_t {
  kELEMENT = 0,  ///< ONNX ScatterElements / torch.scatter(data, axis, indices, updates)
  kND = 1,       ///< ONNX ScatterND
};
constexpr int kNumScatterModes = 2;
/// Upper-case name of a scatter mode.
const char* scatter_mode_name(ScatterMode m);

/// Parameters of a scatter layer.
struct ScatterParams {
  ScatterMode mode = ScatterMode::kELEMENT;
  int32_t axis = 0;  ///< ELEMENT: the data axis written
};

/// Output = data with updates written at indices (same shape and dtype as data). ELEMENT: indices and
/// updates share one shape, of data's rank, with extents off the axis <= data's. ND: indices (..., k) with
/// k <= rank(data); updates have shape indices[:-1] + data[k:]. Where several updates hit one element,
/// the last in row-major order wins.
class ScatterLayer : public Layer {
 public:
  ScatterLayer() : Layer(LayerKind::kScatter) {}
  ScatterParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.mode, p.axis)
};

/// Adds a scatter layer with axis 0, or in ELEMENT mode with the one axis the indices fit when they do
/// not fit axis 0 (TensorRT code sets `axis` after adding the layer).
ScatterLayer* add_scatter(Network& net, Tensor* data, Tensor* indices, Tensor* updates, ScatterMode mode);

}  // namespace torch2trt
