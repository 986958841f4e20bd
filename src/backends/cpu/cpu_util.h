// Small helpers shared by CPU kernels: typed dispatch and broadcast indexing.
#pragma once

#include <string>

#include "backends/backend.h"

namespace torch2trt::cpu {

/// Calls f(T{}) with T the C++ type of dtype t (float, int32_t, int64_t, int8_t, uint8_t for bool/uint8).
/// Float16/bfloat16 never reach CPU kernels (see cpu_kernels.h). Throws for other types.
template <class F>
void dispatch_dtype(DataType t, F&& f) {
  switch (t) {
    case DataType::kFLOAT: f(float{}); return;
    case DataType::kINT32: f(int32_t{}); return;
    case DataType::kINT64: f(int64_t{}); return;
    case DataType::kINT8: f(int8_t{}); return;
    case DataType::kBOOL:
    case DataType::kUINT8: f(uint8_t{}); return;
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kFP8: break;
  }
  throw Unsupported(std::string("CPU kernel: dtype ") + dtype_name(t) + " not handled here");
}

/// Strides of `in` (rank <= out rank, right-aligned) for iterating over `out`'s shape: 0 where broadcast.
inline void broadcast_strides(const Dims& in, const Dims& out, int64_t* strides) {
  int64_t acc = 1;
  for (int i = out.nb_dims - 1; i >= 0; --i) {
    int k = in.nb_dims - out.nb_dims + i;
    if (k < 0 || in.d[k] == 1) {
      strides[i] = 0;
    } else {
      strides[i] = acc;
    }
    if (k >= 0) acc *= in.d[k];
  }
}

/// Offset into a broadcast input for linear output index `idx`.
inline int64_t broadcast_offset(int64_t idx, const Dims& out, const int64_t* strides) {
  int64_t off = 0;
  for (int i = out.nb_dims - 1; i >= 0; --i) {
    int64_t e = out.d[i];
    int64_t c = idx % e;
    idx /= e;
    off += c * strides[i];
  }
  return off;
}

/// Splits dims `d` around `axis`: outer = product of the extents before it, n = its extent,
/// inner = product of the extents after it (the stride of `axis`).
inline void split_at_axis(const Dims& d, int axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *outer = 1, *inner = 1;
  for (int i = 0; i < axis; ++i) *outer *= d.d[i];
  for (int i = axis + 1; i < d.nb_dims; ++i) *inner *= d.d[i];
  *n = d.d[axis];
}

}  // namespace torch2trt::cpu
