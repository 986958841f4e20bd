// Device-side helpers shared by the CUDA kernels (.cu files only): element types, conversions,
// dtype dispatch, launch sizing and broadcast/strided indexing.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "backends/cpu/cpu_util.h"
#include "backends/cuda/cuda_util.h"

namespace torch2trt::gpu {

using half = __half;
using bf16 = __nv_bfloat16;

/// Storage type -> float, the compute type of every floating kernel.
template <class T>
__device__ __forceinline__ float to_float(T x) {
  return static_cast<float>(x);
}
template <>
__device__ __forceinline__ float to_float<half>(half x) {
  return __half2float(x);
}
template <>
__device__ __forceinline__ float to_float<bf16>(bf16 x) {
  return __bfloat162float(x);
}

/// float -> storage type (round to nearest even for the half types).
template <class T>
__device__ __forceinline__ T from_float(float x) {
  return static_cast<T>(x);
}
template <>
__device__ __forceinline__ half from_float<half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ bf16 from_float<bf16>(float x) {
  return __float2bfloat16_rn(x);
}

/// True for the storage types computed in float.
template <class T>
constexpr bool is_float_storage_v = std::is_same_v<T, float> || std::is_same_v<T, half> || std::is_same_v<T, bf16>;

/// Throws Unsupported for a dtype a kernel's dispatch does not cover. The factories refuse such dtypes
/// before a kernel exists, so this only guards against a factory and its kernel disagreeing.
[[noreturn]] inline void dispatch_failed(const char* what, const std::string& detail) {
  throw Unsupported(std::string("CUDA kernel dispatch (") + what + "): " + detail + " is not handled");
}

/// Calls f(T{}) with T = float, half or bf16 for a floating dtype; throws for other dtypes.
template <class F>
void dispatch_float(DataType t, F&& f) {
  switch (t) {
    case DataType::kFLOAT: f(float{}); return;
    case DataType::kHALF: f(half{}); return;
    case DataType::kBF16: f(bf16{}); return;
    default: dispatch_failed("float types", dtype_name(t));
  }
}

/// Calls f(T{}) with the storage type of any numeric dtype (bool and uint8 as uint8_t); throws for fp8.
template <class F>
void dispatch_any(DataType t, F&& f) {
  switch (t) {
    case DataType::kFLOAT: f(float{}); return;
    case DataType::kHALF: f(half{}); return;
    case DataType::kBF16: f(bf16{}); return;
    case DataType::kINT32: f(int32_t{}); return;
    case DataType::kINT64: f(int64_t{}); return;
    case DataType::kINT8: f(int8_t{}); return;
    case DataType::kBOOL:
    case DataType::kUINT8: f(uint8_t{}); return;
    case DataType::kFP8: break;
  }
  dispatch_failed("numeric types", dtype_name(t));
}

/// Calls f(T{}) with an unsigned type of `bytes` bytes (1, 2, 4, 8): for kernels that only move data.
template <class F>
void dispatch_bytes(size_t bytes, F&& f) {
  switch (bytes) {
    case 1: f(uint8_t{}); return;
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: dispatch_failed("element sizes", std::to_string(bytes) + "-byte elements");
  }
}

/// Threads per block of the simple 1-D kernels.
constexpr int kBlock = 256;

/// Blocks for a grid-stride loop over n items: enough to fill the device, never more than needed.
inline unsigned grid_1d(int64_t n, int block = kBlock) {
  int64_t need = (n + block - 1) / block;
  int64_t cap = static_cast<int64_t>(sm_count()) * 32;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(need, cap)));
}

/// Index arithmetic of an N-operand strided loop over a dense output of `rank` dims: for the
/// linear output index i, off[k] is operand k's element offset. Dims of extent 1 are dropped and
/// dims contiguous in every operand merged (make_offset_calc), so the common cases are rank 1-3.
template <int N>
struct OffsetCalc {
  int rank = 0;
  int64_t dims[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  __host__ __device__ __forceinline__ void get(int64_t i, int64_t* off) const {
    if (rank == 1) {  // the usual case after merging: no division at all
      for (int k = 0; k < N; ++k) off[k] = i * strides[k][0];
      return;
    }
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      int64_t e = dims[d];
      int64_t c = i % e;
      i /= e;
      for (int k = 0; k < N; ++k) off[k] += c * strides[k][d];
    }
  }
};

/// Builds an OffsetCalc for a dense output `out` and N operands given by their strides over out's
/// dims (0 where an operand is broadcast; any other value for permuted or sliced views).
template <int N>
OffsetCalc<N> make_offset_calc(const Dims& out, const int64_t (&strides)[N][kMaxDims]) {
  OffsetCalc<N> c;
  for (int d = 0; d < out.nb_dims; ++d) {
    if (out.d[d] == 1) continue;
    bool merge = c.rank > 0;
    for (int k = 0; k < N && merge; ++k) merge = c.strides[k][c.rank - 1] == strides[k][d] * out.d[d];
    if (merge) {
      c.dims[c.rank - 1] *= out.d[d];
      for (int k = 0; k < N; ++k) c.strides[k][c.rank - 1] = strides[k][d];
    } else {
      c.dims[c.rank] = out.d[d];
      for (int k = 0; k < N; ++k) c.strides[k][c.rank] = strides[k][d];
      ++c.rank;
    }
  }
  if (c.rank == 0) {  // a single element
    c.rank = 1;
    c.dims[0] = 1;
  }
  return c;
}

/// Strides of an operand of shape `in` broadcast (numpy rules, right-aligned) to `out`.
inline void broadcast_strides(const Dims& in, const Dims& out, int64_t* strides) {
  cpu::broadcast_strides(in, out, strides);
}

/// Sum over the 32 lanes of a full warp (butterfly: every lane gets the result).
template <class Acc>
__device__ __forceinline__ Acc warp_sum(Acc v) {
  for (int w = 16; w > 0; w >>= 1) v += __shfl_xor_sync(0xffffffffu, v, w);
  return v;
}

/// Reduces one value per thread over the block with merge(a, b); every thread gets the result.
/// blockDim.x must be a power of two and `smem` hold blockDim.x values.
template <class Acc, class Merge>
__device__ __forceinline__ Acc block_reduce(Acc v, Merge merge, Acc* smem) {
  const int t = threadIdx.x;
  smem[t] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) smem[t] = merge(smem[t], smem[t + s]);
    __syncthreads();
  }
  Acc r = smem[0];
  __syncthreads();  // smem may be reused right after
  return r;
}

/// Smallest power of two >= n, clamped to [lo, hi]: block sizes for block_reduce.
inline int pow2_block(int64_t n, int lo, int hi) {
  int b = lo;
  while (b < hi && b < n) b *= 2;
  return b;
}

/// Grid-stride loop calling op(i) for i in [0, n).
template <class Op>
__global__ void index_kernel(int64_t n, Op op) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    op(i);
}

/// Launches index_kernel on `stream` and checks the launch.
template <class Op>
void launch_1d(int64_t n, const Op& op, cudaStream_t stream, const char* name) {
  if (n <= 0) return;
  index_kernel<Op><<<grid_1d(n), kBlock, 0, stream>>>(n, op);
  check_launch(name);
}

/// Grid-stride loop over n output elements calling op(i, off) with the N operand offsets of i.
template <int N, class Op>
__global__ void strided_kernel(int64_t n, OffsetCalc<N> calc, Op op) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[N];
    calc.get(i, off);
    op(i, off);
  }
}

/// Division of 32-bit indices below 2^31 by a fixed divisor d (1 <= d <= 2^31) as a multiply-high and a
/// shift (Granlund-Montgomery): the strided kernels spent most of their time in 64-bit divisions.
struct FastDiv {
  uint32_t d = 1, m = 1, s = 0;
  FastDiv() = default;
  explicit FastDiv(uint32_t div) : d(div) {
    while (s < 32 && (uint64_t(1) << s) < d) ++s;
    m = static_cast<uint32_t>(((uint64_t(1) << 32) * ((uint64_t(1) << s) - d)) / d + 1);
  }
  __device__ __forceinline__ uint32_t div(uint32_t n) const { return (__umulhi(n, m) + n) >> s; }
};

/// OffsetCalc for outputs below 2^31 elements whose operand offsets fit in int32: 32-bit index math.
template <int N>
struct OffsetCalc32 {
  int rank = 0;
  FastDiv dims[kMaxDims];
  int32_t strides[N][kMaxDims] = {};

  __device__ __forceinline__ void get(uint32_t i, int64_t* off) const {
    int32_t o[N];
    for (int k = 0; k < N; ++k) o[k] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const uint32_t q = d == 0 ? 0 : dims[d].div(i);
      const int32_t c = static_cast<int32_t>(i - q * dims[d].d);
      i = q;
      for (int k = 0; k < N; ++k) o[k] += c * strides[k][d];
    }
    for (int k = 0; k < N; ++k) off[k] = o[k];
  }
};

/// The 32-bit form of `c` for n output elements, when every index and offset fits (else false).
template <int N>
bool narrow_offset_calc(const OffsetCalc<N>& c, int64_t n, OffsetCalc32<N>* out) {
  constexpr int64_t kLim = int64_t(1) << 31;
  if (n >= kLim) return false;
  out->rank = c.rank;
  for (int k = 0; k < N; ++k) {
    int64_t reach = 0;  // the largest |offset| operand k can take
    for (int d = 0; d < c.rank; ++d) {
      const int64_t st = c.strides[k][d] < 0 ? -c.strides[k][d] : c.strides[k][d];
      if (st >= kLim) return false;
      reach += (c.dims[d] - 1) * st;
      if (reach >= kLim) return false;
      out->strides[k][d] = static_cast<int32_t>(c.strides[k][d]);
    }
  }
  for (int d = 0; d < c.rank; ++d) out->dims[d] = FastDiv(static_cast<uint32_t>(c.dims[d]));
  return true;
}

template <int N, class Op>
__global__ void strided_kernel32(uint32_t n, OffsetCalc32<N> calc, Op op) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    int64_t off[N];
    calc.get(i, off);
    op(static_cast<int64_t>(i), off);
  }
}

/// Launches strided_kernel (strided_kernel32 where the sizes allow) on `stream` and checks the launch.
template <int N, class Op>
void launch_strided(int64_t n, const OffsetCalc<N>& calc, const Op& op, cudaStream_t stream, const char* name) {
  if (n <= 0) return;
  OffsetCalc32<N> c32;
  if (narrow_offset_calc(calc, n, &c32))
    strided_kernel32<N, Op><<<grid_1d(n), kBlock, 0, stream>>>(static_cast<uint32_t>(n), c32, op);
  else
    strided_kernel<N, Op><<<grid_1d(n), kBlock, 0, stream>>>(n, calc, op);
  check_launch(name);
}

}  // namespace torch2trt::gpu
