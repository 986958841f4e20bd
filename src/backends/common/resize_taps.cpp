#include "backends/common/resize_taps.h"

#include <algorithm>
#include <cmath>

namespace torch2trt {
namespace {

float cubic_near(float x, float a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }       // |x| <= 1
float cubic_far(float x, float a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }  // 1 < |x| < 2

}  // namespace

int64_t nearest_index(ResizeRoundMode r, float x, int64_t in) {
  float v = 0.f;
  switch (r) {
    case ResizeRoundMode::kHALF_UP: v = std::floor(x + 0.5f); break;
    case ResizeRoundMode::kHALF_DOWN: v = std::ceil(x - 0.5f); break;
    case ResizeRoundMode::kFLOOR: v = std::floor(x); break;
    case ResizeRoundMode::kCEIL: v = std::ceil(x); break;
  }
  return std::clamp<int64_t>(static_cast<int64_t>(v), 0, in - 1);
}

void resize_taps(const ResizeParams& p, float s, int64_t in, int64_t out, ResizeTaps* taps) {
  ResizeTaps& ps = *taps;
  ps.k = p.mode == InterpolationMode::kLINEAR ? 2 : 4;
  ps.idx.resize(out * ps.k);
  ps.w.resize(out * ps.k);
  for (int64_t j = 0; j < out; ++j) {
    float x = resize_source_coordinate(p, s, j, out);
    int64_t* ix = &ps.idx[j * ps.k];
    float* w = &ps.w[j * ps.k];
    if (p.mode == InterpolationMode::kLINEAR) {
      if (x < 0) x = 0;
      int64_t i0 = std::min(static_cast<int64_t>(std::floor(x)), in - 1);
      float t = std::clamp(x - static_cast<float>(i0), 0.f, 1.f);
      ix[0] = i0, ix[1] = std::min(i0 + 1, in - 1);
      w[0] = 1.f - t, w[1] = t;
      continue;
    }
    int64_t i0 = std::min(static_cast<int64_t>(std::floor(x)), in - 1);
    float t = std::clamp(x - static_cast<float>(i0), 0.f, 1.f);
    float a = p.cubic_coeff;
    float cw[4] = {cubic_far(t + 1, a), cubic_near(t, a), cubic_near(1 - t, a), cubic_far(2 - t, a)};
    float kept = 0.f;
    for (int q = 0; q < 4; ++q) {
      int64_t src = i0 - 1 + q;
      bool outside = src < 0 || src >= in;
      if (p.exclude_outside && outside) cw[q] = 0.f;
      kept += cw[q];
      ix[q] = std::clamp<int64_t>(src, 0, in - 1);
    }
    // exclude_outside renormalises what is left (ONNX Resize semantics); the Keys kernel's weights
    // already sum to 1, so this only changes anything near the borders.
    if (p.exclude_outside && kept != 0.f)
      for (float& v : cw) v /= kept;
    for (int q = 0; q < 4; ++q) w[q] = cw[q];
  }
}

}  // namespace torch2trt
