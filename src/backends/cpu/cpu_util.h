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

}  // namespace torch2trt::cpu
