// Fused attention, flash-attention style: each block owns a tile of queries of one (batch, head) and
// streams the keys and values through shared memory in tiles, keeping a running max and sum per query
// (online softmax), so the Sq x Sk scores never reach global memory.
//   float16 / bfloat16: tensor cores (WMMA 16x16x16, float accumulation) for q·kᵀ and p·v; one warp per
//     16 queries; scores, softmax and the output accumulator in float32.
//   float32: CUDA cores in float32 (no TF32: results stay within 1e-5 of float64); one lane per key.
// Operands are read through strides, so (..., S, H, D) tensors (heads_interleaved), broadcast batch
// dims (grouped-query attention) and broadcast masks need no copies.
#include <mma.h>

#include <climits>
#include <cmath>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

/// Largest head size (D and Dv) the kernels take: the float32 kernel keeps Dv / 32 accumulators per
/// lane and query, the tensor-core kernel a 16 x D float tile per warp in shared memory.
constexpr int kMaxHeadDim = 128;

enum Operand { kQ = 0, kK = 1, kV = 2, kO = 3, kM = 4 };

// Everything a kernel needs, by value (about 500 bytes of launch arguments).
struct Params {
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  const void* mask = nullptr;
  void* out = nullptr;
  int batch_rank = 0;
  int64_t batch[kMaxDims] = {};
  int64_t bstride[5][kMaxDims] = {};  // per Operand, per batch dim
  int64_t row[5] = {};                // per Operand: stride along the sequence dim
  int64_t mask_col = 0;               // the mask's stride along the keys (0: broadcast)
  int sq = 0, sk = 0, d = 0, dv = 0;
  float scale = 1.f;  // float32 kernel: scale; tensor-core kernel: scale * log2(e) (it works with exp2)
  bool causal = false, zero_empty = false, has_mask = false, mask_bool = false;
  bool vec = false;  // q, k, v rows may be read 16 bytes at a time
};

__device__ __forceinline__ void batch_offsets(const Params& a, int64_t b, int64_t* off) {
  for (int k = 0; k < 5; ++k) off[k] = 0;
  for (int i = a.batch_rank - 1; i >= 0; --i) {
    int64_t c = b % a.batch[i];
    b /= a.batch[i];
    for (int k = 0; k < 5; ++k) off[k] += c * a.bstride[k][i];
  }
}

// max that propagates NaN (fmaxf drops it), as the SoftMax and Reduce MAX kernels do: a query with a NaN
// score then gives NaN, also with zero_empty_rows, as the unfused network.
__device__ __forceinline__ float max_nan(float a, float b) { return (a != a || a > b) ? a : b; }

// Score s of key j for the query whose mask offset is `mrow`, masked: -inf where a bool mask forbids the
// key (whatever s is, as select(mask, s, -inf) gives), else s plus the float mask in the kernel's units.
template <class T>
__device__ __forceinline__ float apply_mask(const Params& a, int64_t mrow, int j, float unit, float s) {
  int64_t off = mrow + static_cast<int64_t>(j) * a.mask_col;
  if (a.mask_bool) return static_cast<const uint8_t*>(a.mask)[off] ? s : -INFINITY;
  return s + to_float(static_cast<const T*>(a.mask)[off]) * unit;
}

// ---------------------------------------------------------------------------------------------
// float16 / bfloat16: tensor cores

constexpr int kKeys = 64;     // keys per shared-memory tile
constexpr int kMaxWarps = 4;  // warps (of 16 queries each) per block
constexpr float kLog2e = 1.4426950408889634f;

// Byte offsets of the shared-memory arrays for `warps` warps and padded head size P (a multiple of 32).
// Row pads (+8 halves, +4 floats) keep WMMA's ldm a multiple of 16 bytes and shift rows across banks;
// every array starts 128-byte aligned, so every 16x16 fragment starts 32-byte aligned as WMMA requires.
struct SmemLayout {
  int q, k, v, s, p, o, total;
};

__host__ __device__ inline int align128(int x) { return (x + 127) & ~127; }

__host__ __device__ inline SmemLayout smem_layout(int warps, int P, int tsize) {
  SmemLayout L;
  int off = 0;
  L.q = off, off = align128(off + warps * 16 * (P + 8) * tsize);  // queries of the block
  L.k = off, off = align128(off + kKeys * (P + 8) * tsize);       // key tile
  L.v = off, off = align128(off + kKeys * (P + 8) * tsize);       // value tile
  L.s = off, off = align128(off + warps * 16 * (kKeys + 4) * 4);  // per warp: scores of its 16 queries
  L.p = off, off = align128(off + warps * 16 * (kKeys + 8) * tsize);  // per warp: their softmax weights
  L.o = off, off = align128(off + warps * 16 * (P + 4) * 4);      // per warp: their output accumulator
  L.total = off;
  return L;
}

// dst[r][c] (row pitch ld) = src[r * stride + c] for r < rows_valid and c < cols_valid, else 0, for
// r < rows and c < P. All threads of the block take part.
template <class T>
__device__ __forceinline__ void load_tile(T* dst, int ld, const T* src, int64_t stride, int rows_valid, int cols_valid,
                                          int rows, int P, bool vec) {
  if (vec) {  // cols_valid is a multiple of 8: a 16-byte chunk is wholly inside or outside
    const int chunks = P / 8;
    for (int idx = threadIdx.x; idx < rows * chunks; idx += blockDim.x) {
      int r = idx / chunks, c = (idx % chunks) * 8;
      uint4 val = make_uint4(0, 0, 0, 0);
      if (r < rows_valid && c < cols_valid) val = *reinterpret_cast<const uint4*>(src + r * stride + c);
      *reinterpret_cast<uint4*>(dst + r * ld + c) = val;
    }
  } else {
    for (int idx = threadIdx.x; idx < rows * P; idx += blockDim.x) {
      int r = idx / P, c = idx % P;
      dst[r * ld + c] = r < rows_valid && c < cols_valid ? src[r * stride + c] : from_float<T>(0.f);
    }
  }
}

template <class T>
constexpr bool wmma_arch_ok() {
#if defined(__CUDA_ARCH__)
  return __CUDA_ARCH__ >= 800 || (__CUDA_ARCH__ >= 700 && std::is_same_v<T, half>);
#else
  return true;
#endif
}

// Grid: one block per (batch index, tile of warps * 16 queries). Warp w owns queries q0 + 16w .. +15;
// in the softmax step lane pair (2r, 2r+1) owns query r of the warp, lane 2r + h its columns h, h+2, ...
template <class T, int P>
__global__ void __launch_bounds__(kMaxWarps * 32) attention_wmma(Params a) {
  if constexpr (wmma_arch_ok<T>()) {
    using namespace nvcuda;
    extern __shared__ __align__(128) unsigned char smem[];
    const int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rows = warps * 16;
    const int tiles = (a.sq + rows - 1) / rows;
    const int64_t b = blockIdx.x / tiles;
    const int q0 = static_cast<int>(blockIdx.x % tiles) * rows;
    const SmemLayout L = smem_layout(warps, P, sizeof(T));
    T* sQ = reinterpret_cast<T*>(smem + L.q);
    T* sK = reinterpret_cast<T*>(smem + L.k);
    T* sV = reinterpret_cast<T*>(smem + L.v);
    float* sS = reinterpret_cast<float*>(smem + L.s) + warp * 16 * (kKeys + 4);
    T* sP = reinterpret_cast<T*>(smem + L.p) + warp * 16 * (kKeys + 8);
    float* sO = reinterpret_cast<float*>(smem + L.o) + warp * 16 * (P + 4);

    int64_t off[5];
    batch_offsets(a, b, off);
    const T* Q = static_cast<const T*>(a.q) + off[kQ];
    const T* K = static_cast<const T*>(a.k) + off[kK];
    const T* V = static_cast<const T*>(a.v) + off[kV];

    load_tile(sQ, P + 8, Q + q0 * a.row[kQ], a.row[kQ], min(rows, a.sq - q0), a.d, rows, P, a.vec);
    for (int idx = lane; idx < 16 * (P + 4); idx += 32) sO[idx] = 0.f;

    const int r = lane >> 1, h = lane & 1;
    const int wrow0 = q0 + warp * 16;  // the warp's first query
    const int i = wrow0 + r;           // this lane's query
    const bool row_ok = i < a.sq;
    const int64_t mrow = off[kM] + static_cast<int64_t>(i) * a.row[kM];
    float m = -INFINITY, l = 0.f;  // running max (log2 units) and sum of the lane pair's query
    const int kv_end = a.causal ? min(a.sk, q0 + rows) : a.sk;  // later keys are masked for every query here
    const int dk16 = (a.d + 15) / 16, dv16 = (a.dv + 15) / 16;

    for (int kt = 0; kt < kv_end; kt += kKeys) {
      __syncthreads();  // the previous tiles are consumed (and sQ is written, on the first pass)
      const int kvalid = min(kKeys, a.sk - kt);
      load_tile(sK, P + 8, K + kt * a.row[kK], a.row[kK], kvalid, a.d, kKeys, P, a.vec);
      // Rows past the keys must be 0, not garbage: their weight is 0 and 0 * NaN would be NaN.
      load_tile(sV, P + 8, V + kt * a.row[kV], a.row[kV], kvalid, a.dv, kKeys, P, a.vec);
      __syncthreads();
      // Uniform over the warp: no query of it, or every key of the tile after all of its queries.
      if (wrow0 >= a.sq || (a.causal && wrow0 + 15 < kt)) continue;

      // S = Q Kᵀ for the warp's 16 queries and the tile's keys (K stored row-major is Kᵀ column-major).
      for (int nt = 0; nt < kKeys / 16; ++nt) {
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
        wmma::fill_fragment(acc, 0.f);
        for (int kk = 0; kk < dk16; ++kk) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
          wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;
          wmma::load_matrix_sync(fa, sQ + warp * 16 * (P + 8) + kk * 16, P + 8);
          wmma::load_matrix_sync(fb, sK + nt * 16 * (P + 8) + kk * 16, P + 8);
          wmma::mma_sync(acc, fa, fb, acc);
        }
        wmma::store_matrix_sync(sS + nt * 16, acc, kKeys + 4, wmma::mem_row_major);
      }
      __syncwarp();

      // Online softmax over this tile for query i: new max, rescale of the running sum and output.
      float sv[kKeys / 2];
      float mt = -INFINITY;
#pragma unroll
      for (int t = 0; t < kKeys / 2; ++t) {
        const int c = 2 * t + h, j = kt + c;
        float s = -INFINITY;
        if (row_ok && j < a.sk && (!a.causal || j <= i)) {
          s = sS[r * (kKeys + 4) + c] * a.scale;
          if (a.has_mask) s = apply_mask<T>(a, mrow, j, kLog2e, s);
        }
        sv[t] = s;
        mt = max_nan(mt, s);
      }
      mt = max_nan(mt, __shfl_xor_sync(0xffffffffu, mt, 1));
      const float m_new = max_nan(m, mt);
      // Every score so far -inf: exp2(s - 0) gives the 0 weights the SoftMax layer gives there.
      const float base = m_new == -INFINITY ? 0.f : m_new;
      const float alpha = exp2f(m - base);
      float sum = 0.f;
#pragma unroll
      for (int t = 0; t < kKeys / 2; ++t) {
        const float p = exp2f(sv[t] - base);
        sum += p;
        sP[r * (kKeys + 8) + 2 * t + h] = from_float<T>(p);
      }
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      l = l * alpha + sum;
      m = m_new;
      if (alpha != 1.f)
        for (int c = h; c < P; c += 2) sO[r * (P + 4) + c] *= alpha;
      __syncwarp();

      // O += P V.
      for (int nt = 0; nt < dv16; ++nt) {
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
        wmma::load_matrix_sync(acc, sO + nt * 16, P + 4, wmma::mem_row_major);
        for (int kk = 0; kk < kKeys / 16; ++kk) {
          wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
          wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb;
          wmma::load_matrix_sync(fa, sP + kk * 16, kKeys + 8);
          wmma::load_matrix_sync(fb, sV + kk * 16 * (P + 8) + nt * 16, P + 8);
          wmma::mma_sync(acc, fa, fb, acc);
        }
        wmma::store_matrix_sync(sO + nt * 16, acc, P + 4, wmma::mem_row_major);
      }
      __syncwarp();
    }

    if (wrow0 >= a.sq) return;  // no barrier follows
    // Normalize in shared memory, then write the warp's rows with consecutive lanes on consecutive columns.
    // l == 0 (every score -inf) gives 0 * inf = NaN unless zero_empty, as the unfused network.
    const bool zero = a.sk == 0 || (a.zero_empty && m == -INFINITY);
    const float inv = 1.f / l;
    for (int c = h; c < P; c += 2) sO[r * (P + 4) + c] = zero ? 0.f : sO[r * (P + 4) + c] * inv;
    __syncwarp();
    T* O = static_cast<T*>(a.out) + off[kO];
    const int nrows = min(16, a.sq - wrow0);
    for (int idx = lane; idx < nrows * a.dv; idx += 32) {
      const int rr = idx / a.dv, c = idx % a.dv;
      O[static_cast<int64_t>(wrow0 + rr) * a.row[kO] + c] = from_float<T>(sO[rr * (P + 4) + c]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// float32: CUDA cores

constexpr int kF32Warps = 4;
constexpr int kF32RowsPerWarp = 4;
constexpr int kF32Rows = kF32Warps * kF32RowsPerWarp;  // queries per block
constexpr int kF32Keys = 32;                          // keys per tile: one per lane

// Grid: one block per (batch index, tile of 16 queries); warp w owns queries q0 + 4w .. +3. Lane j scores
// key kt + j; for the output, lane c owns columns c, c + 32, ...
template <int P>
__global__ void __launch_bounds__(kF32Warps * 32) attention_f32(Params a) {
  __shared__ float sQ[kF32Rows][P];
  __shared__ float sK[kF32Keys][P + 1];  // odd pitch: lanes reading one column of different keys hit distinct banks
  __shared__ float sV[kF32Keys][P];
  constexpr int kCols = P / 32;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int tiles = (a.sq + kF32Rows - 1) / kF32Rows;
  const int64_t b = blockIdx.x / tiles;
  const int q0 = static_cast<int>(blockIdx.x % tiles) * kF32Rows;
  int64_t off[5];
  batch_offsets(a, b, off);
  const float* Q = static_cast<const float*>(a.q) + off[kQ];
  const float* K = static_cast<const float*>(a.k) + off[kK];
  const float* V = static_cast<const float*>(a.v) + off[kV];
  for (int idx = threadIdx.x; idx < kF32Rows * P; idx += blockDim.x) {
    int rr = idx / P, c = idx % P;
    sQ[rr][c] = q0 + rr < a.sq && c < a.d ? Q[static_cast<int64_t>(q0 + rr) * a.row[kQ] + c] : 0.f;
  }
  float m[kF32RowsPerWarp], l[kF32RowsPerWarp], acc[kF32RowsPerWarp][kCols];
#pragma unroll
  for (int rr = 0; rr < kF32RowsPerWarp; ++rr) {
    m[rr] = -INFINITY, l[rr] = 0.f;
#pragma unroll
    for (int u = 0; u < kCols; ++u) acc[rr][u] = 0.f;
  }
  const int kv_end = a.causal ? min(a.sk, q0 + kF32Rows) : a.sk;
  for (int kt = 0; kt < kv_end; kt += kF32Keys) {
    __syncthreads();
    for (int idx = threadIdx.x; idx < kF32Keys * P; idx += blockDim.x) {
      int j = idx / P, c = idx % P;
      bool in = kt + j < a.sk;
      sK[j][c] = in && c < a.d ? K[static_cast<int64_t>(kt + j) * a.row[kK] + c] : 0.f;
      sV[j][c] = in && c < a.dv ? V[static_cast<int64_t>(kt + j) * a.row[kV] + c] : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int rr = 0; rr < kF32RowsPerWarp; ++rr) {
      const int qr = warp * kF32RowsPerWarp + rr, i = q0 + qr;
      if (i >= a.sq || (a.causal && i < kt)) continue;  // uniform over the warp
      const int j = kt + lane;
      float s = -INFINITY;
      if (j < a.sk && (!a.causal || j <= i)) {
        float dot = 0.f;
        for (int c = 0; c < a.d; ++c) dot = fmaf(sQ[qr][c], sK[lane][c], dot);
        s = dot * a.scale;
        if (a.has_mask) s = apply_mask<float>(a, off[kM] + static_cast<int64_t>(i) * a.row[kM], j, 1.f, s);
      }
      float mt = s;
      for (int w = 16; w > 0; w >>= 1) mt = max_nan(mt, __shfl_xor_sync(0xffffffffu, mt, w));
      const float m_new = max_nan(m[rr], mt);
      const float base = m_new == -INFINITY ? 0.f : m_new;
      const float alpha = expf(m[rr] - base);
      const float p = expf(s - base);
      float sum = p;
      for (int w = 16; w > 0; w >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, w);
      l[rr] = l[rr] * alpha + sum;
      m[rr] = m_new;
#pragma unroll
      for (int u = 0; u < kCols; ++u) acc[rr][u] *= alpha;
      for (int jj = 0; jj < kF32Keys; ++jj) {
        const float pj = __shfl_sync(0xffffffffu, p, jj);
#pragma unroll
        for (int u = 0; u < kCols; ++u) acc[rr][u] = fmaf(pj, sV[jj][lane + 32 * u], acc[rr][u]);
      }
    }
  }
  float* O = static_cast<float*>(a.out) + off[kO];
#pragma unroll
  for (int rr = 0; rr < kF32RowsPerWarp; ++rr) {
    const int i = q0 + warp * kF32RowsPerWarp + rr;
    if (i >= a.sq) continue;
    const bool zero = a.sk == 0 || (a.zero_empty && m[rr] == -INFINITY);
    const float inv = 1.f / l[rr];
#pragma unroll
    for (int u = 0; u < kCols; ++u) {
      const int c = lane + 32 * u;
      if (c < a.dv) O[static_cast<int64_t>(i) * a.row[kO] + c] = zero ? 0.f : acc[rr][u] * inv;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// host side

// Padded head size of the kernel instantiation for head sizes d and dv (both <= kMaxHeadDim).
int padded_head(int64_t d, int64_t dv) {
  int64_t n = std::max<int64_t>(d, dv);
  return n <= 32 ? 32 : n <= 64 ? 64 : 128;
}

template <class F>
void dispatch_head(int P, F&& f) {
  switch (P) {
    case 32: f(std::integral_constant<int, 32>{}); return;
    case 64: f(std::integral_constant<int, 64>{}); return;
    case 128: f(std::integral_constant<int, 128>{}); return;
    default: dispatch_failed("attention head sizes", "padded head size " + std::to_string(P));
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

class AttentionKernel : public Kernel {
 public:
  AttentionKernel(const AttentionLayer& l, DataType t) : dtype_(t) {
    layer_.p = l.p;
    layer_.set_name(l.name());
  }

  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    g_ = layer_.geometry(in);
    if (g_.d > kMaxHeadDim || g_.dv > kMaxHeadDim)  // the factory refuses these; a run-time shape may not
      throw Unsupported("Attention layer '" + layer_.name() + "': head sizes " + std::to_string(g_.d) + " and " +
                        std::to_string(g_.dv) + " exceed the CUDA kernel's limit of " + std::to_string(kMaxHeadDim));
    P_ = padded_head(g_.d, g_.dv);
    if (dtype_ == DataType::kFLOAT) return;
    int dev = 0, major = 0;
    T2T_CUDA_CHECK(cudaGetDevice(&dev));
    T2T_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    int need = dtype_ == DataType::kBF16 ? 8 : 7;
    if (major < need)
      throw Unsupported("Attention layer '" + layer_.name() + "': the " + dt(dtype_) +
                        " tensor-core kernel needs compute capability " + std::to_string(need) + ".0, device " +
                        std::to_string(dev) + " has " + std::to_string(major) + ".x");
    // Fewer warps for few queries (decoding, short sequences): no warp without a query.
    warps_ = static_cast<int>(std::min<int64_t>(kMaxWarps, std::max<int64_t>(1, (g_.sq + 15) / 16)));
    smem_ = smem_layout(warps_, P_, 2).total;
    // The limit is a property of the function, shared by every layer that launches it: always the largest
    // need (kMaxWarps), so that a layer with fewer warps cannot lower it under another layer's launch.
    dispatch_float(dtype_, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, float>)
        dispatch_head(P_, [&](auto p) {
          T2T_CUDA_CHECK(cudaFuncSetAttribute(attention_wmma<T, decltype(p)::value>,
                                              cudaFuncAttributeMaxDynamicSharedMemorySize,
                                              smem_layout(kMaxWarps, decltype(p)::value, 2).total));
        });
    });
  }

  void run(const KernelArgs& args) override {
    const AttentionGeometry& g = g_;
    cudaStream_t s = stream_of(args);
    if (g.num_batches * g.sq == 0 || g.dv == 0) return;
    if (g.sk == 0) {  // the unfused product with an empty softmax: a sum over nothing
      T2T_CUDA_CHECK(cudaMemsetAsync(args.out[0].data, 0, args.out[0].numel() * dtype_size(dtype_), s));
      return;
    }
    Params a;
    a.q = args.in[0].data, a.k = args.in[1].data, a.v = args.in[2].data;
    a.out = args.out[0].data;
    a.mask = g.has_mask ? args.in[3].data : nullptr;
    a.batch_rank = g.batch_rank;
    const AttentionStrides* st[5] = {&g.q, &g.k, &g.v, &g.out, &g.mask};
    for (int j = 0; j < g.batch_rank; ++j) {
      a.batch[j] = g.batch[j];
      for (int k = 0; k < 5; ++k) a.bstride[k][j] = st[k]->batch[j];
    }
    for (int k = 0; k < 5; ++k) a.row[k] = st[k]->row;
    a.mask_col = g.mask.col;
    a.sq = static_cast<int>(g.sq), a.sk = static_cast<int>(g.sk), a.d = static_cast<int>(g.d);
    a.dv = static_cast<int>(g.dv);
    a.causal = layer_.p.causal, a.zero_empty = layer_.p.zero_empty_rows;
    a.has_mask = g.has_mask, a.mask_bool = g.mask_is_bool;
    const bool half = dtype_ != DataType::kFLOAT;
    a.scale = half ? layer_.p.scale * kLog2e : layer_.p.scale;
    if (half) {
      bool vec = g.d % 8 == 0 && g.dv % 8 == 0 && aligned16(a.q) && aligned16(a.k) && aligned16(a.v);
      for (int k = kQ; k <= kV && vec; ++k) {
        vec = st[k]->row % 8 == 0;
        for (int j = 0; j < g.batch_rank; ++j) vec = vec && st[k]->batch[j] % 8 == 0;
      }
      a.vec = vec;
    }
    const int rows = half ? warps_ * 16 : kF32Rows;
    const int64_t blocks = g.num_batches * ((g.sq + rows - 1) / rows);
    if (blocks > INT_MAX)
      throw Unsupported("Attention layer '" + layer_.name() + "': " + std::to_string(blocks) +
                        " blocks exceed the CUDA grid limit; split the batch");
    dispatch_float(dtype_, [&](auto tag) {
      using T = decltype(tag);
      dispatch_head(P_, [&](auto p) {
        constexpr int P = decltype(p)::value;
        if constexpr (std::is_same_v<T, float>)
          attention_f32<P><<<static_cast<unsigned>(blocks), kF32Warps * 32, 0, s>>>(a);
        else
          attention_wmma<T, P><<<static_cast<unsigned>(blocks), warps_ * 32, smem_, s>>>(a);
      });
    });
    check_launch("attention");
  }

  const char* impl_name() const override { return dtype_ == DataType::kFLOAT ? "cuda_attention_f32" : "cuda_attention_wmma"; }

 private:
  AttentionLayer layer_;  // a detached copy: the geometry rule without holding on to the network
  DataType dtype_;
  AttentionGeometry g_;
  int P_ = 64, warps_ = 4, smem_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_Attention(const AttentionLayer& l, const std::vector<TensorDesc>& in,
                                       const std::vector<TensorDesc>&, std::string* why) {
  DataType t = in[0].dtype;
  if (!is_float_type(t)) return unsupported(why, "Attention on " + dt(t));
  const int r = in[0].dims.nb_dims;
  int64_t d = in[0].dims.d[r - 1], dv = in[2].dims.d[r - 1];
  if (d < 0 || dv < 0)
    return unsupported(why, "Attention with a head size known only at run time (query " + in[0].dims.str() +
                                ", value " + in[2].dims.str() + "): the kernel needs D and Dv <= " +
                                std::to_string(kMaxHeadDim) + " when the engine is built");
  if (d > kMaxHeadDim || dv > kMaxHeadDim)
    return unsupported(why, "Attention with head sizes D = " + std::to_string(d) + ", Dv = " + std::to_string(dv) +
                                " (the kernel takes up to " + std::to_string(kMaxHeadDim) + ")");
  return std::make_unique<AttentionKernel>(l, t);
}

}  // namespace torch2trt::gpu
