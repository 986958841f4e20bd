// Slice layer (TensorRT's ISliceLayer): strided window of a tensor, with out-of-bounds modes.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// How coordinates outside the input are handled; numeric values follow TensorRT's SampleMode.
enum class SampleMode : int32_t {
  kSTRICT_BOUNDS = 0,  ///< out-of-bounds coordinates are an error, raised when the engine is built (or, for
                       ///< extents known only at run time, when it runs): not by add_slice or the setters,
                       ///< because TensorRT code sets `mode` after adding a slice that reads past the edges
  kWRAP = 1,           ///< coordinate modulo the extent
  kCLAMP = 2,          ///< clamped to [0, extent - 1]
  kFILL = 3,           ///< the fill value (input 4, else 0)
  kREFLECT = 4,        ///< reflected about the edge elements, repeated indefinitely
};
constexpr int kNumSampleModes = 5;
/// Upper-case name of a sample mode ("STRICT_BOUNDS", ...).
const char* sample_mode_name(SampleMode m);

/// Parameters of a slice layer: output coordinate y reads input coordinate start + y * stride per axis.
struct SliceParams {
  Dims start;   ///< first coordinate per axis (may lie outside the input in the non-strict modes)
  Dims shape;   ///< output extents (>= 0)
  Dims stride;  ///< step per axis; negative steps walk backwards, 0 repeats one coordinate
  SampleMode mode = SampleMode::kSTRICT_BOUNDS;
};

/// Inputs: 0 data; optional 1 start, 2 shape, 3 stride (1-D int32/int64 tensors from Constant layers,
/// replacing the attribute); optional 4 fill value for FILL mode (one element of the data's dtype, read
/// at run time). TensorRT's input 5 (axes) is not supported.
class SliceLayer : public Layer {
 public:
  SliceLayer() : Layer(LayerKind::kSlice) {}
  SliceParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// start, shape and stride in effect (attributes, or the shape inputs that replace them).
  void effective(Dims* start, Dims* shape, Dims* stride) const;
  /// Fails (InvalidArgument naming the layer) when a STRICT_BOUNDS slice reads outside `input`; backends
  /// call it when they prepare the layer. Unknown (-1) extents are not checked.
  void check_bounds(const Dims& input) const;
  T2T_SERIALIZE_FIELDS(p.start, p.shape, p.stride, p.mode)
};

/// Adds a slice layer; it has TensorRT's five input slots, 1-4 left unset (null) for set_input.
SliceLayer* add_slice(Network& net, Tensor* input, const Dims& start, const Dims& shape, const Dims& stride);

/// Why a slice with these values reads outside `input` in STRICT_BOUNDS mode, or "" when it does not
/// (or when the mode is another one). Unknown (-1) extents are not checked.
std::string slice_bounds_problem(SampleMode mode, const Dims& input, const Dims& start, const Dims& shape,
                                 const Dims& stride);

/// Input coordinate read for coordinate x (may be outside [0, extent)) under a non-strict mode, or -1 for
/// the fill value. Requires extent > 0 except in FILL mode.
int64_t sample_coordinate(SampleMode mode, int64_t x, int64_t extent);

}  // namespace torch2trt
