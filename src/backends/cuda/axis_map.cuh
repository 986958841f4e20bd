// Per-axis offset tables on the device: the CUDA side of cpu::AxisMap (backends/cpu/move_util.h), which
// describes slices, paddings and transposes alike. The host builds the map with the shared helpers
// (sample_coordinate, pad_source); the kernel sums one table entry per axis.
#pragma once

#include <cstring>

#include "backends/cpu/move_util.h"
#include "backends/cuda/cuda_device.cuh"

namespace torch2trt::gpu {

/// A cpu::AxisMap as the kernel reads it: the tables of all axes concatenated in `table`.
struct AxisMapView {
  int rank = 0;
  int64_t dims[kMaxDims] = {};
  int64_t start[kMaxDims] = {};  ///< where axis d's table begins in `table`
  const int64_t* table = nullptr;
};

/// dst[i] = src[sum_d table[start[d] + y_d]] for output coordinate y of i, or the fill value where any
/// entry is negative. The fill is *fill_ptr when given (a run-time input), else `fill`.
template <class T>
struct AxisMapOp {
  AxisMapView m;
  const T* src;
  T* dst;
  const T* fill_ptr;
  T fill;
  __device__ __forceinline__ void operator()(int64_t i) const {
    int64_t off = 0, r = i;
    bool filled = false;
    for (int d = m.rank - 1; d >= 0; --d) {
      int64_t c = r % m.dims[d];
      r /= m.dims[d];
      int64_t o = m.table[m.start[d] + c];
      filled = filled || o < 0;
      off += o;
    }
    dst[i] = filled ? (fill_ptr ? *fill_ptr : fill) : src[off];
  }
};

/// An AxisMap uploaded to the device.
class DeviceAxisMap {
 public:
  /// Uploads `m` (synchronously; called from Kernel::reshape).
  void upload(const cpu::AxisMap& m) {
    std::vector<int64_t> all;
    view_.rank = m.dims.nb_dims;
    for (int d = 0; d < m.dims.nb_dims; ++d) {
      view_.dims[d] = m.dims.d[d];
      view_.start[d] = static_cast<int64_t>(all.size());
      all.insert(all.end(), m.offset[d].begin(), m.offset[d].end());
    }
    if (all.empty()) all.push_back(0);  // rank 0: one element at offset 0
    buf_.upload(all.data(), all.size() * sizeof(int64_t));
    view_.table = buf_.as<const int64_t>();
  }
  /// Runs the map over elements of `bytes` bytes; `fill_bits` holds the fill in its leading bytes.
  void run(size_t bytes, const void* src, void* dst, int64_t n, const void* fill_ptr, uint64_t fill_bits,
           cudaStream_t stream, const char* name) const {
    dispatch_bytes(bytes, [&](auto tag) {
      using T = decltype(tag);
      T fill;
      std::memcpy(&fill, &fill_bits, sizeof(T));
      launch_1d(n, AxisMapOp<T>{view_, static_cast<const T*>(src), static_cast<T*>(dst), static_cast<const T*>(fill_ptr), fill},
                stream, name);
    });
  }

 private:
  AxisMapView view_;
  DeviceBuffer buf_;
};

/// Why a data-movement kernel cannot take dtype `t` on CUDA ("" when it can).
inline std::string move_dtype_problem(DataType t, const char* what) {
  if (t == DataType::kFP8) return std::string("no CUDA kernel for ") + what + " of fp8";
  return "";
}

}  // namespace torch2trt::gpu
