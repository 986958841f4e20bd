// Own tensor-core GEMM, epilogue fused (see gemm_mma.h). A block computes a BM x BN tile of y with a grid
// of WM x WN warps, each a (BM / WM) x (BN / WN) tile of m16n8k16 products accumulated in float registers.
// k advances 32 or 64 at a time through a three-stage cp.async pipeline in shared memory (tile t + 2 loads while
// tile t is multiplied); ldmatrix reads the fragments (ldmatrix.trans for a (k, n) B), rows padded by 8
// elements so the 8 rows of an ldmatrix matrix fall in different banks. Tails of m, n and k are loaded as
// zeros (cp.async's zero fill), so the tile loop has no bounds checks. The epilogue adds the bias and the
// residual to the float accumulators, applies the activation (the shared pointwise functors; see store_tile)
// and rounds once; each lane stores pairs of adjacent columns.
#include <climits>
#include <string>

#include "backends/cuda/act_kind.cuh"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/gemm_mma.h"
#include "backends/cuda/mma.cuh"

namespace torch2trt::gpu {
namespace {

constexpr int kStages = 3;  // pipeline depth
constexpr int kPad = 8;     // row padding of every shared tile, in elements

struct Params {
  const void* a;
  const void* b;
  void* y;
  const void* z;
  const void* bias;
  int m, n, k;
  int act_kind;  // act_kind.cuh: which copy of the epilogue runs
  ActivationParams act;
};

// y = act(acc + bias + z) for a warp's tile: fragment element e of (i, j) is row wr + 16 i + lane / 4 + 8 (e / 2),
// column wc + 8 j + 2 (lane % 4) + e % 2; each lane stores column pairs.
template <int A, class T, class BiasT, int MI, int NI>
__device__ __forceinline__ void store_tile(const Params& p, const float (&acc)[MI][NI][4], int r0, int c0, int lane) {
  const BiasT* bias = static_cast<const BiasT*>(p.bias);
  const T* Z = static_cast<const T*>(p.z);
  T* Y = static_cast<T*>(p.y);
#pragma unroll
  for (int j = 0; j < NI; ++j) {
    const int col = c0 + j * 8 + 2 * (lane & 3);
    if (col >= p.n) continue;  // n is a multiple of 8: col + 1 < n too
    float b0 = 0.f, b1 = 0.f;
    if (bias) b0 = to_float(bias[col]), b1 = to_float(bias[col + 1]);
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = r0 + i * 16 + (lane >> 2) + 8 * h;
        if (row >= p.m) continue;
        const int64_t off = static_cast<int64_t>(row) * p.n + col;
        float v0 = acc[i][j][2 * h] + b0, v1 = acc[i][j][2 * h + 1] + b1;
        if (Z) v0 += to_float(Z[off]), v1 += to_float(Z[off + 1]);
        *reinterpret_cast<uint32_t*>(Y + off) = pack2<T>(act_of<A>(v0, p.act), act_of<A>(v1, p.act));
      }
  }
}

// BM x BN block tile, WM x WN warps over it, BK k per stage; KW > 1: KW groups of those warps share each
// stage's 16-wide k steps (step kk goes to group kk % KW) and add their sums at the end, for more warps in
// flight where the grid is small (BERT's 128-row GEMMs at batch 1).
template <int BM, int BN, int WM, int WN, int BK, int KW, bool BNK>
struct Shape {
  static constexpr int kThreads = WM * WN * KW * 32;
  static constexpr int kWarpRows = BM / WM, kWarpCols = BN / WN;
  static constexpr int MI = kWarpRows / 16, NI = kWarpCols / 8;  // 16-row and 8-column fragments per warp
  static constexpr int kAPitch = BK + kPad;
  static constexpr int kBRows = BNK ? BN : BK, kBPitch = BNK ? BK + kPad : BN + kPad;
  static constexpr int kAElems = BM * kAPitch, kBElems = kBRows * kBPitch;
  static constexpr int kSmemBytes = kStages * (kAElems + kBElems) * 2;
  // The other groups' sums, passed through the A stages once the loop is done (float, lane-fastest).
  static constexpr int kRedFloats = (KW - 1) * WM * WN * MI * NI * 4 * 32;
  static_assert(MI >= 1 && NI >= 2 && NI % 2 == 0, "warp tile: whole 16 x 16 fragment pairs");
  static_assert(BK % (16 * KW) == 0, "each group takes whole 16-wide k steps");
  static_assert(kSmemBytes <= 48 * 1024, "static shared memory limit");
  static_assert(kRedFloats * 4 <= kStages * kAElems * 2, "the groups' sums fit in the A stages");
};

// Rows [r0, r0 + rows) x columns [c0, c0 + cols) of a row-major (row_count x col_count) matrix into a
// shared tile of pitch `pitch`, 8 elements per cp.async; chunks outside the matrix are zero-filled (the
// column count is a multiple of 8, so a chunk is either whole or entirely outside).
template <class T, int Rows, int Cols, int Threads>
__device__ __forceinline__ void load_tile(T* dst, int pitch, const T* src, int row_count, int col_count, int r0,
                                          int c0) {
  constexpr int kChunks = Rows * (Cols / 8);
#pragma unroll
  for (int it = 0; it < (kChunks + Threads - 1) / Threads; ++it) {
    const int i = threadIdx.x + it * Threads;
    if (kChunks % Threads != 0 && i >= kChunks) break;
    const int r = i / (Cols / 8), c = (i % (Cols / 8)) * 8;
    const int gr = r0 + r, gc = c0 + c;
    const bool in = gr < row_count && gc < col_count;
    cp_async16_fill(dst + r * pitch + c, in ? src + static_cast<int64_t>(gr) * col_count + gc : src, in ? 16 : 0);
  }
}

template <class T, class BiasT, int BM, int BN, int WM, int WN, int BK, int KW, bool BNK>
__global__ void __launch_bounds__(WM * WN * KW * 32) gemm_mma(Params p) {
  if constexpr (mma_arch_ok()) {
    using S = Shape<BM, BN, WM, WN, BK, KW, BNK>;
    __shared__ __align__(16) T sa[kStages][S::kAElems];
    __shared__ __align__(16) T sb[kStages][S::kBElems];
    const T* A = static_cast<const T*>(p.a);
    const T* B = static_cast<const T*>(p.b);
    const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    const int warp = threadIdx.x / 32 % (WM * WN), group = threadIdx.x / 32 / (WM * WN), lane = threadIdx.x % 32;
    const int wr = (warp / WN) * S::kWarpRows, wc = (warp % WN) * S::kWarpCols;

    auto load = [&](int stage, int kt) {
      const int k0 = kt * BK;
      load_tile<T, BM, BK, S::kThreads>(sa[stage], S::kAPitch, A, p.m, p.k, row0, k0);
      if constexpr (BNK)
        load_tile<T, BN, BK, S::kThreads>(sb[stage], S::kBPitch, B, p.n, p.k, col0, k0);
      else
        load_tile<T, BK, BN, S::kThreads>(sb[stage], S::kBPitch, B, p.k, p.n, k0, col0);
    };

    float acc[S::MI][S::NI][4];
#pragma unroll
    for (int i = 0; i < S::MI; ++i)
#pragma unroll
      for (int j = 0; j < S::NI; ++j) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.f;

    const int tiles = (p.k + BK - 1) / BK;
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
      if (s < tiles) load(s, s);
      cp_async_commit();
    }
    for (int kt = 0; kt < tiles; ++kt) {
      cp_async_wait<kStages - 2>();  // this thread's copies of tile kt have landed ...
      __syncthreads();               // ... and everyone's; the stage of tile kt - 1 is free again
      if (kt + kStages - 1 < tiles) load((kt + kStages - 1) % kStages, kt + kStages - 1);
      cp_async_commit();  // an empty group past the end keeps the wait count uniform
      const T* ta = sa[kt % kStages];
      const T* tb = sb[kt % kStages];
#pragma unroll
      for (int kk0 = 0; kk0 < BK / 16; kk0 += KW) {
        const int kk = kk0 + group;
        uint32_t af[S::MI][4];
#pragma unroll
        for (int i = 0; i < S::MI; ++i)
          ldmatrix_x4(af[i], ta + (wr + i * 16 + (lane & 15)) * S::kAPitch + kk * 16 + (lane >> 4) * 8);
#pragma unroll
        for (int j = 0; j < S::NI / 2; ++j) {
          // B fragments of column tiles 2j and 2j + 1: matrices (n +0, k +0), (n +0, k +8), (n +8, k +0),
          // (n +8, k +8) of an (n, k) tile; of a (k, n) tile the same blocks, transposed by ldmatrix.
          uint32_t bf[4];
          if constexpr (BNK)
            ldmatrix_x4(bf, tb + (wc + j * 16 + (lane >> 4) * 8 + (lane & 7)) * S::kBPitch + kk * 16 +
                                ((lane >> 3) & 1) * 8);
          else
            ldmatrix_x4_trans(bf, tb + (kk * 16 + ((lane >> 3) & 1) * 8 + (lane & 7)) * S::kBPitch + wc + j * 16 +
                                      (lane >> 4) * 8);
#pragma unroll
          for (int i = 0; i < S::MI; ++i) {
            mma_16816<T>(acc[i][2 * j], af[i], bf[0], bf[1]);
            mma_16816<T>(acc[i][2 * j + 1], af[i], bf[2], bf[3]);
          }
        }
      }
    }
    cp_async_wait<0>();
    if constexpr (KW > 1) {
      // Groups 1 .. KW - 1 hand their sums to group 0 through the (now idle) A stages.
      __syncthreads();
      float* red = reinterpret_cast<float*>(&sa[0][0]);
      constexpr int kPerWarp = S::MI * S::NI * 4 * 32;
      if (group > 0) {
        float* mine = red + ((group - 1) * WM * WN + warp) * kPerWarp + lane;
#pragma unroll
        for (int i = 0; i < S::MI; ++i)
#pragma unroll
          for (int j = 0; j < S::NI; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) mine[((i * S::NI + j) * 4 + e) * 32] = acc[i][j][e];
      }
      __syncthreads();
      if (group > 0) return;
#pragma unroll
      for (int g = 1; g < KW; ++g) {
        const float* theirs = red + ((g - 1) * WM * WN + warp) * kPerWarp + lane;
#pragma unroll
        for (int i = 0; i < S::MI; ++i)
#pragma unroll
          for (int j = 0; j < S::NI; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[i][j][e] += theirs[((i * S::NI + j) * 4 + e) * 32];
      }
    }

    const int r0 = row0 + wr, c0 = col0 + wc;
    // The activation's own copy of the epilogue (act_kind.cuh: the runtime switch inlined at each of the 64
    // accumulators cost SiLU 14 us).
    with_act_kind(p.act_kind, [&](auto kind) { store_tile<decltype(kind)::value, T, BiasT>(p, acc, r0, c0, lane); });
  }
}

struct Config {
  const char* name;
  int bm, bn;
};
// Small tiles first: at batch 1 (BERT's 128 rows, EfficientNet's late stages) the grid is what limits.
// "k64": 64 k per stage (more bytes in flight per block); "s2": two warp groups share the k steps.
constexpr Config kConfigs[kGemmMmaConfigs] = {
    {"gemm_mma_32x64", 32, 64},        {"gemm_mma_64x64", 64, 64},         {"gemm_mma_64x128", 64, 128},
    {"gemm_mma_128x64", 128, 64},      {"gemm_mma_32x32", 32, 32},         {"gemm_mma_32x64_k64", 32, 64},
    {"gemm_mma_32x64_k64s2", 32, 64},  {"gemm_mma_32x32_k64s2", 32, 32}};

template <class T, class BiasT, bool BNK>
void launch_typed(int config, const Params& p, cudaStream_t s) {
  const Config& c = kConfigs[config];
  dim3 grid(static_cast<unsigned>((p.n + c.bn - 1) / c.bn), static_cast<unsigned>((p.m + c.bm - 1) / c.bm));
  switch (config) {
    case 0: gemm_mma<T, BiasT, 32, 64, 1, 2, 32, 1, BNK><<<grid, 64, 0, s>>>(p); break;
    case 1: gemm_mma<T, BiasT, 64, 64, 2, 2, 32, 1, BNK><<<grid, 128, 0, s>>>(p); break;
    case 2: gemm_mma<T, BiasT, 64, 128, 2, 2, 32, 1, BNK><<<grid, 128, 0, s>>>(p); break;
    case 3: gemm_mma<T, BiasT, 128, 64, 2, 2, 32, 1, BNK><<<grid, 128, 0, s>>>(p); break;
    case 4: gemm_mma<T, BiasT, 32, 32, 1, 1, 32, 1, BNK><<<grid, 32, 0, s>>>(p); break;
    case 5: gemm_mma<T, BiasT, 32, 64, 1, 2, 64, 1, BNK><<<grid, 64, 0, s>>>(p); break;
    case 6: gemm_mma<T, BiasT, 32, 64, 1, 2, 64, 2, BNK><<<grid, 128, 0, s>>>(p); break;
    default: gemm_mma<T, BiasT, 32, 32, 1, 1, 64, 2, BNK><<<grid, 64, 0, s>>>(p); break;
  }
  check_launch(c.name);
}

template <class T>
void launch_for(int config, const GemmMmaArgs& g, const Params& p, cudaStream_t s) {
  if (g.bias_float) {
    if (g.b_nk)
      launch_typed<T, float, true>(config, p, s);
    else
      launch_typed<T, float, false>(config, p, s);
  } else {
    if (g.b_nk)
      launch_typed<T, T, true>(config, p, s);
    else
      launch_typed<T, T, false>(config, p, s);
  }
}

int device_major() {
  int dev = 0, major = 0;
  T2T_CUDA_CHECK(cudaGetDevice(&dev));
  T2T_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  return major;
}

}  // namespace

const char* gemm_mma_config_name(int config) {
  return config >= 0 && config < kGemmMmaConfigs ? kConfigs[config].name : "gemm_mma_unknown";
}

bool gemm_mma_fits(DataType dt, int64_t m, int64_t n, int64_t k) {
  if (dt != DataType::kHALF && dt != DataType::kBF16) return false;
  if (m <= 0 || n <= 0 || k <= 0 || n % 8 != 0 || k % 8 != 0) return false;
  // 32-bit row and column indices; the grid's y extent (rows / 32 for the smallest tile) within 65535.
  // (Rounding n and k up to a tile stays within int too.)
  if (m >= (int64_t(1) << 31) || n > INT32_MAX - 256 || k > INT32_MAX - 64 || (m + 31) / 32 > 65535) return false;
  return device_major() >= 8;
}

bool gemm_mma_aligned(const GemmMmaArgs& g) {
  auto aligned = [](const void* p, uintptr_t b) { return (reinterpret_cast<uintptr_t>(p) & (b - 1)) == 0; };
  return aligned(g.a, 16) && aligned(g.b, 16) && aligned(g.y, 4) && aligned(g.z, 4);
}

void launch_gemm_mma(DataType dt, int config, const GemmMmaArgs& g, cudaStream_t s) {
  if (config < 0 || config >= kGemmMmaConfigs)
    throw Unsupported("gemm_mma: configuration " + std::to_string(config) + " does not exist");
  Params p{g.a, g.b, g.y, g.z, g.bias, static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k),
           act_kind_of(g.has_act, g.act.type), g.act};
  if (dt == DataType::kHALF)
    launch_for<half>(config, g, p, s);
  else if (dt == DataType::kBF16)
    launch_for<bf16>(config, g, p, s);
  else
    dispatch_failed("gemm_mma", dtype_name(dt));
}

}  // namespace torch2trt::gpu
