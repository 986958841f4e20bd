// CUDA normalization (layer, instance, group). Statistics: one block per instance, two passes (mean, then
// the sum of squared deviations) so a large mean costs no precision. Apply: one pointwise pass.
// Rows (the normalized elements contiguous and innermost, as LayerNorm over the last dims makes them, up to
// kRowMax elements): one kernel, a warp per row reading it three times (the re-reads hit L1), 16-byte
// accesses where the row allows. Two kernels and a statistics round trip cost BERT-base 45 us per
// LayerNorm at batch 32 (measured on an H200), the single pass about a tenth of that.
// float32 works in double, as the CPU kernel does (a float32 subtraction of a large mean would lose
// ~1e-5 of the deviations); float16/bfloat16 work in float.
#include <type_traits>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

constexpr int kStatBlock = 256;

enum Stride { kX = 0, kStat = 1, kScale = 2, kBias = 3 };

// A "working dim" of the input: the channel dim is split into groups x channels-per-group when
// num_groups > 1; strides into x, the statistics, scale and bias.
struct WorkDim {
  int64_t n = 1;
  bool reduced = false;
  int64_t s[4] = {0, 0, 0, 0};
};

// Dense strides of `d`, aligned to the right of an input of rank r (0 where broadcast or absent).
std::vector<int64_t> broadcast_into(const Dims& d, int r) {
  std::vector<int64_t> s(r, 0);
  int64_t acc = 1;
  for (int j = d.nb_dims - 1; j >= 0; --j) {
    int i = r - d.nb_dims + j;
    if (d.d[j] != 1) s[i] = acc;
    acc *= d.d[j];
  }
  return s;
}

template <class T>
using AccOf = std::conditional_t<std::is_same_v<T, float>, double, float>;

// mean[inst] and rstd[inst] for instance inst: x at kept(inst) + red(r), r in [0, count).
template <class T>
__global__ void norm_stats(const T* __restrict__ x, OffsetCalc<1> kept, OffsetCalc<1> red, int64_t instances,
                           int64_t count, float eps, AccOf<T>* __restrict__ mean, AccOf<T>* __restrict__ rstd) {
  using Acc = AccOf<T>;
  __shared__ Acc smem[kStatBlock];
  auto add = [](Acc a, Acc b) { return a + b; };
  for (int64_t inst = blockIdx.x; inst < instances; inst += gridDim.x) {
    int64_t base;
    kept.get(inst, &base);
    Acc s = 0;
    for (int64_t r = threadIdx.x; r < count; r += blockDim.x) {
      int64_t off;
      red.get(r, &off);
      s += static_cast<Acc>(to_float(x[base + off]));
    }
    Acc m = block_reduce(s, add, smem) / static_cast<Acc>(count);
    Acc q = 0;
    for (int64_t r = threadIdx.x; r < count; r += blockDim.x) {
      int64_t off;
      red.get(r, &off);
      Acc d = static_cast<Acc>(to_float(x[base + off])) - m;
      q += d * d;
    }
    q = block_reduce(q, add, smem);
    if (threadIdx.x == 0) {
      mean[inst] = m;
      rstd[inst] = Acc(1) / sqrt(q / static_cast<Acc>(count) + static_cast<Acc>(eps));
    }
  }
}

// y[i] = (x[i] - mean) * rstd * scale + bias; off = {stat, scale, bias} offsets of element i.
template <class T>
struct NormApply {
  const T* x;
  const T* scale;
  const T* bias;
  const AccOf<T>* mean;
  const AccOf<T>* rstd;
  T* y;
  __device__ __forceinline__ void operator()(int64_t i, const int64_t* off) const {
    using Acc = AccOf<T>;
    Acc v = (static_cast<Acc>(to_float(x[i])) - mean[off[0]]) * rstd[off[0]];
    y[i] = from_float<T>(static_cast<float>(v * static_cast<Acc>(to_float(scale[off[1]])) +
                                            static_cast<Acc>(to_float(bias[off[2]]))));
  }
};

constexpr int64_t kRowMax = 8192;  // longest row a warp normalizes alone (longer: the block-per-instance path)
constexpr int kRowWarps = 4;       // rows per block

// V consecutive elements of a row at p as floats (V * sizeof(T) is 16 bytes or V is 1).
template <class T, int V>
__device__ __forceinline__ void load_vec(const T* p, float* v) {
  if constexpr (V == 1) {
    v[0] = to_float(*p);
  } else {
    static_assert(V * sizeof(T) == 16, "16-byte vectors");
    uint4 raw = *reinterpret_cast<const uint4*>(p);
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int j = 0; j < V; ++j) v[j] = to_float(e[j]);
  }
}

// Scale or bias values for the V elements of a row from column c: p[c..c+V) when the parameter runs along
// the row (one 16-byte load where V > 1 and the address allows), else p[0] for all of them.
template <class T, int V>
__device__ __forceinline__ void load_param(const T* p, bool cols, int c, float* v) {
  if (!cols) {
    const float one = to_float(p[0]);
#pragma unroll
    for (int j = 0; j < V; ++j) v[j] = one;
  } else if (V > 1 && (reinterpret_cast<uintptr_t>(p + c) & 15) == 0) {
    load_vec<T, V>(p + c, v);
  } else {
#pragma unroll
    for (int j = 0; j < V; ++j) v[j] = to_float(p[c + j]);
  }
}

// Per-row parameter offsets (scale, bias) over the kept dims; along the row each is either element-wise
// (offset + column) or one value (offset).
struct RowParams {
  OffsetCalc<2> kept;
  bool scale_cols = false, bias_cols = false;
};

// Row `row` of `count` elements at x + row * count, normalized into y: warp `row` of the grid-stride loop.
// CH > 0: the row is at most CH * 32 * V elements and stays in registers (one read of x: short rows are
// latency-bound, BERT's at batch 1); CH == 0: any length, x read three times (the re-reads hit L1).
// PV: scale and bias are each one 16-byte aligned row of `count` values shared by every row (LayerNorm's gamma
// and beta): their loads are unconditional vector loads, which the compiler issues with x's, all in flight
// together (behind the run-time alignment branch of load_param they waited one after another).
template <class T, int V, int CH, bool PV = false>
__global__ void __launch_bounds__(kRowWarps * 32)
    row_norm(const T* __restrict__ x, const T* __restrict__ scale, const T* __restrict__ bias, T* __restrict__ y,
             int64_t rows, int count, float eps, RowParams rp) {
  using Acc = AccOf<T>;
  constexpr int kCached = CH > 0 ? CH : 1;
  const int lane = threadIdx.x % 32;
  for (int64_t row = blockIdx.x * static_cast<int64_t>(kRowWarps) + threadIdx.x / 32; row < rows;
       row += static_cast<int64_t>(gridDim.x) * kRowWarps) {
    const T* xr = x + row * count;
    int64_t po[2] = {0, 0};
    if constexpr (!PV) rp.kept.get(row, po);
    const T* sr = scale + po[0];
    const T* br = bias + po[1];
    // Cached rows also load their scale and bias up front, so those loads overlap the reductions.
    float cache[kCached][V], gc[kCached][V], bc[kCached][V];
    Acc s = 0;
    if constexpr (CH > 0) {
#pragma unroll
      for (int k = 0; k < CH; ++k) {
        const int c = (lane + 32 * k) * V;
#pragma unroll
        for (int j = 0; j < V; ++j) cache[k][j] = 0.f;
        if (c < count) {
          load_vec<T, V>(xr + c, cache[k]);
          if constexpr (PV) {
            load_vec<T, V>(sr + c, gc[k]);
            load_vec<T, V>(br + c, bc[k]);
          } else {
            load_param<T, V>(sr, rp.scale_cols, c, gc[k]);
            load_param<T, V>(br, rp.bias_cols, c, bc[k]);
          }
        }
#pragma unroll
        for (int j = 0; j < V; ++j) s += static_cast<Acc>(cache[k][j]);
      }
    } else {
      for (int c = lane * V; c < count; c += 32 * V) {
        float v[V];
        load_vec<T, V>(xr + c, v);
#pragma unroll
        for (int j = 0; j < V; ++j) s += static_cast<Acc>(v[j]);
      }
    }
    const Acc mean = warp_sum(s) / static_cast<Acc>(count);
    Acc q = 0;
    if constexpr (CH > 0) {
#pragma unroll
      for (int k = 0; k < CH; ++k)
        if ((lane + 32 * k) * V < count)
#pragma unroll
          for (int j = 0; j < V; ++j) {
            const Acc d = static_cast<Acc>(cache[k][j]) - mean;
            q += d * d;
          }
    } else {
      for (int c = lane * V; c < count; c += 32 * V) {
        float v[V];
        load_vec<T, V>(xr + c, v);
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const Acc d = static_cast<Acc>(v[j]) - mean;
          q += d * d;
        }
      }
    }
    const Acc rstd = Acc(1) / sqrt(warp_sum(q) / static_cast<Acc>(count) + static_cast<Acc>(eps));
    T* yr = y + row * count;
    auto store = [&](int c, const float* v, const float* gv, const float* bv) {
      alignas(16) T out[V];
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const Acc g = static_cast<Acc>(gv[j]), b = static_cast<Acc>(bv[j]);
        out[j] = from_float<T>(static_cast<float>((static_cast<Acc>(v[j]) - mean) * rstd * g + b));
      }
      if constexpr (V == 1)
        yr[c] = out[0];
      else
        *reinterpret_cast<uint4*>(yr + c) = *reinterpret_cast<const uint4*>(out);
    };
    if constexpr (CH > 0) {
#pragma unroll
      for (int k = 0; k < CH; ++k) {
        const int c = (lane + 32 * k) * V;
        if (c < count) store(c, cache[k], gc[k], bc[k]);
      }
    } else {
      for (int c = lane * V; c < count; c += 32 * V) {
        float v[V], gv[V], bv[V];
        load_vec<T, V>(xr + c, v);
        load_param<T, V>(sr, rp.scale_cols, c, gv);
        load_param<T, V>(br, rp.bias_cols, c, bv);
        store(c, v, gv, bv);
      }
    }
  }
}

class NormalizationKernel : public Kernel {
 public:
  NormalizationKernel(const NormalizationParams& p, DataType dt) : p_(p), dt_(dt) {}

  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    const Dims& x = in[0].dims;
    int r = x.nb_dims;
    auto xs = contiguous_strides(x);
    auto ss = broadcast_into(in[1].dims, r), bs = broadcast_into(in[2].dims, r);
    const int64_t groups = p_.num_groups;
    std::vector<WorkDim> dims;
    for (int i = 0; i < r; ++i) {
      if (groups > 1 && i == 1) {
        // Channel c = g * cpg + k: per-channel parameters have stride cpg * s along g and s along k;
        // per-group ones (extent G != C) s along g and 0 along k.
        int64_t cpg = x.d[1] / groups;
        auto split = [&](const Dims& pd, int64_t st, int64_t& sg, int64_t& sk) {
          int j = pd.nb_dims - r + 1;
          int64_t e = j >= 0 ? pd.d[j] : 1;
          if (e == 1)
            sg = sk = 0;
          else if (e == groups && e != x.d[1])
            sg = st, sk = 0;
          else
            sg = st * cpg, sk = st;
        };
        WorkDim g, k;
        g.n = groups, k.n = cpg;
        g.s[kX] = xs[1] * cpg, k.s[kX] = xs[1];
        split(in[1].dims, ss[1], g.s[kScale], k.s[kScale]);
        split(in[2].dims, bs[1], g.s[kBias], k.s[kBias]);
        k.reduced = true;
        dims.push_back(g);
        dims.push_back(k);
        continue;
      }
      WorkDim w;
      w.n = x.d[i];
      w.reduced = (p_.axes >> i) & 1u;
      w.s[kX] = xs[i], w.s[kScale] = ss[i], w.s[kBias] = bs[i];
      dims.push_back(w);
    }
    std::vector<WorkDim> live;
    for (auto& w : dims)
      if (w.n != 1) live.push_back(w);
    if (live.size() > static_cast<size_t>(kMaxDims))
      throw Unsupported("CUDA normalization: more than " + std::to_string(kMaxDims) +
                        " dims after splitting the channels into groups");
    // Statistics are indexed densely over the kept dims, in order.
    instances_ = 1;
    for (auto it = live.rbegin(); it != live.rend(); ++it)
      if (!it->reduced) it->s[kStat] = instances_, instances_ *= it->n;
    Dims kd, rd, all;
    int64_t ks[1][kMaxDims] = {}, rs[1][kMaxDims] = {}, as[3][kMaxDims] = {};
    for (auto& w : live) {
      if (w.reduced) {
        rs[0][rd.nb_dims] = w.s[kX];
        rd.d[rd.nb_dims++] = w.n;
      } else {
        ks[0][kd.nb_dims] = w.s[kX];
        kd.d[kd.nb_dims++] = w.n;
      }
      as[0][all.nb_dims] = w.s[kStat], as[1][all.nb_dims] = w.s[kScale], as[2][all.nb_dims] = w.s[kBias];
      all.d[all.nb_dims++] = w.n;
    }
    kept_ = make_offset_calc<1>(kd, ks);
    red_ = make_offset_calc<1>(rd, rs);
    apply_ = make_offset_calc<3>(all, as);
    count_ = rd.volume();
    total_ = x.volume();
    plan_rows(live, kd);
  }

  // The row path applies when the reduced dims are the innermost live dims (x is dense, so each instance is
  // `count_` consecutive elements) and scale and bias are, along them, element-wise in the same order or one
  // value.
  void plan_rows(const std::vector<WorkDim>& live, const Dims& kd) {
    rows_ = false;
    if (count_ > kRowMax || count_ < 1) return;
    size_t first = live.size();
    for (size_t i = 0; i < live.size(); ++i)
      if (live[i].reduced && first == live.size()) first = i;
    for (size_t i = first; i < live.size(); ++i)
      if (!live[i].reduced) return;
    auto along = [&](int which, bool* cols) {
      bool dense = true, zero = true;
      for (size_t i = first; i < live.size(); ++i) {
        dense = dense && live[i].s[which] == live[i].s[kX];
        zero = zero && live[i].s[which] == 0;
      }
      *cols = dense && !zero;
      return dense || zero;
    };
    if (!along(kScale, &rp_.scale_cols) || !along(kBias, &rp_.bias_cols)) return;
    int64_t ps[2][kMaxDims] = {};
    int k = 0;
    shared_params_ = true;
    for (size_t i = 0; i < first; ++i, ++k) {
      ps[0][k] = live[i].s[kScale], ps[1][k] = live[i].s[kBias];
      shared_params_ = shared_params_ && ps[0][k] == 0 && ps[1][k] == 0;
    }
    rp_.kept = make_offset_calc<2>(kd, ps);
    rows_ = true;
  }

  size_t workspace_size() const override {
    if (rows_) return 0;
    size_t acc = dt_ == DataType::kFLOAT ? sizeof(double) : sizeof(float);
    return static_cast<size_t>(instances_) * 2 * acc;
  }

  void run(const KernelArgs& a) override {
    if (total_ == 0) return;
    cudaStream_t s = stream_of(a);
    if (rows_) return run_rows(a, s);
    dispatch_float(dt_, [&](auto tag) {
      using T = decltype(tag);
      using Acc = AccOf<T>;
      Acc* mean = static_cast<Acc*>(a.workspace);
      Acc* rstd = mean + instances_;
      int block = pow2_block(count_, 32, kStatBlock);
      unsigned grid = static_cast<unsigned>(std::min<int64_t>(instances_, 1 << 20));
      norm_stats<T><<<grid, block, 0, s>>>(a.in[0].as<const T>(), kept_, red_, instances_, count_, p_.epsilon, mean, rstd);
      check_launch("normalization_stats");
      launch_strided(total_, apply_,
                     NormApply<T>{a.in[0].as<const T>(), a.in[1].as<const T>(), a.in[2].as<const T>(), mean, rstd,
                                  a.out[0].as<T>()},
                     s, "normalization_apply");
    });
  }

  const char* impl_name() const override { return rows_ ? "cuda_row_norm" : "cuda_normalization"; }

 private:
  void run_rows(const KernelArgs& a, cudaStream_t s) {
    dispatch_float(dt_, [&](auto tag) {
      using T = decltype(tag);
      const T* x = a.in[0].as<const T>();
      const T* scale = a.in[1].as<const T>();
      const T* bias = a.in[2].as<const T>();
      T* y = a.out[0].as<T>();
      constexpr int V = 16 / sizeof(T);
      auto aligned = [](const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; };
      // 16-byte accesses of x and y need every row start 16-byte aligned (scale and bias are read singly).
      const bool vec = count_ % V == 0 && aligned(x) && aligned(y);
      const int64_t rows = instances_;
      const unsigned grid = static_cast<unsigned>(std::min<int64_t>((rows + kRowWarps - 1) / kRowWarps, 1 << 20));
      const int count = static_cast<int>(count_);
      if (!vec) {
        row_norm<T, 1, 0><<<grid, kRowWarps * 32, 0, s>>>(x, scale, bias, y, rows, count, p_.epsilon, rp_);
        return;
      }
      // Rows of up to 4 vectors per lane stay in registers. Parameters that are one aligned row for all rows
      // (no kept-dim stride) load as vectors unconditionally.
      const int per_lane = (count + 32 * V - 1) / (32 * V);
      const bool pv = rp_.scale_cols && rp_.bias_cols && shared_params_ && aligned(scale) && aligned(bias);
      auto launch = [&](auto ch) {
        if (pv)
          row_norm<T, V, decltype(ch)::value, true>
              <<<grid, kRowWarps * 32, 0, s>>>(x, scale, bias, y, rows, count, p_.epsilon, rp_);
        else
          row_norm<T, V, decltype(ch)::value><<<grid, kRowWarps * 32, 0, s>>>(x, scale, bias, y, rows, count, p_.epsilon, rp_);
      };
      switch (per_lane) {
        case 1: launch(std::integral_constant<int, 1>{}); break;
        case 2: launch(std::integral_constant<int, 2>{}); break;
        case 3: launch(std::integral_constant<int, 3>{}); break;
        case 4: launch(std::integral_constant<int, 4>{}); break;
        default: launch(std::integral_constant<int, 0>{}); break;
      }
    });
    check_launch("normalization_rows");
  }


  NormalizationParams p_;
  DataType dt_;
  OffsetCalc<1> kept_, red_;
  OffsetCalc<3> apply_;
  int64_t instances_ = 1, count_ = 1, total_ = 0;
  bool rows_ = false;  // the one-kernel row path (plan_rows)
  bool shared_params_ = false;  // row path: scale and bias are the same for every row (no kept-dim stride)
  RowParams rp_;
};

}  // namespace

std::unique_ptr<Kernel> make_Normalization(const NormalizationLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Normalization on " + dt(in[0].dtype));
  if (l.p.compute_precision != DataType::kFLOAT)
    return unsupported(why, std::string("Normalization with compute_precision ") + dt(l.p.compute_precision) +
                                " (statistics are computed in float64 for float32 tensors, float32 otherwise); leave "
                                "compute_precision at FLOAT");
  if (l.p.num_groups > 1 && in[0].dims.nb_dims >= kMaxDims)
    return unsupported(why, "group Normalization of a rank-8 tensor (the channel split needs a ninth dim)");
  return std::make_unique<NormalizationKernel>(l.p, in[0].dtype);
}

}  // namespace torch2trt::gpu
