// Resize layer (TensorRT's IResizeLayer): nearest, linear and cubic resampling over any set of dims.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// How output values are sampled; values follow TensorRT's InterpolationMode (Python alias ResizeMode).
enum class InterpolationMode : int32_t {
  kNEAREST = 0,  ///< the input value at the rounded source coordinate (see ResizeRoundMode)
  kLINEAR = 1,   ///< linear / bilinear / trilinear: separable 2-tap interpolation on every resized dim
  kCUBIC = 2,    ///< separable 4-tap cubic convolution with coefficient `cubic_coeff` (Keys kernel)
};
/// Number of InterpolationMode values (for validation).
constexpr int kNumInterpolationModes = 3;
/// "NEAREST", "LINEAR", "CUBIC".
const char* interpolation_mode_name(InterpolationMode m);

/// How an output index maps to a source coordinate; values follow TensorRT.
/// With `s` the per-dim scale (in/out, or 1/scales[i] when scales are given):
enum class ResizeCoordinateTransformation : int32_t {
  kALIGN_CORNERS = 0,  ///< x = dst * (in - 1) / (out - 1)   (PyTorch align_corners=True)
  kASYMMETRIC = 1,     ///< x = dst * s                       (PyTorch "nearest")
  kHALF_PIXEL = 2,     ///< x = (dst + 0.5) * s - 0.5         (PyTorch align_corners=False, "nearest-exact")
};
/// Number of ResizeCoordinateTransformation values (for validation).
constexpr int kNumResizeCoordinateTransformations = 3;
/// "ALIGN_CORNERS", "ASYMMETRIC", "HALF_PIXEL".
const char* resize_coordinate_transformation_name(ResizeCoordinateTransformation t);

/// Which coordinate an output extent of 1 samples; values follow TensorRT's ResizeSelector.
enum class ResizeSelector : int32_t {
  kFORMULA = 0,  ///< the coordinate transformation's formula
  kUPPER = 1,    ///< source coordinate 0 (the upper-left pixel)
};
/// Number of ResizeSelector values (for validation).
constexpr int kNumResizeSelectors = 2;

/// How NEAREST rounds a fractional source coordinate; values follow TensorRT.
enum class ResizeRoundMode : int32_t {
  kHALF_UP = 0,    ///< floor(x + 0.5)  (PyTorch "nearest-exact" with HALF_PIXEL)
  kHALF_DOWN = 1,  ///< ceil(x - 0.5)
  kFLOOR = 2,      ///< floor(x)        (PyTorch "nearest" with ASYMMETRIC)
  kCEIL = 3,       ///< ceil(x)
};
/// Number of ResizeRoundMode values (for validation).
constexpr int kNumResizeRoundModes = 4;

/// Parameters of a resize layer. Set at most one of `shape` and `scales`; with neither the output
/// has the input's shape. Every dim is listed (use 1 / the input extent for dims left alone).
struct ResizeParams {
  Dims shape;                  ///< output extents (rank 0: unset); the mapping uses s = in / out
  std::vector<double> scales;  ///< per-dim factors (empty: unset): out = floor(in * scale), mapping s = 1 / scale
  InterpolationMode mode = InterpolationMode::kNEAREST;  ///< TensorRT's resize_mode
  ResizeCoordinateTransformation coordinate_transformation = ResizeCoordinateTransformation::kASYMMETRIC;
  ResizeSelector selector_for_single_pixel = ResizeSelector::kFORMULA;
  ResizeRoundMode nearest_rounding = ResizeRoundMode::kFLOOR;  ///< NEAREST only
  float cubic_coeff = -0.75f;    ///< CUBIC: the "A" of the cubic convolution kernel (PyTorch uses -0.75)
  /// Taps outside the input get weight 0 and the others are renormalised (ONNX Resize). Only CUBIC is
  /// affected: NEAREST and LINEAR, with their clamping, never give weight to a tap outside the input.
  bool exclude_outside = false;
};

/// y = resample(x). NEAREST accepts every dtype but fp8; LINEAR and CUBIC need float tensors.
/// Source coordinates are computed in float32 in the same order as PyTorch's CPU kernels, so nearest
/// indices agree with F.interpolate exactly. LINEAR clamps negative coordinates to 0 and CUBIC clamps
/// its tap indices to the input, both as PyTorch does.
/// PyTorch quirk a converter must handle: for linear modes, torch leaves a dim whose output extent
/// equals its input extent untouched even when a scale_factor != 1 is given; pass scale 1 (or `shape`)
/// for such dims.
class ResizeLayer : public Layer {
 public:
  ResizeLayer() : Layer(LayerKind::kResize) {}
  ResizeParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.shape, p.scales, p.mode, p.coordinate_transformation, p.selector_for_single_pixel,
                       p.nearest_rounding, p.cubic_coeff, p.exclude_outside)
};

/// Adds a resize layer (output = input shape until `shape` or `scales` is set).
ResizeLayer* add_resize(Network& net, Tensor* input);

/// One resampled dim's source mapping for concrete extents: the float32 scale the coordinate formula uses.
/// `scale` is ResizeParams::scales[i] or 0 when the output extent was given.
float resize_coordinate_scale(ResizeCoordinateTransformation t, int64_t in, int64_t out, double scale);
/// Source coordinate of output index `dst` (before rounding or clamping), computed as PyTorch does.
float resize_source_coordinate(const ResizeParams& p, float s, int64_t dst, int64_t out);

}  // namespace torch2trt
