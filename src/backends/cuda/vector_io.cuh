// Vector memory access (up to 16 bytes per thread, for memory-bound kernels such as channels-last pooling)
// and the vectorized epilogue y = act(y + bias[col] + z) shared by the convolution and matrix multiply
// kernels (.cu files only). The scalar epilogues read one element per thread with 64-bit index math and ran
// at a fraction of the memory bandwidth (MobileNet-V2's bias + ReLU6 after cuDNN: 22 us per call at batch
// 32 on an H200).
#pragma once

#include <cstdint>

#include "backends/common/pointwise_math.h"
#include "backends/cuda/act_kind.cuh"
#include "backends/cuda/cuda_device.cuh"

namespace torch2trt::gpu {

/// V consecutive elements moved as one memory access; the address must be aligned to sizeof(Pack).
template <class T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

/// Loads V elements at p (aligned to sizeof(Pack<T, V>)).
template <class T, int V>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p) {
  return *reinterpret_cast<const Pack<T, V>*>(p);
}

/// Stores V elements at p (aligned to sizeof(Pack<T, V>)).
template <class T, int V>
__device__ __forceinline__ void store_pack(T* p, const Pack<T, V>& x) {
  *reinterpret_cast<Pack<T, V>*>(p) = x;
}

/// True when p is a multiple of `bytes` (a power of two).
inline bool is_aligned(const void* p, size_t bytes) { return (reinterpret_cast<uintptr_t>(p) & (bytes - 1)) == 0; }

/// What the epilogue does besides the bias and the residual.
struct EpilogueOps {
  bool product = true;  ///< y holds a product to read (false: an empty sum, read as 0)
  bool has_act = false;
  ActivationParams act;
};

/// y = act((product ? y : 0) + bias[col] + z) in place over a dense tensor of rows of `row_vecs` vectors of V
/// elements, the column being the bias index (bias and z optional). Index type I is uint32_t when the
/// element count is below 2^31. The additions run in the scalar epilogues' order, so results are the same.
template <class T, class B, int V, class I>
__global__ void epilogue_vec(T* y, const B* __restrict__ bias, const T* __restrict__ z, EpilogueOps e, I nvec,
                             I row_vecs) {
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < nvec; i += static_cast<I>(gridDim.x) * blockDim.x) {
    const I off = i * V;
    float v[V];
    if (e.product) {
      const Pack<T, V> p = load_pack<T, V>(y + off);
#pragma unroll
      for (int j = 0; j < V; ++j) v[j] = to_float(p.v[j]);
    } else {
#pragma unroll
      for (int j = 0; j < V; ++j) v[j] = 0.f;
    }
    if (bias) {
      const Pack<B, V> b = load_pack<B, V>(bias + (i % row_vecs) * V);
#pragma unroll
      for (int j = 0; j < V; ++j) v[j] += to_float(b.v[j]);
    }
    if (z) {
      const Pack<T, V> r = load_pack<T, V>(z + off);
#pragma unroll
      for (int j = 0; j < V; ++j) v[j] += to_float(r.v[j]);
    }
    Pack<T, V> o;
    with_act_kind(act_kind_of(e.has_act, e.act.type), [&](auto kind) {
#pragma unroll
      for (int j = 0; j < V; ++j) o.v[j] = from_float<T>(act_of<decltype(kind)::value>(v[j], e.act));
    });
    store_pack<T, V>(y + off, o);
  }
}

/// Launches epilogue_vec over `total` elements of y in rows of `cols` (the bias index innermost) and returns
/// true, when the vector form applies: cols a multiple of 16 / sizeof(T), y and z 16-byte aligned, the bias
/// aligned to its vector. Else returns false and launches nothing (the caller runs its scalar kernel).
template <class T, class B>
bool launch_epilogue_vec(T* y, const B* bias, const T* z, const EpilogueOps& e, int64_t total, int64_t cols,
                         cudaStream_t s) {
  constexpr int V = 16 / sizeof(T);
  if (total <= 0 || cols <= 0 || cols % V != 0 || total % cols != 0) return false;
  if (!is_aligned(y, 16) || (z && !is_aligned(z, 16)) || (bias && !is_aligned(bias, sizeof(Pack<B, V>)))) return false;
  const int64_t nvec = total / V, row_vecs = cols / V;
  if (total < (int64_t(1) << 31))
    epilogue_vec<T, B, V, uint32_t><<<grid_1d(nvec), kBlock, 0, s>>>(y, bias, z, e, static_cast<uint32_t>(nvec),
                                                                     static_cast<uint32_t>(row_vecs));
  else
    epilogue_vec<T, B, V, int64_t><<<grid_1d(nvec), kBlock, 0, s>>>(y, bias, z, e, nvec, row_vecs);
  check_launch("epilogue_vec");
  return true;
}

}  // namespace torch2trt::gpu
