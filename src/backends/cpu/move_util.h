// Helpers shared by the CPU data-movement kernels (shuffle, slice, padding, gather, select, ...).
// These kernels copy elements as raw bits, so one instantiation per element size serves every dtype.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "backends/cpu/cpu_kernels.h"

namespace torch2trt::cpu {

/// Calls f(T{}) with an unsigned integer type as wide as one element of `t` (1, 2, 4 or 8 bytes).
template <class F>
void dispatch_bits(DataType t, F&& f) {
  switch (dtype_size(t)) {
    case 1: f(uint8_t{}); return;
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: break;
  }
  throw Unsupported(std::string("CPU data movement: elements of ") + dtype_name(t) + " are not 1, 2, 4 or 8 bytes");
}

/// Why a data-movement kernel cannot take dtype `t` ("" when it can): fp8 is the one dtype not handled.
inline std::string move_dtype_problem(DataType t, const char* what) {
  if (t == DataType::kFP8) return std::string(what) + " of fp8 is not implemented on the CPU";
  return "";
}

/// An output shape whose element y reads the source element at sum_i offset[i][y_i]; a negative entry on
/// any axis makes that element the fill value. Describes transposes, slices and paddings alike.
struct AxisMap {
  Dims dims;                                 ///< output shape
  std::vector<std::vector<int64_t>> offset;  ///< per axis, per output coordinate: element offset or -1

  /// The map of a plain transpose: output axis i is source axis perm[i] of a dense tensor `src`.
  static AxisMap permutation(const Dims& src, const std::vector<int32_t>& perm) {
    AxisMap m;
    m.dims.nb_dims = src.nb_dims;
    m.offset.resize(src.nb_dims);
    std::vector<int64_t> stride = contiguous_strides(src);
    for (int i = 0; i < src.nb_dims; ++i) {
      m.dims.d[i] = src.d[perm[i]];
      auto& o = m.offset[i];
      o.resize(static_cast<size_t>(m.dims.d[i]));
      for (int64_t y = 0; y < m.dims.d[i]; ++y) o[y] = y * stride[perm[i]];
    }
    return m;
  }
};

/// dst (dense, m.dims) = src read through m; `fill` where the map says so.
template <class T>
void run_axis_map(const AxisMap& m, const T* src, T* dst, T fill) {
  const int n = m.dims.nb_dims;
  if (n == 0) {
    dst[0] = src[0];
    return;
  }
  const int64_t inner = m.dims.d[n - 1];
  const int64_t total = m.dims.volume();
  if (total <= 0) return;
  const std::vector<int64_t>& last = m.offset[n - 1];
  bool contiguous = last[0] >= 0;  // the innermost axis reads consecutive source elements
  for (int64_t k = 1; contiguous && k < inner; ++k) contiguous = last[k] == last[0] + k;
  const int64_t rows = total / inner;
  parallel_for(rows, std::max<int64_t>(1, 16384 / inner), [&](int64_t b, int64_t e) {
    int64_t idx[kMaxDims] = {0};
    for (int64_t r = b, i = n - 2; i >= 0; --i) {
      idx[i] = r % m.dims.d[i];
      r /= m.dims.d[i];
    }
    for (int64_t row = b; row < e; ++row) {
      int64_t base = 0;
      bool filled = false;
      for (int i = 0; i < n - 1; ++i) {
        int64_t o = m.offset[i][idx[i]];
        filled = filled || o < 0;
        base += o;
      }
      T* out = dst + row * inner;
      if (filled) {
        for (int64_t k = 0; k < inner; ++k) out[k] = fill;
      } else if (contiguous) {
        std::memcpy(out, src + base + last[0], static_cast<size_t>(inner) * sizeof(T));
      } else {
        for (int64_t k = 0; k < inner; ++k) out[k] = last[k] < 0 ? fill : src[base + last[k]];
      }
      for (int i = n - 2; i >= 0; --i) {  // next row
        if (++idx[i] < m.dims.d[i]) break;
        idx[i] = 0;
      }
    }
  });
}

/// The bits of `v` stored as one element of dtype `t` (float32 for float16/bfloat16, which reach CPU kernels
/// as float32), in the low dtype_size(t) bytes. Integers truncate toward zero; bool is v != 0. The caller
/// has checked that v fits the type.
inline uint64_t value_bits(double v, DataType t) {
  uint64_t bits = 0;
  auto put = [&](auto x) { std::memcpy(&bits, &x, sizeof(x)); };
  switch (t) {
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16: put(static_cast<float>(v)); break;
    case DataType::kINT32: put(static_cast<int32_t>(v)); break;
    case DataType::kINT64: put(static_cast<int64_t>(v)); break;
    case DataType::kINT8: put(static_cast<int8_t>(v)); break;
    case DataType::kUINT8: put(static_cast<uint8_t>(v)); break;
    case DataType::kBOOL: put(static_cast<uint8_t>(v != 0)); break;
    case DataType::kFP8: break;
  }
  return bits;
}

/// Index value i of an int32 or int64 indices tensor.
inline int64_t index_at(const TensorView& v, int64_t i) {
  return v.dtype == DataType::kINT64 ? v.as<const int64_t>()[i] : v.as<const int32_t>()[i];
}

/// Normalizes a possibly negative index into [0, n), or returns -1 when it is out of range.
inline int64_t wrap_index(int64_t i, int64_t n) {
  if (i < 0) i += n;
  return i >= 0 && i < n ? i : -1;
}

}  // namespace torch2trt::cpu
