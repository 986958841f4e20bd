// Pooling windows shared by the CPU and CUDA kernels: which input elements each output reads.
#pragma once

#include <cstdint>

#include "backends/common/hd.h"
#include "torch2trt/layers/pooling.h"

namespace torch2trt {

/// The geometry with 1-D and 2-D cases lifted to 3-D (leading unit dimensions).
struct PoolGeo3 {
  int64_t outer = 1;
  int64_t inner = 1;  ///< channels-last: channels stored innermost (element (o, s, c) at (o * isp + s) * inner + c)
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, win[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1};
  int64_t pre[3] = {0, 0, 0}, post[3] = {0, 0, 0};
};

/// Lifts a pooling geometry to three spatial dims.
inline PoolGeo3 lift_pool_geometry(const PoolingGeometry& g) {
  PoolGeo3 r;
  r.outer = g.outer;
  r.inner = g.inner;
  int off = 3 - g.nsp;
  for (int i = 0; i < g.nsp; ++i) {
    r.in[off + i] = g.in[i];
    r.out[off + i] = g.out[i];
    r.win[off + i] = g.window[i];
    r.stride[off + i] = g.stride[i];
    r.dil[off + i] = g.dilation[i];
    r.pre[off + i] = g.pre[i];
    r.post[off + i] = g.post[i];
  }
  return r;
}

/// What a pooling kernel computes besides the geometry.
struct PoolMode {
  PoolingType type;
  bool adaptive, exclude_padding;
  float blend;
};

/// The input taps of output position o along one dimension: [first, first + count*step) within the
/// input, and the divisor that PyTorch's count_include_pad uses (the window clipped to the padding).
struct PoolTaps {
  int64_t first, count, step, padded;
};

/// Taps of output `o` along lifted dim `a` (PyTorch's windows; adaptive: floor/ceil of o * in / out).
T2T_HD PoolTaps pool_window_taps(const PoolGeo3& g, int a, int64_t o, bool adaptive) {
  if (adaptive) {
    int64_t s = o * g.in[a] / g.out[a];
    int64_t e = ((o + 1) * g.in[a] + g.out[a] - 1) / g.out[a];
    return {s, e - s, 1, e - s};
  }
  int64_t start = o * g.stride[a] - g.pre[a], d = g.dil[a];
  int64_t k_lo = start >= 0 ? 0 : (-start + d - 1) / d;
  int64_t k_last = (g.in[a] - 1 - start) / d + 1;  // start <= in - 1 by the shape rule
  int64_t k_hi = g.win[a] < k_last ? g.win[a] : k_last;
  int64_t end = start + g.win[a], limit = g.in[a] + g.post[a];
  int64_t padded = (end < limit ? end : limit) - start;
  int64_t count = k_hi - k_lo;
  return {start + k_lo * d, count > 0 ? count : 0, d, padded};
}

}  // namespace torch2trt
