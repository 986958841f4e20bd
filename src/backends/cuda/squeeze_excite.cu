// CUDA squeeze-excitation gate in one launch. At batch 1 EfficientNet-B0's 16 gates ran as five kernels each
// (a global pooling, and per 1x1 convolution cuDNN plus an epilogue for the SiLU or sigmoid cuDNN cannot
// fuse), on one pixel: launches, not bandwidth. Here the blocks of a plane (image) each sum a share of it
// and leave partial sums in `part`; the block that arrives last (counted in `done`, which it resets for the
// next run) adds the partials in a fixed order and runs both fully connected layers alone:
//   mean (C)  ->  h = act1(W1 mean + b1) (S, a warp per output, lanes along C)  ->  gate = act2(W2 h + b2)
//   (C, a thread per output, along a row of W2).
// Channels-last x (the GPU layout of half-precision networks): split along the positions, lanes along the
// channels (V-element vectors). Channels-first x: split along the positions too, a warp per channel.
// Weights are stored in x's dtype, biases and all arithmetic in float (partial sums in double for float32).
// apply_to_input (y = x * gate): launched cooperatively (every block resident), the other blocks of a plane
// wait for its last block's gate (a generation count in `flag`) and then multiply their share of x, so the
// block's product costs no launch either; where the grid would not be resident at once, the plan takes
// fewer blocks per image (one block per image needs no waiting and no cooperative launch).
// A second tactic runs apply_to_input as two plain launches instead: the gate kernel (no waiting), then
// se_scale (y = x * gate over the whole tensor). The builder times both in graph replay and keeps the faster
// (the cooperative kernel took 22.8 us per gate of EfficientNet-B0 at batch 1 on an H100, on average over its 16).
#include <type_traits>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/vector_io.cuh"

namespace torch2trt::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxWidth = 10000;  // C + S floats of shared memory (40,000 bytes; with the static 8 KB under 48 KB)

template <class T>
using SeAcc = std::conditional_t<std::is_same_v<T, float>, double, float>;

template <class T>
struct SeArgs {
  const T* x;
  T* gate;
  const T* w1;
  const float* b1;  // null: no bias
  const T* w2;
  const float* b2;
  void* part;      // SeAcc<T>[N][parts][C]
  unsigned* done;  // [N], zero between runs
  float* gbuf;     // apply_to_input: the gate [N][C], rounded to T
  unsigned* flag;  // fused: [N] generation counts, advanced by each plane's last block
  T* y;            // fused: x * gate
  uint32_t c, s, sp;
  uint32_t rows, parts;  // positions per split and position splits (the partials per image)
  uint32_t cpb;          // channels per block: C, or channels-first a share of them (gridDim.x = parts x C splits)
  bool cl;
  bool fused;  // cooperative launch: wait for the gate and write y
  bool has_act1, has_act2;
  ActivationParams act1, act2;
};

// The GPU's global nanosecond timer.
__device__ __forceinline__ unsigned long long se_now_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// The last block runs alone on one multiprocessor, so its loops keep many loads in flight: R rows at a time,
// loops unrolled (one row per iteration waited for each load in turn: 23 us per gate at batch 1, measured).

// acc[k] = sum_i w[(j0 + k) * n + i] * v[i] over this lane's share of i (lane, lane + 32, ... in V-element
// vectors where `vec`: n a multiple of V, rows 16-byte aligned), for k < R; rows past `rows` repeat the last.
template <class T, int V, int R>
__device__ __forceinline__ void se_warp_rows(const T* w, uint32_t j0, uint32_t rows, uint32_t n, const float* v,
                                             bool vec, uint32_t lane, float* acc) {
  const T* r[R];
#pragma unroll
  for (int k = 0; k < R; ++k) acc[k] = 0.f, r[k] = w + static_cast<size_t>(min(j0 + k, rows - 1)) * n;
  if (V > 1 && vec) {
#pragma unroll 2
    for (uint32_t i = lane * V; i < n; i += 32 * V) {
      Pack<T, V> p[R];
#pragma unroll
      for (int k = 0; k < R; ++k) p[k] = load_pack<T, V>(r[k] + i);
#pragma unroll
      for (int k = 0; k < R; ++k)
#pragma unroll
        for (int j = 0; j < V; ++j) acc[k] += to_float(p[k].v[j]) * v[i + j];
    }
  } else {
#pragma unroll 4
    for (uint32_t i = lane; i < n; i += 32) {
      float p[R];
#pragma unroll
      for (int k = 0; k < R; ++k) p[k] = to_float(r[k][i]);
#pragma unroll
      for (int k = 0; k < R; ++k) acc[k] += p[k] * v[i];
    }
  }
}

// acc[k] = sum_i w[rows[k] * n + i] * v[i] over all i < n, one thread, for two rows.
template <class T, int V>
__device__ __forceinline__ void se_thread_rows(const T* w, const uint32_t* rows, uint32_t n, const float* v, bool vec,
                                               float* acc) {
  const T* r0 = w + static_cast<size_t>(rows[0]) * n;
  const T* r1 = w + static_cast<size_t>(rows[1]) * n;
  acc[0] = acc[1] = 0.f;
  if (V > 1 && vec) {
#pragma unroll 4
    for (uint32_t i = 0; i < n; i += V) {
      const Pack<T, V> p0 = load_pack<T, V>(r0 + i), p1 = load_pack<T, V>(r1 + i);
#pragma unroll
      for (int j = 0; j < V; ++j) acc[0] += to_float(p0.v[j]) * v[i + j], acc[1] += to_float(p1.v[j]) * v[i + j];
    }
  } else {
#pragma unroll 8
    for (uint32_t i = 0; i < n; ++i) acc[0] += to_float(r0[i]) * v[i], acc[1] += to_float(r1[i]) * v[i];
  }
}

// Sums each lane's V values over the ty rows of the block into row 0 (tree, fixed order).
template <class Acc, int V>
__device__ __forceinline__ void se_reduce_rows(Acc* red, const Acc* sum) {
  const uint32_t tx = blockDim.x, ty = blockDim.y, lane = threadIdx.x, row = threadIdx.y;
#pragma unroll
  for (int j = 0; j < V; ++j) red[(row * tx + lane) * V + j] = sum[j];
  __syncthreads();
  uint32_t w = 1;
  while (w < ty) w *= 2;
  for (w /= 2; w >= 1; w /= 2) {
    if (row < w && row + w < ty)
#pragma unroll
      for (int j = 0; j < V; ++j) red[(row * tx + lane) * V + j] += red[((row + w) * tx + lane) * V + j];
    __syncthreads();
  }
}

// Column sums over rows [r0, r1) of `vecs` V-element columns: lanes along the columns (in chunks of blockDim.x),
// block rows along the rows; add(r, cv, sum) adds row r's column cv to sum[V]; store(cv, total) takes each
// column's total (in row 0 of the block). Used for the pooling (rows: positions) and the partials (rows: splits).
template <class Acc, int V, class Add, class Store>
__device__ __forceinline__ void se_column_sums(Acc* red, uint32_t vecs, uint32_t r0, uint32_t r1, Add add, Store store) {
  const uint32_t tx = blockDim.x, ty = blockDim.y, lane = threadIdx.x, row = threadIdx.y;
  for (uint32_t v0 = 0; v0 < vecs; v0 += tx) {
    const uint32_t cv = v0 + lane;
    Acc sum[V];
#pragma unroll
    for (int j = 0; j < V; ++j) sum[j] = 0;
    if (cv < vecs)
#pragma unroll 4
      for (uint32_t r = r0 + row; r < r1; r += ty) add(r, cv, sum);
    se_reduce_rows<Acc, V>(red, sum);
    if (row == 0 && cv < vecs) store(cv, red + lane * V);
    __syncthreads();
  }
}

template <class T, int V>
__device__ __forceinline__ void se_multiply(const SeArgs<T>& a, float* s_gate, uint32_t n, uint32_t split,
                                            uint32_t c0, uint32_t c1, uint32_t tid, uint32_t nthreads);

// Grid (splits, N), block (tx, ty): block (split, n) takes positions [split * rows, ...) of image n.
template <class T, int V>
__global__ void __launch_bounds__(kThreads) se_gate(SeArgs<T> a) {
  using Acc = SeAcc<T>;
  __shared__ Acc red[kThreads * V];
  __shared__ bool s_last;
  __shared__ unsigned s_gen;
  extern __shared__ float s_vals[];  // mean (C), then h (S); fused: the gate then overwrites the means
  const uint32_t n = blockIdx.y, split = blockIdx.x % a.parts, blocks = gridDim.x;
  const uint32_t tx = blockDim.x, ty = blockDim.y, lane = threadIdx.x, row = threadIdx.y;
  const uint32_t tid = row * tx + lane, nthreads = tx * ty, warp = tid / 32, wl = tid % 32, warps = nthreads / 32;
  const uint32_t c0 = blockIdx.x / a.parts * a.cpb, c1 = min(a.c, c0 + a.cpb);  // this block's channels
  const uint32_t vecs = a.c / V, p0 = split * a.rows, p1 = min(a.sp, p0 + a.rows);
  Acc* part = static_cast<Acc*>(a.part);
  Acc* my_part = part + (static_cast<size_t>(n) * a.parts + split) * a.c;
  const T* __restrict__ xn = a.x + static_cast<size_t>(n) * a.sp * a.c;
  // The generation before this run: it advances only after every block of the plane (this one too) counted.
  if (a.fused && tid == 0) s_gen = *reinterpret_cast<volatile unsigned*>(a.flag + n);
  if (a.cl) {
    // Lanes along the channel vectors, rows along the positions.
    se_column_sums<Acc, V>(
        red, vecs, p0, p1,
        [&](uint32_t p, uint32_t cv, Acc* sum) {
          const Pack<T, V> x = load_pack<T, V>(xn + static_cast<size_t>(p) * a.c + cv * V);
#pragma unroll
          for (int j = 0; j < V; ++j) sum[j] += to_float(x.v[j]);
        },
        [&](uint32_t cv, const Acc* total) {
#pragma unroll
          for (int j = 0; j < V; ++j) my_part[cv * V + j] = total[j];
        });
  } else if (warp < warps) {
    // A warp per channel of this block's share, lanes along the positions.
    for (uint32_t ch = c0 + warp; ch < c1; ch += warps) {
      Acc s = 0;
      const T* xc = xn + static_cast<size_t>(ch) * a.sp;
#pragma unroll 4
      for (uint32_t p = p0 + wl; p < p1; p += 32) s += to_float(xc[p]);
      s = warp_sum(s);
      if (wl == 0) my_part[ch] = s;
    }
  }
  __threadfence();
  __syncthreads();
  if (tid == 0) {
    s_last = atomicAdd(a.done + n, 1u) == blocks - 1;
    if (s_last) a.done[n] = 0;  // ready for the next run (every block of this plane has counted)
  }
  __syncthreads();
  if (!s_last) {
    if (!a.fused) return;
    if (tid == 0) {
      // Bounded: a gate that never comes (which the cooperative launch rules out) ends the kernel with an
      // error after 10 s instead of hanging the device (the slowest last block allowed, C + S = 10000, takes
      // well under a second).
      const unsigned long long t0 = se_now_ns();
      while (*reinterpret_cast<volatile unsigned*>(a.flag + n) == s_gen) {
        __nanosleep(64);
        if (se_now_ns() - t0 > 10000000000ull) __trap();
      }
    }
    __threadfence();
    __syncthreads();
    se_multiply<T, V>(a, s_vals, n, split, c0, c1, tid, nthreads);
    return;
  }
  __threadfence();
  // The last block of plane n. The means: lanes along the channel vectors, rows along the partials.
  float* mean = s_vals;
  float* h = s_vals + a.c;
  const Acc* pn = part + static_cast<size_t>(n) * a.parts * a.c;
  se_column_sums<Acc, V>(
      red, vecs, 0, a.parts,
      [&](uint32_t k, uint32_t cv, Acc* sum) {
#pragma unroll
        for (int j = 0; j < V; ++j) sum[j] += __ldcg(pn + static_cast<size_t>(k) * a.c + cv * V + j);
      },
      [&](uint32_t cv, const Acc* total) {
#pragma unroll
        for (int j = 0; j < V; ++j) mean[cv * V + j] = a.sp > 0 ? static_cast<float>(total[j] / static_cast<Acc>(a.sp)) : 0.f;
      });
  // h = act1(W1 mean + b1): four rows per warp at a time.
  const bool vec1 = a.c % V == 0, vec2 = a.s % V == 0;
  constexpr int R = 4;
  if (warp < warps)
    for (uint32_t j0 = warp * R; j0 < a.s; j0 += warps * R) {
      float acc[R];
      se_warp_rows<T, V, R>(a.w1, j0, a.s, a.c, mean, vec1, wl, acc);
#pragma unroll
      for (int k = 0; k < R; ++k) acc[k] = warp_sum(acc[k]);
      if (wl == 0)
#pragma unroll
        for (int k = 0; k < R; ++k)
          if (j0 + k < a.s) {
            const float v = acc[k] + (a.b1 ? a.b1[j0 + k] : 0.f);
            h[j0 + k] = a.has_act1 ? pw::activation<float>(a.act1.type, v, a.act1.alpha, a.act1.beta) : v;
          }
    }
  __syncthreads();
  // gate = act2(W2 h + b2): a thread per channel, two channels at a time.
  for (uint32_t ca = tid; ca < a.c; ca += 2 * nthreads) {
    const uint32_t rows[2] = {ca, min(ca + nthreads, a.c - 1)};
    float acc[2];
    se_thread_rows<T, V>(a.w2, rows, a.s, h, vec2, acc);
#pragma unroll
    for (int k = 0; k < 2; ++k) {
      const uint32_t ch = k == 0 ? ca : ca + nthreads;
      if (ch >= a.c) break;
      float v = acc[k] + (a.b2 ? a.b2[ch] : 0.f);
      if (a.has_act2) v = pw::activation<float>(a.act2.type, v, a.act2.alpha, a.act2.beta);
      const T g = from_float<T>(v);
      if (a.gate) a.gate[static_cast<size_t>(n) * a.c + ch] = g;
      if (a.gbuf) a.gbuf[static_cast<size_t>(n) * a.c + ch] = to_float(g);
    }
  }
  if (!a.fused) return;
  __threadfence();
  __syncthreads();
  if (tid == 0) atomicAdd(a.flag + n, 1u);  // releases the plane's waiting blocks
  se_multiply<T, V>(a, s_vals, n, split, c0, c1, tid, nthreads);
}

// y = x * gate over what the block pooled: positions of `split`, channels [c0, c1). The gate comes from gbuf
// through shared memory.
template <class T, int V>
__device__ __forceinline__ void se_multiply(const SeArgs<T>& a, float* s_gate, uint32_t n, uint32_t split,
                                            uint32_t c0, uint32_t c1, uint32_t tid, uint32_t nthreads) {
  __syncthreads();  // s_gate may still be read as the means or hidden values
  for (uint32_t ch = tid; ch < a.c; ch += nthreads) s_gate[ch] = __ldcg(a.gbuf + static_cast<size_t>(n) * a.c + ch);
  __syncthreads();
  const size_t base = static_cast<size_t>(n) * a.sp * a.c;
  const uint32_t p0 = split * a.rows, p1 = min(a.sp, p0 + a.rows), np = p1 > p0 ? p1 - p0 : 0;
  if (a.cl) {
    const uint32_t vecs = a.c / V, count = np * vecs;
#pragma unroll 4
    for (uint32_t i = tid; i < count; i += nthreads) {
      const uint32_t p = p0 + i / vecs, cv = i % vecs;
      const size_t at = base + static_cast<size_t>(p) * a.c + cv * V;
      Pack<T, V> v = load_pack<T, V>(a.x + at);
#pragma unroll
      for (int j = 0; j < V; ++j) v.v[j] = from_float<T>(to_float(v.v[j]) * s_gate[cv * V + j]);
      store_pack<T, V>(a.y + at, v);
    }
  } else {
    const uint32_t count = np * (c1 - c0);
#pragma unroll 4
    for (uint32_t i = tid; i < count; i += nthreads) {
      const uint32_t ch = c0 + i / np;
      const size_t at = base + static_cast<size_t>(ch) * a.sp + p0 + i % np;
      a.y[at] = from_float<T>(to_float(a.x[at]) * s_gate[ch]);
    }
  }
}

// y = x * gate[image][channel] over `vecs` V-element vectors of x (channels-last: V channels of one position;
// channels-first: V = 1); the gate is float, as the gate kernel rounded it to T.
template <class T, int V>
__global__ void se_scale(const T* __restrict__ x, const float* __restrict__ gate, T* __restrict__ y, uint32_t vecs,
                         uint32_t c, uint32_t sp, bool cl) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < vecs; i += gridDim.x * blockDim.x) {
    const uint32_t e = i * V;  // first element
    const uint32_t img = e / (sp * c);
    const uint32_t ch = cl ? e % c : (e / sp) % c;
    const float* g = gate + static_cast<size_t>(img) * c + ch;
    Pack<T, V> v = load_pack<T, V>(x + e);
#pragma unroll
    for (int j = 0; j < V; ++j) v.v[j] = from_float<T>(to_float(v.v[j]) * g[cl ? j : 0]);
    store_pack<T, V>(y + e, v);
  }
}

class SqueezeExciteKernel : public Kernel {
 public:
  SqueezeExciteKernel(const SqueezeExciteLayer& l, DataType dt) : dt_(dt) {
    layer_.p = l.p;
    layer_.set_name(l.name());
  }

  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    layer_.geometry(in[0].dims, &n_, &c_, &sp_);
    if (!uploaded_) upload();
    const int64_t s = layer_.p.squeeze_channels;
    if (n_ > 65535) throw Unsupported("CUDA squeeze-excitation: batch " + std::to_string(n_) + " above 65535");
    if (in[0].dims.volume() >= (int64_t(1) << 31))
      throw Unsupported("CUDA squeeze-excitation: inputs of 2^31 or more elements");
    // Splits along the positions (channels-last: about eight loads per thread; channels-first: 256 positions,
    // eight loads per lane of a warp's channel) and, channels-first, along the channels too, for about two
    // blocks per multiprocessor over all images. Every position split leaves C partial sums for the last block.
    const int64_t target = std::max<int64_t>(1, (2 * static_cast<int64_t>(sm_count()) + n_ - 1) / std::max<int64_t>(n_, 1));
    int64_t psplits, csplits = 1;
    if (layer_.p.channels_last) {
      const int64_t loads = sp_ * (c_ / vector_width());
      psplits = std::max<int64_t>(1, std::min({target, (loads + kThreads * 8 - 1) / (kThreads * 8), sp_}));
    } else {
      psplits = std::max<int64_t>(1, std::min(target, (sp_ + 255) / 256));
      csplits = std::max<int64_t>(1, std::min((target + psplits - 1) / psplits, (c_ + 7) / 8));
    }
    plan(psplits, csplits);
    const size_t acc = dt_ == DataType::kFLOAT ? sizeof(double) : sizeof(float);
    const size_t part = static_cast<size_t>(n_) * parts_ * c_ * acc;
    if (part > part_.size()) part_.allocate(part);
    const size_t done = static_cast<size_t>(std::max<int64_t>(n_, 1)) * sizeof(unsigned);
    done_.ensure_zeroed(done);  // the last block of each plane resets its counter
    if (!layer_.p.apply_to_input) return;
    const size_t gate = static_cast<size_t>(n_) * c_ * sizeof(float);
    if (gate > gbuf_.size()) gbuf_.allocate(gate);
    flag_.ensure_zeroed(done);
    two_kernels_ = tactic_ == kTwoKernels;
    if (two_kernels_) return;  // nothing waits: any number of blocks
    // Waiting blocks need every block of the grid resident at once (a cooperative launch): with both vector
    // widths' occupancy, fewer splits where the grid would not fit (one block per image needs no waiting).
    int device = 0, coop = 0;
    T2T_CUDA_CHECK(cudaGetDevice(&device));
    T2T_CUDA_CHECK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, device));
    const size_t smem = static_cast<size_t>(c_ + s) * sizeof(float);
    int per_sm = 1 << 30;
    dispatch_float(dt_, [&](auto tag) {
      using T = decltype(tag);
      for (int v : {16 / static_cast<int>(sizeof(T)), 1}) {
        int b = 0;
        const int threads = block_threads(v);
        if (v == 1)
          T2T_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, se_gate<T, 1>, threads, smem));
        else
          T2T_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, se_gate<T, 16 / sizeof(T)>, threads, smem));
        per_sm = std::min(per_sm, b);
      }
    });
    const int64_t resident = coop ? static_cast<int64_t>(per_sm) * sm_count() : 0;
    if (blocks_ * n_ > resident) {
      // As many blocks per image as fit, position splits first.
      const int64_t per_image = std::max<int64_t>(1, resident / std::max<int64_t>(n_, 1));
      const int64_t ps = std::min(parts_, per_image);
      plan(ps, std::max<int64_t>(1, per_image / ps));
      if (blocks_ * n_ > resident) plan(1, 1);
    }
  }

  // rows_ positions per split, parts_ position splits, cpb_ channels per block, blocks_ blocks per image.
  void plan(int64_t psplits, int64_t csplits) {
    if (layer_.p.channels_last) csplits = 1;  // a channels-last block pools every channel of its positions
    rows_ = std::max<int64_t>(1, (sp_ + psplits - 1) / psplits);
    parts_ = std::max<int64_t>(1, (sp_ + rows_ - 1) / rows_);
    cpb_ = std::max<int64_t>(1, (c_ + csplits - 1) / csplits);
    blocks_ = parts_ * ((c_ + cpb_ - 1) / cpb_);
  }

  void run(const KernelArgs& a) override {
    if (n_ == 0 || c_ == 0) return;
    cudaStream_t st = stream_of(a);
    dispatch_float(dt_, [&](auto tag) {
      using T = decltype(tag);
      SeArgs<T> g;
      g.x = a.in[0].as<const T>();
      g.gate = a.out[0].as<T>();
      g.w1 = w1_.as<const T>();
      g.b1 = layer_.p.b1.empty() ? nullptr : b1_.as<const float>();
      g.w2 = w2_.as<const T>();
      g.b2 = layer_.p.b2.empty() ? nullptr : b2_.as<const float>();
      const bool apply = layer_.p.apply_to_input;
      g.gate = apply ? nullptr : g.gate;
      g.gbuf = apply ? gbuf_.as<float>() : nullptr;
      g.flag = flag_.as<unsigned>();
      g.y = a.out[0].as<T>();
      g.fused = apply && !two_kernels_;
      g.part = part_.get();
      g.done = done_.as<unsigned>();
      g.c = static_cast<uint32_t>(c_), g.s = static_cast<uint32_t>(layer_.p.squeeze_channels);
      g.sp = static_cast<uint32_t>(sp_), g.rows = static_cast<uint32_t>(rows_), g.parts = static_cast<uint32_t>(parts_);
      g.cpb = static_cast<uint32_t>(cpb_);
      g.cl = layer_.p.channels_last;
      g.has_act1 = layer_.p.has_act1, g.has_act2 = layer_.p.has_act2;
      g.act1 = layer_.p.act1, g.act2 = layer_.p.act2;
      const size_t smem = static_cast<size_t>(c_ + layer_.p.squeeze_channels) * sizeof(float);
      auto launch = [&](auto v) {
        constexpr int V = decltype(v)::value;
        const uint32_t tx = block_x(V), ty = kThreads / tx;
        const dim3 grid(static_cast<unsigned>(blocks_), static_cast<unsigned>(n_)), block(tx, ty);
        if (!g.fused || blocks_ == 1) {  // nothing waits: a plain launch
          se_gate<T, V><<<grid, block, smem, st>>>(g);
          return;
        }
        cudaLaunchConfig_t cfg = {};
        cfg.gridDim = grid, cfg.blockDim = block, cfg.dynamicSmemBytes = smem, cfg.stream = st;
        cudaLaunchAttribute attr[1];
        attr[0].id = cudaLaunchAttributeCooperative;
        attr[0].val.cooperative = 1;
        cfg.attrs = attr, cfg.numAttrs = 1;
        T2T_CUDA_CHECK(cudaLaunchKernelEx(&cfg, se_gate<T, V>, g));
      };
      constexpr int kWide = 16 / sizeof(T);
      // Vectors along the channels need every row of x aligned: C a multiple of V and x 16-byte aligned.
      // (The weight rows take vectors where their own lengths allow; the weights are allocated aligned.)
      const bool wide = c_ % kWide == 0 && is_aligned(g.x, 16) && (!apply || is_aligned(g.y, 16));
      if (wide)
        launch(std::integral_constant<int, kWide>{});
      else
        launch(std::integral_constant<int, 1>{});
      if (!apply || !two_kernels_) return;
      check_launch("squeeze_excite");
      const uint32_t total = static_cast<uint32_t>(n_ * c_ * sp_);
      const bool cl = layer_.p.channels_last;
      if (cl && wide)
        se_scale<T, kWide><<<grid_1d(total / kWide), kBlock, 0, st>>>(g.x, g.gbuf, g.y, total / kWide, g.c, g.sp, cl);
      else
        se_scale<T, 1><<<grid_1d(total), kBlock, 0, st>>>(g.x, g.gbuf, g.y, total, g.c, g.sp, cl);
    });
    check_launch("squeeze_excite");
  }

  const char* impl_name() const override {
    if (!layer_.p.apply_to_input) return "cuda_squeeze_excite";
    return two_kernels_ ? "cuda_squeeze_excite_apply_two_kernels" : "cuda_squeeze_excite_apply";
  }
  // apply_to_input with blocks that wait (blocks_ > 1 per image: a cooperative launch): that kernel, or two
  // plain launches.
  std::vector<int64_t> tactics() const override {
    if (!layer_.p.apply_to_input || blocks_ <= 1) return {};
    return {kOneKernel, kTwoKernels};
  }
  void set_tactic(int64_t id) override { tactic_ = id; }
  std::string tactic_key() const override {
    return std::string("squeeze_excite v1 ") + dtype_name(dt_) + " n" + std::to_string(n_) + " c" + std::to_string(c_) +
           " s" + std::to_string(layer_.p.squeeze_channels) + " sp" + std::to_string(sp_) +
           (layer_.p.channels_last ? " nhwc" : " nchw") + (layer_.p.b1.empty() ? "" : " bias");
  }

 private:
  // Lanes along the channel vectors (channels-last; at most a warp) or a warp (channels-first), for V-element
  // vectors; rows fill the block up to kThreads.
  uint32_t block_x(int v) const {
    return static_cast<uint32_t>(layer_.p.channels_last ? std::max<int64_t>(1, std::min<int64_t>(c_ / v, 32)) : 32);
  }
  int block_threads(int v) const {
    const int tx = static_cast<int>(block_x(v));
    return tx * (kThreads / tx);
  }
  // The split plan assumes the widest vectors; narrower ones (misaligned x) only loop more.
  int64_t vector_width() const {
    const int64_t w = 16 / static_cast<int64_t>(dtype_size(dt_));
    return c_ % w == 0 ? w : 1;
  }
  // Weights in the tensors' dtype, biases in float (an empty bias stays unallocated: run() passes null).
  void upload() {
    w1_.upload_as(layer_.p.w1.to_float(), dt_);
    w2_.upload_as(layer_.p.w2.to_float(), dt_);
    if (!layer_.p.b1.empty()) b1_.upload_as(layer_.p.b1.to_float(), DataType::kFLOAT);
    if (!layer_.p.b2.empty()) b2_.upload_as(layer_.p.b2.to_float(), DataType::kFLOAT);
    uploaded_ = true;
  }

  SqueezeExciteLayer layer_;
  DataType dt_;
  bool uploaded_ = false;
  DeviceBuffer w1_, w2_, b1_, b2_, part_, done_, gbuf_, flag_;
  int64_t n_ = 0, c_ = 0, sp_ = 0, rows_ = 1, parts_ = 1, cpb_ = 1, blocks_ = 1;
  static constexpr int64_t kOneKernel = 0, kTwoKernels = 1;  // tactic ids (apply_to_input)
  int64_t tactic_ = -1;       // -1: one kernel
  bool two_kernels_ = false;  // the gate kernel then se_scale
};

}  // namespace

std::unique_ptr<Kernel> make_SqueezeExcite(const SqueezeExciteLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "SqueezeExcite on " + dt(in[0].dtype));
  int64_t n, c, sp;
  l.geometry(in[0].dims, &n, &c, &sp);
  if (c < 0) c = l.p.w1.count / std::max<int64_t>(l.p.squeeze_channels, 1);  // C is fixed by the weights
  if (c + l.p.squeeze_channels > kMaxWidth)
    return unsupported(why, "SqueezeExcite with C + squeeze_channels = " + std::to_string(c + l.p.squeeze_channels) +
                                " (the CUDA kernel keeps both in shared memory: at most " + std::to_string(kMaxWidth) +
                                "); leave the pooling and the two convolutions unfused");
  return std::make_unique<SqueezeExciteKernel>(l, in[0].dtype);
}

}  // namespace torch2trt::gpu
