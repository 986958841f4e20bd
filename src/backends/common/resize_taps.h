// Resize source taps shared by the CPU and CUDA kernels (computed on the host, per shape).
#pragma once

#include <cstdint>
#include <vector>

#include "torch2trt/layers/resize.h"

namespace torch2trt {

/// Nearest source index of coordinate x under rounding mode r, clamped to [0, in).
int64_t nearest_index(ResizeRoundMode r, float x, int64_t in);

/// The taps of one resampled dim: output index j reads idx[j*k .. j*k+k) with weights w[...].
struct ResizeTaps {
  int k = 0;
  std::vector<int64_t> idx;
  std::vector<float> w;
};

/// Fills LINEAR (k = 2) or CUBIC (k = 4) taps for `in` -> `out` elements with coordinate scale `s`,
/// following ATen's guard_index_and_lambda: the base index is clamped to the last input element and
/// the fraction to [0, 1]; LINEAR clamps negative coordinates to 0 first.
void resize_taps(const ResizeParams& p, float s, int64_t in, int64_t out, ResizeTaps* taps);

}  // namespace torch2trt
