#include "torch2trt/layers/resize.h"

#include <cmath>

namespace torch2trt {

const char* interpolation_mode_name(InterpolationMode m) {
  switch (m) {
    case InterpolationMode::kNEAREST: return "NEAREST";
    case InterpolationMode::kLINEAR: return "LINEAR";
    case InterpolationMode::kCUBIC: return "CUBIC";
  }
  return "?";
}

const char* resize_coordinate_transformation_name(ResizeCoordinateTransformation t) {
  switch (t) {
    case ResizeCoordinateTransformation::kALIGN_CORNERS: return "ALIGN_CORNERS";
    case ResizeCoordinateTransformation::kASYMMETRIC: return "ASYMMETRIC";
    case ResizeCoordinateTransformation::kHALF_PIXEL: return "HALF_PIXEL";
  }
  return "?";
}

float resize_coordinate_scale(ResizeCoordinateTransformation t, int64_t in, int64_t out, double scale) {
  // The casts mirror ATen's area_pixel_compute_scale<float>, so indices agree with PyTorch bit for bit.
  if (t == ResizeCoordinateTransformation::kALIGN_CORNERS)
    return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.f;
  if (scale > 0) return static_cast<float>(1.0 / scale);
  return static_cast<float>(in) / static_cast<float>(out);
}

float resize_source_coordinate(const ResizeParams& p, float s, int64_t dst, int64_t out) {
  if (out == 1 && p.selector_for_single_pixel == ResizeSelector::kUPPER) return 0.f;
  float d = static_cast<float>(dst);
  switch (p.coordinate_transformation) {
    case ResizeCoordinateTransformation::kALIGN_CORNERS:
    case ResizeCoordinateTransformation::kASYMMETRIC: return d * s;
    case ResizeCoordinateTransformation::kHALF_PIXEL: return s * (d + 0.5f) - 0.5f;
  }
  return 0.f;
}

std::vector<TensorDesc> ResizeLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1)
    fail("inputs", "expects 1 input, got " + std::to_string(in.size()) +
                       " (a run-time shape tensor as input 1 is not supported; set `shape` or `scales`)");
  if (in[0].dims.nb_dims < 0) fail("input", "the input must be set");
  const Dims& x = in[0].dims;
  if (static_cast<int>(p.mode) < 0 || static_cast<int>(p.mode) >= kNumInterpolationModes)
    fail("resize_mode", "unknown interpolation mode " + std::to_string(static_cast<int>(p.mode)));
  if (static_cast<int>(p.coordinate_transformation) < 0 ||
      static_cast<int>(p.coordinate_transformation) >= kNumResizeCoordinateTransformations)
    fail("coordinate_transformation",
         "unknown coordinate transformation " + std::to_string(static_cast<int>(p.coordinate_transformation)));
  if (static_cast<int>(p.selector_for_single_pixel) < 0 ||
      static_cast<int>(p.selector_for_single_pixel) >= kNumResizeSelectors)
    fail("selector_for_single_pixel", "unknown selector " + std::to_string(static_cast<int>(p.selector_for_single_pixel)));
  if (static_cast<int>(p.nearest_rounding) < 0 || static_cast<int>(p.nearest_rounding) >= kNumResizeRoundModes)
    fail("nearest_rounding", "unknown rounding mode " + std::to_string(static_cast<int>(p.nearest_rounding)));
  if (!std::isfinite(p.cubic_coeff)) fail("cubic_coeff", "must be finite");
  if (x.nb_dims < 1) fail("input", "a resize needs a tensor of rank >= 1, got a scalar");
  DataType t = in[0].dtype;
  if (t == DataType::kFP8) fail("input", "fp8 tensors are not supported; cast to float first");
  if (p.mode != InterpolationMode::kNEAREST && !is_floating(t))
    fail("input", std::string(interpolation_mode_name(p.mode)) + " resize needs a float tensor, got " + dtype_name(t) +
                      "; use NEAREST or cast first");
  if (p.shape.nb_dims > 0 && !p.scales.empty())
    fail("shape/scales", "both are set (shape " + p.shape.str() + " and " + std::to_string(p.scales.size()) +
                             " scales); set only one");

  TensorDesc o{t, x};
  if (p.shape.nb_dims > 0) {
    if (p.shape.nb_dims != x.nb_dims)
      fail("shape", "has " + std::to_string(p.shape.nb_dims) + " dims but the input " + x.str() + " has " +
                        std::to_string(x.nb_dims) + "; give every dim (the input extent for dims left alone)");
    for (int i = 0; i < x.nb_dims; ++i) {
      if (p.shape.d[i] < 0)
        fail("shape", p.shape.str() + " has a negative extent at dim " + std::to_string(i));
      if (x.d[i] == 0 && p.shape.d[i] > 0)
        fail("shape", "dim " + std::to_string(i) + " of the input " + x.str() + " is empty and cannot be resized to " +
                          std::to_string(p.shape.d[i]));
    }
    o.dims = p.shape;
  } else if (!p.scales.empty()) {
    if (static_cast<int>(p.scales.size()) != x.nb_dims)
      fail("scales", "has " + std::to_string(p.scales.size()) + " values but the input " + x.str() + " has " +
                         std::to_string(x.nb_dims) + " dims; give every dim (1.0 for dims left alone)");
    for (int i = 0; i < x.nb_dims; ++i) {
      double s = p.scales[i];
      if (!(s > 0) || !std::isfinite(s))
        fail("scales", "scale " + std::to_string(s) + " of dim " + std::to_string(i) + " must be finite and > 0");
      if (x.d[i] < 0) continue;  // known at run time
      // floor(in * scale) in double, as torch computes the output size from scale_factor.
      double v = std::floor(static_cast<double>(x.d[i]) * s);
      if (v > 9.0e15) fail("scales", "scale " + std::to_string(s) + " of dim " + std::to_string(i) + " is too large");
      o.dims.d[i] = static_cast<int64_t>(v);
      if (x.d[i] > 0 && o.dims.d[i] == 0)
        fail("scales", "scale " + std::to_string(s) + " turns extent " + std::to_string(x.d[i]) + " of dim " +
                           std::to_string(i) + " (input " + x.str() + ") into 0");
    }
  }
  return {o};
}

ResizeLayer* add_resize(Network& net, Tensor* input) {
  return net.add(std::make_unique<ResizeLayer>(), {input}, "add_resize");
}

}  // namespace torch2trt
