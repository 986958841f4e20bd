// CUDA normalization (layer, instance, group). Statistics: one block per instance, two passes (mean, then
// the sum of squared deviations) so a large mean costs no precision. Apply: one pointwise pass.
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
  }

  size_t workspace_size() const override {
    size_t acc = dt_ == DataType::kFLOAT ? sizeof(double) : sizeof(float);
    return static_cast<size_t>(instances_) * 2 * acc;
  }

  void run(const KernelArgs& a) override {
    if (total_ == 0) return;
    cudaStream_t s = stream_of(a);
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

  const char* impl_name() const override { return "cuda_normalization"; }

 private:
  NormalizationParams p_;
  DataType dt_;
  OffsetCalc<1> kept_, red_;
  OffsetCalc<3> apply_;
  int64_t instances_ = 1, count_ = 1, total_ = 0;
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
