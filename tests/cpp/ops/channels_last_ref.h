// Reference helpers for channels-last layers: the float64 references are written channels-first, so a
// channels-last case moves its inputs to channels-first, runs the reference, and moves the result back.
#pragma once

#include "harness.h"
#include "torch2trt/layers/convolution.h"

namespace t2t_test {

/// x with its channel axis moved: to_last (..., C, *spatial) -> (..., *spatial, C), else the inverse.
inline HostTensor move_channels(const HostTensor& x, int nsp, bool to_last) {
  const Dims& d = x.dims;
  const int r = d.nb_dims, c = r - 1 - nsp;
  HostTensor y{x.dtype, to_last ? channels_last_dims(d, nsp) : channels_first_dims(d, nsp), {}};
  y.v.resize(x.v.size());
  // perm[i]: the source axis of destination axis i.
  std::vector<int> perm;
  for (int i = 0; i < c; ++i) perm.push_back(i);
  if (to_last) {
    for (int i = 0; i < nsp; ++i) perm.push_back(c + 1 + i);
    perm.push_back(c);
  } else {
    perm.push_back(r - 1);
    for (int i = 0; i < nsp; ++i) perm.push_back(c + i);
  }
  std::vector<int64_t> src_stride(r, 1);
  for (int i = r - 2; i >= 0; --i) src_stride[i] = src_stride[i + 1] * d.d[i + 1];
  std::vector<int64_t> idx(r, 0);
  for (int64_t o = 0; o < static_cast<int64_t>(y.v.size()); ++o) {
    int64_t rem = o, s = 0;
    for (int i = r - 1; i >= 0; --i) idx[i] = rem % y.dims.d[i], rem /= y.dims.d[i];
    for (int i = 0; i < r; ++i) s += idx[i] * src_stride[perm[i]];
    y.v[o] = x.v[s];
  }
  return y;
}

}  // namespace t2t_test
