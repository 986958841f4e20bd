// Fused attention, flash-attention style: each block owns a tile of queries of one (batch, head) and
// streams the keys and values through shared memory in tiles, keeping a running max and sum per query
// (online softmax), so the Sq x Sk scores never reach global memory.
//   float16 / bfloat16: tensor cores with float accumulation for q·kᵀ and p·v; one warp per 16 queries;
//     scores, softmax and the output accumulator in float32. Two kernels, both tactics the builder times:
//     attention_mma (mma.sync with scores, weights and output in registers, K/V streamed with cp.async;
//     the default wherever rows are whole 16-byte chunks) and attention_wmma (WMMA with the tiles in
//     shared memory; any head size and alignment).
//   float32: CUDA cores in float32 (no TF32: results stay within 1e-5 of float64); one lane per key.
// Operands are read through strides, so (..., S, H, D) tensors (heads_interleaved), broadcast batch
// dims (grouped-query attention) and broadcast masks need no copies.
#include <mma.h>

#include <climits>
#include <cmath>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/mma.cuh"

namespace torch2trt::gpu {
namespace {

/// Largest head size (D and Dv) the kernels take: the float32 kernel keeps Dv / 32 accumulators per
/// lane and query, the WMMA kernel a 16 x D float tile per warp in shared memory, the mma kernel D / 2
/// output accumulators and D / 4 query registers per lane.
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
// float16 / bfloat16: register-resident tensor-core kernel (mma.sync m16n8k16, FlashAttention-2 style)
//
// The WMMA kernel above round-trips scores, weights and the output through shared memory between its
// phases; here they never leave registers. Each warp owns 16 queries: their Q fragments are loaded once,
// S = Q Kᵀ for a tile of kKeys keys accumulates in C fragments, the online softmax runs on those (a query's
// scores are spread over the 4 lanes of a quad), and the weights are rounded in place into the A fragments
// of O += P V: the C layout of two adjacent 16x8 tiles is the A layout of one 16x16 slice of keys. K and V
// tiles stream through double-buffered shared memory with cp.async (tile t + 1 loads while tile t is
// used); V's B fragments come from ldmatrix.trans, so no transposed copy is made. Needs 16-byte rows (D and
// Dv multiples of 8, aligned operands): the host runs the WMMA kernel otherwise.


// Bytes of dynamic shared memory for `warps` warps and padded head size P: the block's queries, then two
// K tiles and two V tiles, all with a row pitch of P + 8 halves (the 8 rows of an ldmatrix matrix then fall
// in 8 different 16-byte groups of banks: no conflicts).
__host__ __device__ constexpr int mma_smem_bytes(int warps, int P) { return (warps * 16 + 4 * kKeys) * (P + 8) * 2; }


// Rows [0, rows) of dst (pitch P + 8) from rows of src (`stride` apart), 16 bytes at a time: rows below
// rows_valid by cp.async, the others zeroed (so a key past the end has a zero value row: its weight is 0,
// and 0 * garbage could be NaN). Only columns below `cols` (a multiple of 8) are written. All threads of
// the block take part.
template <class T, int P>
__device__ __forceinline__ void load_rows_async(T* dst, const T* src, int64_t stride, int rows_valid, int cols,
                                                int rows) {
  constexpr int kChunks = P / 8;
  for (int idx = threadIdx.x; idx < rows * kChunks; idx += blockDim.x) {
    const int r = idx / kChunks, c = (idx % kChunks) * 8;
    if (c >= cols) continue;
    T* d = dst + r * (P + 8) + c;
    if (r < rows_valid)
      cp_async16(d, src + r * stride + c);
    else
      *reinterpret_cast<uint4*>(d) = make_uint4(0, 0, 0, 0);
  }
}

// Zeroes columns [from, P) of rows [0, rows) of dst (pitch P + 8); `from` is a multiple of 8.
template <class T, int P>
__device__ __forceinline__ void zero_cols(T* dst, int rows, int from) {
  constexpr int kChunks = P / 8;
  for (int idx = threadIdx.x; idx < rows * kChunks; idx += blockDim.x) {
    const int r = idx / kChunks, c = (idx % kChunks) * 8;
    if (c >= from) *reinterpret_cast<uint4*>(dst + r * (P + 8) + c) = make_uint4(0, 0, 0, 0);
  }
}

// One warp's step over a K/V tile in shared memory (tK, tV: kKeys rows of pitch P + 8): its 16 queries
// (fragments qf; rows qi, mask offsets mrow) against keys kt .. kt + kKeys - 1: S = Q Kᵀ, the online softmax
// update of the running max m, this lane's part of the sum l and the output accumulator o, then O += P V.
// In every fragment lane l holds rows l / 4 and l / 4 + 8 (mma's groupID) and columns 2 (l % 4) + {0, 1}
// of each 8-column tile.
template <class T, int P>
__device__ __forceinline__ void mma_tile(const Params& a, const uint32_t (&qf)[P / 16][4], const T* tK, const T* tV,
                                         int kt, int wrow0, const int (&qi)[2], const int64_t (&mrow)[2],
                                         float (&m)[2], float (&l)[2], float (&o)[P / 8][4]) {
  constexpr int LD = P + 8;      // shared-memory row pitch in elements
  constexpr int KS = P / 16;     // 16-wide slices of the head (k of q·kᵀ; pairs of output column tiles)
  constexpr int NT = kKeys / 8;  // 8-key column tiles of S
  constexpr int OT = P / 8;      // 8-column tiles of O
  const int lane = threadIdx.x % 32, tig = lane & 3;
  // S = Q Kᵀ. K's rows (keys) are Kᵀ's columns: plain ldmatrix gives the col-major B fragments,
  // matrices (keys +0, d +0), (keys +0, d +8), (keys +8, d +0), (keys +8, d +8).
  float s[NT][4];
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
  for (int ks = 0; ks < KS; ++ks) {
    if (ks * 16 < a.d) {  // uniform; columns past D are zero in Q and K
#pragma unroll
      for (int p = 0; p < NT / 2; ++p) {
        uint32_t bk[4];
        ldmatrix_x4(bk, tK + (p * 16 + (lane >> 4) * 8 + (lane & 7)) * LD + ks * 16 + ((lane >> 3) & 1) * 8);
        mma_16816<T>(s[2 * p], qf[ks], bk[0], bk[1]);
        mma_16816<T>(s[2 * p + 1], qf[ks], bk[2], bk[3]);
      }
    }
  }

  // Online softmax. Element e of tile nt: row g + 8 (e / 2), key kt + 8 nt + 2 tig + e % 2.
  const bool plain = !a.has_mask && kt + kKeys <= a.sk && (!a.causal || kt + kKeys - 1 <= wrow0);
  float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int r = e >> 1;
      float v = s[nt][e] * a.scale;
      if (!plain) {
        const int i = qi[r], j = kt + nt * 8 + 2 * tig + (e & 1);
        if (i < a.sq && j < a.sk && (!a.causal || j <= i)) {
          if (a.has_mask) v = apply_mask<T>(a, mrow[r], j, kLog2e, v);
        } else {
          v = -INFINITY;
        }
      }
      s[nt][e] = v;
      mx[r] = max_nan(mx[r], v);
    }
  float base[2], alpha[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    mx[r] = max_nan(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
    mx[r] = max_nan(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
    const float m_new = max_nan(m[r], mx[r]);
    // Every score so far -inf: exp2(s - 0) gives the 0 weights the SoftMax layer gives there.
    base[r] = m_new == -INFINITY ? 0.f : m_new;
    alpha[r] = exp2f(m[r] - base[r]);
    m[r] = m_new;
  }
  float sum[2] = {0.f, 0.f};
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      s[nt][e] = exp2f(s[nt][e] - base[e >> 1]);
      sum[e >> 1] += s[nt][e];
    }
#pragma unroll
  for (int r = 0; r < 2; ++r) l[r] = l[r] * alpha[r] + sum[r];
#pragma unroll
  for (int ot = 0; ot < OT; ++ot) {
    o[ot][0] *= alpha[0], o[ot][1] *= alpha[0];
    o[ot][2] *= alpha[1], o[ot][3] *= alpha[1];
  }

  // O += P V over 16-key slices; ldmatrix.trans of V's (key, column) 8x8 blocks gives the B fragments,
  // matrices (keys +0, cols +0), (keys +8, cols +0), (keys +0, cols +8), (keys +8, cols +8).
#pragma unroll
  for (int kk = 0; kk < kKeys / 16; ++kk) {
    if (kt + kk * 16 < a.sk) {  // uniform; keys past Sk have zero weight and zero values
      const uint32_t pa[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                              pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int ks = 0; ks < KS; ++ks) {
        if (ks * 16 < a.dv) {  // uniform; V's columns past Dv are zero
          uint32_t bv[4];
          ldmatrix_x4_trans(bv, tV + (kk * 16 + (lane & 15)) * LD + ks * 16 + (lane >> 4) * 8);
          mma_16816<T>(o[2 * ks], pa, bv[0], bv[1]);
          mma_16816<T>(o[2 * ks + 1], pa, bv[2], bv[3]);
        }
      }
    }
  }
}

// Normalizes one warp's 16 x Dv output (o / l, l being this lane's part of the row sums), stages it in sO
// (16 rows of pitch P + 8 that no one else reads) and writes rows wrow0 .. of O 16 bytes at a time.
// l == 0 (every score -inf) gives 0 * inf = NaN unless zero_empty, as the unfused network.
template <class T, int P>
__device__ __forceinline__ void mma_store(const Params& a, const float (&o)[P / 8][4], const float (&m)[2],
                                          float (&l)[2], T* sO, T* O, int wrow0) {
  constexpr int LD = P + 8;
  constexpr int OT = P / 8;
  const int lane = threadIdx.x % 32, g = lane >> 2, tig = lane & 3;
  bool zero[2];
  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    zero[r] = a.zero_empty && m[r] == -INFINITY;
    inv[r] = 1.f / l[r];
  }
#pragma unroll
  for (int ot = 0; ot < OT; ++ot) {
    const int c = ot * 8 + 2 * tig;
    *reinterpret_cast<uint32_t*>(sO + g * LD + c) =
        zero[0] ? 0u : pack2<T>(o[ot][0] * inv[0], o[ot][1] * inv[0]);
    *reinterpret_cast<uint32_t*>(sO + (g + 8) * LD + c) =
        zero[1] ? 0u : pack2<T>(o[ot][2] * inv[1], o[ot][3] * inv[1]);
  }
  __syncwarp();
  const int nrows = min(16, a.sq - wrow0);
  for (int idx = lane; idx < 16 * OT; idx += 32) {
    const int r = idx / OT, c = (idx % OT) * 8;
    if (r < nrows && c < a.dv)
      *reinterpret_cast<uint4*>(O + static_cast<int64_t>(wrow0 + r) * a.row[kO] + c) =
          *reinterpret_cast<const uint4*>(sO + r * LD + c);
  }
}

// Grid: one block per (batch index, tile of warps * 16 queries), as the WMMA kernel. Warp w owns queries
// q0 + 16w .. +15 and steps through every K/V tile (mma_tile), the next tile loading while it computes.
template <class T, int P>
__global__ void __launch_bounds__(kMaxWarps * 32) attention_mma(Params a) {
  if constexpr (mma_arch_ok()) {
    constexpr int LD = P + 8, KS = P / 16, OT = P / 8;  // as in mma_tile
    extern __shared__ __align__(128) unsigned char smem[];
    const int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rows = warps * 16;
    const int tiles = (a.sq + rows - 1) / rows;
    const int64_t b = blockIdx.x / tiles;
    const int q0 = static_cast<int>(blockIdx.x % tiles) * rows;
    T* sQ = reinterpret_cast<T*>(smem);
    T* sK = sQ + rows * LD;       // two tiles of kKeys rows
    T* sV = sK + 2 * kKeys * LD;  // two tiles

    int64_t off[5];
    batch_offsets(a, b, off);
    const T* Q = static_cast<const T*>(a.q) + off[kQ];
    const T* K = static_cast<const T*>(a.k) + off[kK];
    const T* V = static_cast<const T*>(a.v) + off[kV];
    const int kv_end = a.causal ? min(a.sk, q0 + rows) : a.sk;  // later keys are masked for every query here
    const int ntiles = (kv_end + kKeys - 1) / kKeys;            // >= 1: the host never launches with Sk = 0

    // Columns from D (Dv) on stay zero in both K (V) buffers: the loads below only ever write the first D (Dv).
    if (a.d < P) {
      zero_cols<T, P>(sK, 2 * kKeys, a.d);
      zero_cols<T, P>(sQ, rows, a.d);
    }
    if (a.dv < P) zero_cols<T, P>(sV, 2 * kKeys, a.dv);
    load_rows_async<T, P>(sQ, Q + q0 * a.row[kQ], a.row[kQ], min(rows, a.sq - q0), a.d, rows);
    cp_async_commit();
    auto load_kv = [&](int t) {
      const int kt = t * kKeys, valid = min(kKeys, a.sk - kt), buf = (t & 1) * kKeys * LD;
      load_rows_async<T, P>(sK + buf, K + kt * a.row[kK], a.row[kK], valid, a.d, kKeys);
      load_rows_async<T, P>(sV + buf, V + kt * a.row[kV], a.row[kV], valid, a.dv, kKeys);
    };
    load_kv(0);
    cp_async_commit();

    const int g = lane >> 2;
    const int wrow0 = q0 + warp * 16;  // the warp's first query
    const int qi[2] = {wrow0 + g, wrow0 + g + 8};
    int64_t mrow[2] = {0, 0};
    if (a.has_mask) {
      mrow[0] = off[kM] + static_cast<int64_t>(qi[0]) * a.row[kM];
      mrow[1] = off[kM] + static_cast<int64_t>(qi[1]) * a.row[kM];
    }

    // Q waits for its own group only: tile 0 may still be in flight.
    cp_async_wait<1>();
    __syncthreads();
    uint32_t qf[KS][4];
#pragma unroll
    for (int ks = 0; ks < KS; ++ks)
      ldmatrix_x4(qf[ks], sQ + (warp * 16 + (lane & 15)) * LD + ks * 16 + (lane >> 4) * 8);

    float o[OT][4];
#pragma unroll
    for (int ot = 0; ot < OT; ++ot) o[ot][0] = o[ot][1] = o[ot][2] = o[ot][3] = 0.f;
    // Per row (g, g + 8): running max (log2 units, equal over the quad) and this lane's part of the sum.
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};

    for (int t = 0; t < ntiles; ++t) {
      if (t + 1 < ntiles) load_kv(t + 1);  // into the buffer tile t - 1 used: the barrier ending it is passed
      cp_async_commit();                   // possibly empty, so that "all but the newest group" is tile t
      cp_async_wait<1>();
      __syncthreads();
      const int kt = t * kKeys;
      // Uniform over the warp: no query of it, or every key of the tile after all of its queries.
      if (wrow0 < a.sq && !(a.causal && wrow0 + 15 < kt))
        mma_tile<T, P>(a, qf, sK + (t & 1) * kKeys * LD, sV + (t & 1) * kKeys * LD, kt, wrow0, qi, mrow, m, l, o);
      __syncthreads();  // tile t's buffers are consumed before the next iteration loads into them
    }

    if (wrow0 >= a.sq) return;  // no barrier follows
    // The warp's own rows of sQ are read by no one since its fragments were loaded.
    mma_store<T, P>(a, o, m, l, sQ + warp * 16 * LD, static_cast<T*>(a.out) + off[kO], wrow0);
  }
}

// Few queries per head (BERT and ViT at batch 1: 12 heads of 128 or 197 queries fill a fraction of the
// SMs with one warp per block): S warps share a block's 16 queries, warp w taking key tiles w, w + S, ...,
// all S tiles of a round loaded at once; at the end the warps' partial softmax states (max, sums, outputs)
// merge in shared memory. The chain of dependent tile steps per block is S times shorter.
template <int P, int S>
__host__ __device__ constexpr int split_smem_bytes() { return (16 + 2 * S * kKeys) * (P + 8) * 2; }

template <class T, int P, int S>
__global__ void __launch_bounds__(S * 32) attention_mma_split(Params a) {
  if constexpr (mma_arch_ok()) {
    constexpr int LD = P + 8, KS = P / 16, OT = P / 8;  // as in mma_tile
    extern __shared__ __align__(128) unsigned char smem[];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int tiles = (a.sq + 15) / 16;
    const int64_t b = blockIdx.x / tiles;
    const int q0 = static_cast<int>(blockIdx.x % tiles) * 16;
    T* sQ = reinterpret_cast<T*>(smem);
    T* sK = sQ + 16 * LD;          // S tiles of kKeys rows, one per warp
    T* sV = sK + S * kKeys * LD;   // S tiles

    int64_t off[5];
    batch_offsets(a, b, off);
    const T* Q = static_cast<const T*>(a.q) + off[kQ];
    const T* K = static_cast<const T*>(a.k) + off[kK];
    const T* V = static_cast<const T*>(a.v) + off[kV];
    const int kv_end = a.causal ? min(a.sk, q0 + 16) : a.sk;
    const int ntiles = (kv_end + kKeys - 1) / kKeys;  // >= 1: the host never launches with Sk = 0
    if (a.d < P) {
      zero_cols<T, P>(sK, S * kKeys, a.d);
      zero_cols<T, P>(sQ, 16, a.d);
    }
    if (a.dv < P) zero_cols<T, P>(sV, S * kKeys, a.dv);
    load_rows_async<T, P>(sQ, Q + q0 * a.row[kQ], a.row[kQ], min(16, a.sq - q0), a.d, 16);

    const int g = lane >> 2;
    const int qi[2] = {q0 + g, q0 + g + 8};
    int64_t mrow[2] = {0, 0};
    if (a.has_mask) {
      mrow[0] = off[kM] + static_cast<int64_t>(qi[0]) * a.row[kM];
      mrow[1] = off[kM] + static_cast<int64_t>(qi[1]) * a.row[kM];
    }
    uint32_t qf[KS][4];
    float o[OT][4];
#pragma unroll
    for (int ot = 0; ot < OT; ++ot) o[ot][0] = o[ot][1] = o[ot][2] = o[ot][3] = 0.f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};

    for (int t0 = 0; t0 < ntiles; t0 += S) {
      for (int w = 0; w < S && t0 + w < ntiles; ++w) {
        const int kt = (t0 + w) * kKeys, valid = min(kKeys, a.sk - kt);
        load_rows_async<T, P>(sK + w * kKeys * LD, K + kt * a.row[kK], a.row[kK], valid, a.d, kKeys);
        load_rows_async<T, P>(sV + w * kKeys * LD, V + kt * a.row[kV], a.row[kV], valid, a.dv, kKeys);
      }
      cp_async_commit();
      cp_async_wait<0>();
      __syncthreads();
      if (t0 == 0) {
#pragma unroll
        for (int ks = 0; ks < KS; ++ks) ldmatrix_x4(qf[ks], sQ + (lane & 15) * LD + ks * 16 + (lane >> 4) * 8);
      }
      const int t = t0 + warp, kt = t * kKeys;
      if (t < ntiles && !(a.causal && q0 + 15 < kt))
        mma_tile<T, P>(a, qf, sK + warp * kKeys * LD, sV + warp * kKeys * LD, kt, q0, qi, mrow, m, l, o);
      __syncthreads();  // the round's tiles are consumed before the next round loads over them
    }

    // Warps 1 .. S-1 leave their states in the (now free) K tiles, fragment by fragment; warp 0 rescales
    // each to the common max and adds them up. A warp that saw no key has max -inf: its weight is 0.
    constexpr int kState = OT * 4 + 4;  // floats per lane: o, then m, l
    float* st = reinterpret_cast<float*>(sK);
    if (warp > 0) {
      float* mine = st + (warp - 1) * kState * 32 + lane;
#pragma unroll
      for (int ot = 0; ot < OT; ++ot)
#pragma unroll
        for (int e = 0; e < 4; ++e) mine[(ot * 4 + e) * 32] = o[ot][e];
      for (int r = 0; r < 2; ++r) mine[(OT * 4 + r) * 32] = m[r], mine[(OT * 4 + 2 + r) * 32] = l[r];
    }
    __syncthreads();
    if (warp > 0) return;
    float mt[2] = {m[0], m[1]};
    for (int w = 1; w < S; ++w)
      for (int r = 0; r < 2; ++r) mt[r] = max_nan(mt[r], st[(w - 1) * kState * 32 + (OT * 4 + r) * 32 + lane]);
    float base[2], f[2];
    for (int r = 0; r < 2; ++r) {
      base[r] = mt[r] == -INFINITY ? 0.f : mt[r];
      f[r] = exp2f(m[r] - base[r]);
      l[r] *= f[r];
    }
#pragma unroll
    for (int ot = 0; ot < OT; ++ot) o[ot][0] *= f[0], o[ot][1] *= f[0], o[ot][2] *= f[1], o[ot][3] *= f[1];
    for (int w = 1; w < S; ++w) {
      const float* theirs = st + (w - 1) * kState * 32 + lane;
      for (int r = 0; r < 2; ++r) {
        f[r] = exp2f(theirs[(OT * 4 + r) * 32] - base[r]);
        l[r] += theirs[(OT * 4 + 2 + r) * 32] * f[r];
      }
#pragma unroll
      for (int ot = 0; ot < OT; ++ot)
#pragma unroll
        for (int e = 0; e < 4; ++e) o[ot][e] += theirs[(ot * 4 + e) * 32] * f[e >> 1];
    }
    mma_store<T, P>(a, o, mt, l, sQ, static_cast<T*>(a.out) + off[kO], q0);
  }
}

// ---------------------------------------------------------------------------------------------
// float32: CUDA cores

constexpr int kF32Warps = 4;
constexpr int kF32RowsPerWarp = 4;
constexpr int kF32Rows = kF32Warps * kF32RowsPerWarp;  // queries per block
constexpr int kF32Keys = 32;                          // keys per tile: one per lane

// Steps the float32 kernels share. A block's place: one block per (batch index, tile of kF32Rows queries).
struct F32Block {
  int q0;             // the block's first query
  int64_t off[5];     // the operands' batch offsets
  const float *K, *V; // the batch entry's keys and values
};

// The block's place, with its queries loaded into sQ (zero past Sq and past D).
template <int P>
__device__ __forceinline__ F32Block f32_block(const Params& a, float (*sQ)[P]) {
  F32Block b;
  const int tiles = (a.sq + kF32Rows - 1) / kF32Rows;
  batch_offsets(a, blockIdx.x / tiles, b.off);
  b.q0 = static_cast<int>(blockIdx.x % tiles) * kF32Rows;
  b.K = static_cast<const float*>(a.k) + b.off[kK];
  b.V = static_cast<const float*>(a.v) + b.off[kV];
  const float* Q = static_cast<const float*>(a.q) + b.off[kQ];
  for (int idx = threadIdx.x; idx < kF32Rows * P; idx += blockDim.x) {
    int rr = idx / P, c = idx % P;
    sQ[rr][c] = b.q0 + rr < a.sq && c < a.d ? Q[static_cast<int64_t>(b.q0 + rr) * a.row[kQ] + c] : 0.f;
  }
  return b;
}

// Keys kt .. kt + kF32Keys - 1 and their values into shared memory, zero past Sk and past D (Dv): K by rows
// (pitch P + 1) or transposed (pitch kF32Keys + 1); V by rows.
template <int P, bool Transposed>
__device__ __forceinline__ void f32_load_kv(float* sK, float (*sV)[P], const float* K, const float* V,
                                            const Params& a, int kt) {
  for (int idx = threadIdx.x; idx < kF32Keys * P; idx += blockDim.x) {
    const int j = idx / P, c = idx % P;
    const bool in = kt + j < a.sk;
    const float k = in && c < a.d ? K[static_cast<int64_t>(kt + j) * a.row[kK] + c] : 0.f;
    if constexpr (Transposed)
      sK[c * (kF32Keys + 1) + j] = k;
    else
      sK[j * (P + 1) + c] = k;
    sV[j][c] = in && c < a.dv ? V[static_cast<int64_t>(kt + j) * a.row[kV] + c] : 0.f;
  }
}

// Each of a warp's rows before the first key: max -inf, sum 0, outputs 0.
template <int kCols>
__device__ __forceinline__ void f32_init_rows(float (&m)[kF32RowsPerWarp], float (&l)[kF32RowsPerWarp],
                                              float (&acc)[kF32RowsPerWarp][kCols]) {
#pragma unroll
  for (int rr = 0; rr < kF32RowsPerWarp; ++rr) {
    m[rr] = -INFINITY, l[rr] = 0.f;
#pragma unroll
    for (int u = 0; u < kCols; ++u) acc[rr][u] = 0.f;
  }
}

// One query row's online-softmax step over a key tile, the warp holding one score per lane (s, -inf where
// masked): updates the row's max m and sum l, rescales its accumulators, returns this lane's weight.
template <int kCols>
__device__ __forceinline__ float f32_softmax_step(float s, float& m, float& l, float (&acc)[kCols]) {
  float mt = s;
  for (int w = 16; w > 0; w >>= 1) mt = max_nan(mt, __shfl_xor_sync(0xffffffffu, mt, w));
  const float m_new = max_nan(m, mt);
  const float base = m_new == -INFINITY ? 0.f : m_new;
  const float alpha = expf(m - base);
  const float p = expf(s - base);
  float sum = p;
  for (int w = 16; w > 0; w >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, w);
  l = l * alpha + sum;
  m = m_new;
#pragma unroll
  for (int u = 0; u < kCols; ++u) acc[u] *= alpha;
  return p;
}

// Query row i's output (lane c: columns c, c + 32, ...), normalized by its sum; nothing for a row past Sq.
template <int kCols>
__device__ __forceinline__ void f32_store_row(const Params& a, float* O, int i, float m, float l,
                                              const float (&acc)[kCols]) {
  if (i >= a.sq) return;
  const int lane = threadIdx.x % 32;
  const bool zero = a.sk == 0 || (a.zero_empty && m == -INFINITY);
  const float inv = 1.f / l;
#pragma unroll
  for (int u = 0; u < kCols; ++u) {
    const int c = lane + 32 * u;
    if (c < a.dv) O[static_cast<int64_t>(i) * a.row[kO] + c] = zero ? 0.f : acc[u] * inv;
  }
}

// Grid: one block per (batch index, tile of 16 queries); warp w owns queries q0 + 4w .. +3. Lane j scores
// key kt + j; for the output, lane c owns columns c, c + 32, ...
template <int P>
__global__ void __launch_bounds__(kF32Warps * 32) attention_f32(Params a) {
  __shared__ float sQ[kF32Rows][P];
  __shared__ float sK[kF32Keys][P + 1];  // odd pitch: lanes reading one column of different keys hit distinct banks
  __shared__ float sV[kF32Keys][P];
  constexpr int kCols = P / 32;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const F32Block blk = f32_block<P>(a, sQ);
  const int q0 = blk.q0;
  const int64_t* off = blk.off;
  float m[kF32RowsPerWarp], l[kF32RowsPerWarp], acc[kF32RowsPerWarp][kCols];
  f32_init_rows<kCols>(m, l, acc);
  const int kv_end = a.causal ? min(a.sk, q0 + kF32Rows) : a.sk;
  for (int kt = 0; kt < kv_end; kt += kF32Keys) {
    __syncthreads();
    f32_load_kv<P, false>(&sK[0][0], sV, blk.K, blk.V, a, kt);
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
      const float p = f32_softmax_step<kCols>(s, m[rr], l[rr], acc[rr]);
      for (int jj = 0; jj < kF32Keys; ++jj) {
        const float pj = __shfl_sync(0xffffffffu, p, jj);
#pragma unroll
        for (int u = 0; u < kCols; ++u) acc[rr][u] = fmaf(pj, sV[jj][lane + 32 * u], acc[rr][u]);
      }
    }
  }
  float* O = static_cast<float*>(a.out) + off[kO];
#pragma unroll
  for (int rr = 0; rr < kF32RowsPerWarp; ++rr)
    f32_store_row<kCols>(a, O, q0 + warp * kF32RowsPerWarp + rr, m[rr], l[rr], acc[rr]);
}

// The same computation as attention_f32, register-tiled: each lane scores its key against the warp's four
// queries at once, reading four columns of each query as one 16-byte broadcast and its key's column from a
// transposed tile (conflict-free), and the weights reach the output loop through shared memory in 16-byte
// broadcasts instead of one shuffle per key and row. About a quarter of the shared-memory traffic per
// multiply-add; sums run in the same order as attention_f32's, so the results are the same.
template <int P>
__global__ void __launch_bounds__(kF32Warps * 32) attention_f32_tiled(Params a) {
  __shared__ __align__(16) float sQ[kF32Rows][P];
  __shared__ float sKT[P][kF32Keys + 1];  // K transposed; pitch 33: the transposing stores hit distinct banks
  __shared__ float sV[kF32Keys][P];
  __shared__ __align__(16) float sP[kF32Warps][kF32RowsPerWarp][kF32Keys];  // each warp's weights of a tile
  constexpr int kCols = P / 32;
  constexpr int R = kF32RowsPerWarp;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const F32Block blk = f32_block<P>(a, sQ);
  const int q0 = blk.q0;
  const int64_t* off = blk.off;
  float m[R], l[R], acc[R][kCols];
  f32_init_rows<kCols>(m, l, acc);
  const int r0 = warp * R;  // the warp's first row in the block
  int64_t mrow[R];
#pragma unroll
  for (int rr = 0; rr < R; ++rr) mrow[rr] = off[kM] + static_cast<int64_t>(q0 + r0 + rr) * a.row[kM];
  const int kv_end = a.causal ? min(a.sk, q0 + kF32Rows) : a.sk;
  for (int kt = 0; kt < kv_end; kt += kF32Keys) {
    __syncthreads();
    f32_load_kv<P, true>(&sKT[0][0], sV, blk.K, blk.V, a, kt);
    __syncthreads();
    // Scores of key kt + lane against the warp's rows, over D rounded up to 4 columns: those past D are zero
    // in sQ and sKT and fmaf(0, 0, x) is x, so the sums equal attention_f32's over c < D.
    float dot[R] = {};
    const int d4 = (a.d + 3) & ~3;
#pragma unroll 4
    for (int c = 0; c < d4; c += 4) {
      const float k0 = sKT[c][lane], k1 = sKT[c + 1][lane], k2 = sKT[c + 2][lane], k3 = sKT[c + 3][lane];
#pragma unroll
      for (int rr = 0; rr < R; ++rr) {
        const float4 q = *reinterpret_cast<const float4*>(&sQ[r0 + rr][c]);
        dot[rr] = fmaf(q.x, k0, dot[rr]);
        dot[rr] = fmaf(q.y, k1, dot[rr]);
        dot[rr] = fmaf(q.z, k2, dot[rr]);
        dot[rr] = fmaf(q.w, k3, dot[rr]);
      }
    }
    const int j = kt + lane;
#pragma unroll
    for (int rr = 0; rr < R; ++rr) {
      const int i = q0 + r0 + rr;
      // A row past Sq (never stored) sees only -inf here. attention_f32's other skip, causal rows before
      // the tile's first key, cannot occur: kt <= q0 <= i for every tile below kv_end.
      float s = -INFINITY;
      if (i < a.sq && j < a.sk && (!a.causal || j <= i)) {
        s = dot[rr] * a.scale;
        if (a.has_mask) s = apply_mask<float>(a, mrow[rr], j, 1.f, s);
      }
      sP[warp][rr][lane] = f32_softmax_step<kCols>(s, m[rr], l[rr], acc[rr]);
    }
    __syncwarp();
#pragma unroll 2
    for (int jj = 0; jj < kF32Keys; jj += 4) {
      float4 pr[R];
#pragma unroll
      for (int rr = 0; rr < R; ++rr) pr[rr] = *reinterpret_cast<const float4*>(&sP[warp][rr][jj]);
#pragma unroll
      for (int u = 0; u < kCols; ++u) {
        const float v0 = sV[jj][lane + 32 * u], v1 = sV[jj + 1][lane + 32 * u];
        const float v2 = sV[jj + 2][lane + 32 * u], v3 = sV[jj + 3][lane + 32 * u];
#pragma unroll
        for (int rr = 0; rr < R; ++rr) {
          acc[rr][u] = fmaf(pr[rr].x, v0, acc[rr][u]);
          acc[rr][u] = fmaf(pr[rr].y, v1, acc[rr][u]);
          acc[rr][u] = fmaf(pr[rr].z, v2, acc[rr][u]);
          acc[rr][u] = fmaf(pr[rr].w, v3, acc[rr][u]);
        }
      }
    }
    __syncwarp();  // the weights are read before the next tile's overwrite them
  }
  float* O = static_cast<float*>(a.out) + off[kO];
#pragma unroll
  for (int rr = 0; rr < R; ++rr) f32_store_row<kCols>(a, O, q0 + r0 + rr, m[rr], l[rr], acc[rr]);
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

// True when every row and batch step of an operand is a whole number of 16-byte (8-element) chunks.
bool strides_of_8(const AttentionStrides& s, int batch_rank) {
  bool ok = s.row % 8 == 0;
  for (int j = 0; j < batch_rank; ++j) ok = ok && s.batch[j] % 8 == 0;
  return ok;
}

// Tactic ids of the half kernels (stored in engine files and timing caches, so they stay fixed): 0 runs
// the WMMA kernel, 1 to kMaxWarps the mma kernel with that many warps (of 16 queries) per block,
// kTacticSplit + S the split-keys kernel with S warps per 16 queries (S = 2 or 4).
constexpr int64_t kTacticWmma = 0;
constexpr int64_t kTacticSplit = 16;
// float32: attention_f32 (the default) and its register-tiled form.
constexpr int64_t kTacticF32 = 0;
constexpr int64_t kTacticF32Tiled = 1;

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
    mma_ok_ = use_mma_ = false;
    f32_tiled_ = tactic_ == kTacticF32Tiled;
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
    max_warps_ = static_cast<int>(std::min<int64_t>(kMaxWarps, std::max<int64_t>(1, (g_.sq + 15) / 16)));
    warps_ = max_warps_;
    smem_ = smem_layout(warps_, P_, 2).total;
    // The mma kernel reads and writes whole 16-byte chunks of every row (the pointers are checked in run()).
    mma_ok_ = major >= 8 && g_.d % 8 == 0 && g_.dv % 8 == 0;
    for (const AttentionStrides* s : {&g_.q, &g_.k, &g_.v, &g_.out})
      mma_ok_ = mma_ok_ && strides_of_8(*s, g_.batch_rank);
    if (mma_ok_) {
      default_mma_warps_ = default_mma_warps();
      use_mma_ = tactic_ != kTacticWmma;
      mma_warps_ = tactic_ >= 1 && tactic_ <= max_warps_ ? static_cast<int>(tactic_) : default_mma_warps_;
      mma_smem_ = mma_smem_bytes(mma_warps_, P_);
    }
    split_ = 0;
    // Asked here, where the engine's device is current (tactics() may be called from any device).
    split_fits_[0] = mma_ok_ && g_.sk > kKeys && split_fits(2);
    split_fits_[1] = mma_ok_ && g_.sk > kKeys && split_fits(4);
    if (tactic_ == kTacticSplit + 2 && split_fits_[0]) split_ = 2;
    if (tactic_ == kTacticSplit + 4 && split_fits_[1]) split_ = 4;
    ran_mma_ = use_mma_;
    ran_split_ = split_ > 0;
    // The limit is a property of the function, shared by every layer that launches it: always the largest
    // need (kMaxWarps), so that a layer with fewer warps cannot lower it under another layer's launch.
    dispatch_float(dtype_, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, float>)
        dispatch_head(P_, [&](auto p) {
          constexpr int P = decltype(p)::value;
          T2T_CUDA_CHECK(cudaFuncSetAttribute(attention_wmma<T, P>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                              smem_layout(kMaxWarps, P, 2).total));
          if (mma_ok_)
            T2T_CUDA_CHECK(cudaFuncSetAttribute(attention_mma<T, P>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                mma_smem_bytes(kMaxWarps, P)));
          if (split_ == 2)
            T2T_CUDA_CHECK(cudaFuncSetAttribute(attention_mma_split<T, P, 2>,
                                                cudaFuncAttributeMaxDynamicSharedMemorySize, split_smem_bytes<P, 2>()));
          if (split_ == 4)
            T2T_CUDA_CHECK(cudaFuncSetAttribute(attention_mma_split<T, P, 4>,
                                                cudaFuncAttributeMaxDynamicSharedMemorySize, split_smem_bytes<P, 4>()));
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
    if (g.packed_qkv) {  // k and v are views of input 0 (..., S, 3, H, D); inputs 1 and 2 are unset
      const auto* base = static_cast<const uint8_t*>(args.in[0].data);
      a.k = base + g.k_offset * dtype_size(dtype_), a.v = base + g.v_offset * dtype_size(dtype_);
    }
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
      for (int k = kQ; k <= kV && vec; ++k) vec = strides_of_8(*st[k], g.batch_rank);
      a.vec = vec;
    }
    // Engines hand out aligned buffers; a caller's offset pointer falls back to the WMMA kernel.
    ran_mma_ = use_mma_ && a.vec && aligned16(a.out);
    ran_split_ = split_ > 0 && a.vec && aligned16(a.out);
    const int rows = ran_split_ ? 16 : ran_mma_ ? mma_warps_ * 16 : half ? warps_ * 16 : kF32Rows;
    const int64_t blocks = g.num_batches * ((g.sq + rows - 1) / rows);
    if (blocks > INT_MAX)
      throw Unsupported("Attention layer '" + layer_.name() + "': " + std::to_string(blocks) +
                        " blocks exceed the CUDA grid limit; split the batch");
    dispatch_float(dtype_, [&](auto tag) {
      using T = decltype(tag);
      dispatch_head(P_, [&](auto p) {
        constexpr int P = decltype(p)::value;
        if constexpr (std::is_same_v<T, float>) {
          if (f32_tiled_)
            attention_f32_tiled<P><<<static_cast<unsigned>(blocks), kF32Warps * 32, 0, s>>>(a);
          else
            attention_f32<P><<<static_cast<unsigned>(blocks), kF32Warps * 32, 0, s>>>(a);
        } else if (ran_split_ && split_ == 2)
          attention_mma_split<T, P, 2><<<static_cast<unsigned>(blocks), 64, split_smem_bytes<P, 2>(), s>>>(a);
        else if (ran_split_)
          attention_mma_split<T, P, 4><<<static_cast<unsigned>(blocks), 128, split_smem_bytes<P, 4>(), s>>>(a);
        else if (ran_mma_)
          attention_mma<T, P><<<static_cast<unsigned>(blocks), mma_warps_ * 32, mma_smem_, s>>>(a);
        else
          attention_wmma<T, P><<<static_cast<unsigned>(blocks), warps_ * 32, smem_, s>>>(a);
      });
    });
    check_launch("attention");
  }

  // The mma kernel with its default block first (the builder keeps the first unless another is clearly
  // faster), then its other block shapes, the split-keys kernel where there are several key tiles, then
  // the WMMA kernel.
  std::vector<int64_t> tactics() const override {
    if (dtype_ == DataType::kFLOAT) return {kTacticF32, kTacticF32Tiled};
    if (!mma_ok_) return {};
    std::vector<int64_t> t = {default_mma_warps_};
    for (int w = max_warps_; w >= 1; --w)
      if (w != default_mma_warps_) t.push_back(w);
    if (split_fits_[0]) t.push_back(kTacticSplit + 2);
    if (split_fits_[1]) t.push_back(kTacticSplit + 4);
    t.push_back(kTacticWmma);
    return t;
  }
  void set_tactic(int64_t id) override { tactic_ = id; }
  std::string tactic_key() const override {
    // The problem as the kernels see it: sizes, mask kind and every stride (layout, broadcasts).
    const AttentionGeometry& g = g_;
    // "v2": the tactics include the split-keys kernel; entries timed before it was there are not reused.
    std::string k = std::string("attention v2 ") + dtype_name(dtype_) + " b";
    for (int j = 0; j < g.batch_rank; ++j) k += (j ? "x" : "") + std::to_string(g.batch[j]);
    k += " sq" + std::to_string(g.sq) + " sk" + std::to_string(g.sk) + " d" + std::to_string(g.d) + " dv" +
         std::to_string(g.dv);
    k += !g.has_mask ? " nomask" : g.mask_is_bool ? " boolmask" : " floatmask";
    k += layer_.p.causal ? " causal" : "";
    k += layer_.p.zero_empty_rows ? " zero_empty" : "";
    k += g.packed_qkv ? " packed" : "";
    const char* names[5] = {" q", " k", " v", " o", " m"};
    const AttentionStrides* st[5] = {&g.q, &g.k, &g.v, &g.out, &g.mask};
    for (int i = 0; i < (g.has_mask ? 5 : 4); ++i) {
      k += names[i] + std::to_string(st[i]->row) + "/" + std::to_string(st[i]->col);
      for (int j = 0; j < g.batch_rank; ++j) k += "/" + std::to_string(st[i]->batch[j]);
    }
    return k;
  }

  const char* impl_name() const override {
    if (dtype_ == DataType::kFLOAT) return f32_tiled_ ? "cuda_attention_f32_tiled" : "cuda_attention_f32";
    if (ran_split_) return split_ == 2 ? "cuda_attention_mma_split2" : "cuda_attention_mma_split4";
    return ran_mma_ ? "cuda_attention_mma" : "cuda_attention_wmma";
  }

 private:
  // Warps per block of the mma kernel: as many as the queries fill (4 for long sequences), fewer when the
  // grid would otherwise leave SMs idle (BERT and ViT at batch 1: 12 heads of 128 or 197 queries).
  int default_mma_warps() const {
    const int64_t want = 2 * static_cast<int64_t>(sm_count());
    for (int w = max_warps_; w > 1; --w)
      if (g_.num_batches * ((g_.sq + 16 * w - 1) / (16 * w)) >= want) return w;
    return 1;
  }

  // True when the split-keys kernel with `sw` warps fits the device's shared memory for this head size.
  bool split_fits(int sw) const {
    int dev = 0, optin = 0;
    T2T_CUDA_CHECK(cudaGetDevice(&dev));
    T2T_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    int need = 0;
    dispatch_head(P_, [&](auto p) {
      constexpr int P = decltype(p)::value;
      need = sw == 2 ? split_smem_bytes<P, 2>() : split_smem_bytes<P, 4>();
    });
    return need <= optin;
  }

  AttentionLayer layer_;  // a detached copy: the geometry rule without holding on to the network
  DataType dtype_;
  AttentionGeometry g_;
  int P_ = 64;
  int max_warps_ = 4, warps_ = 4, smem_ = 0;  // the WMMA kernel's block (and the most warps any kernel uses)
  bool mma_ok_ = false;   // the mma kernel can run these shapes (device and strides)
  bool use_mma_ = false;  // ... and the tactic picks it
  bool ran_mma_ = false;  // the kernel of the last run (the alignment of the pointers decides at run time)
  int split_ = 0;           // warps per 16 queries of the split-keys kernel the tactic picks (0: not it)
  bool split_fits_[2] = {false, false};  // the split-keys kernel with 2 / 4 warps can run these shapes here
  bool f32_tiled_ = false;               // float32: the tactic picks attention_f32_tiled
  bool ran_split_ = false;  // the last run used it
  int default_mma_warps_ = 4, mma_warps_ = 4, mma_smem_ = 0;
  int64_t tactic_ = -1;
};

}  // namespace

std::unique_ptr<Kernel> make_Attention(const AttentionLayer& l, const std::vector<TensorDesc>& in,
                                       const std::vector<TensorDesc>&, std::string* why) {
  DataType t = in[0].dtype;
  if (!is_float_type(t)) return unsupported(why, "Attention on " + dt(t));
  const int r = in[0].dims.nb_dims;
  // With packed_qkv, input 0 holds q, k and v (..., S, 3, H, D) and inputs 1 and 2 are unset: Dv = D.
  int64_t d = in[0].dims.d[r - 1], dv = l.p.packed_qkv ? d : in[2].dims.d[r - 1];
  if (d < 0 || dv < 0) {
    const std::string shapes = l.p.packed_qkv ? "packed q/k/v " + in[0].dims.str()
                                              : "query " + in[0].dims.str() + ", value " + in[2].dims.str();
    return unsupported(why, "Attention with a head size known only at run time (" + shapes +
                                "): the kernel needs D and Dv <= " + std::to_string(kMaxHeadDim) +
                                " when the engine is built");
  }
  if (d > kMaxHeadDim || dv > kMaxHeadDim)
    return unsupported(why, "Attention with head sizes D = " + std::to_string(d) + ", Dv = " + std::to_string(dv) +
                                " (the kernel takes up to " + std::to_string(kMaxHeadDim) + ")");
  return std::make_unique<AttentionKernel>(l, t);
}

}  // namespace torch2trt::gpu
