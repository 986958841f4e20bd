// CPU normalization. The input is described as a list of "working dims" (the channel dim split into
// groups x channels-per-group when num_groups > 1, extents of 1 dropped), each with its strides into
// x, the per-instance statistics, scale and bias. Pass 1 computes mean and 1/std per instance in double
// (two passes over the data, so float32 results match a float64 reference to ~1e-7); pass 2 applies them.
#include <array>
#include <cmath>

#include "backends/cpu/cpu_kernels.h"

namespace torch2trt::cpu {
namespace {

enum Stride { kX = 0, kStat = 1, kScale = 2, kBias = 3, kNumStrides = 4 };

struct WorkDim {
  int64_t n = 1;
  bool reduced = false;
  std::array<int64_t, kNumStrides> s{};
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

// Merges neighbours d, d+1 when every stride listed in `which` of d equals that of d+1 times its extent.
std::vector<WorkDim> coalesce(const std::vector<WorkDim>& v, const std::vector<int>& which) {
  std::vector<WorkDim> out;
  for (const WorkDim& w : v) {
    if (!out.empty()) {
      WorkDim& prev = out.back();
      bool ok = prev.reduced == w.reduced;
      for (int k : which) ok = ok && prev.s[k] == w.s[k] * w.n;
      if (ok) {
        prev.n *= w.n;
        prev.s = w.s;
        continue;
      }
    }
    out.push_back(w);
  }
  return out;
}

class NormalizationKernel : public Kernel {
 public:
  explicit NormalizationKernel(const NormalizationParams& p) : p_(p) {}

  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    const Dims& x = in[0].dims;
    int r = x.nb_dims;
    total_ = x.volume();
    auto xs = contiguous_strides(x);
    auto ss = broadcast_into(in[1].dims, r), bs = broadcast_into(in[2].dims, r);
    int64_t groups = p_.num_groups;
    std::vector<WorkDim> dims;
    for (int i = 0; i < r; ++i) {
      bool red = (p_.axes >> i) & 1u;
      if (groups > 1 && i == 1) {
        // Split channels c = g * cpg + k; per-channel parameters have stride cpg * s along g, s along k,
        // per-group ones (extent G != C) s along g and 0 along k.
        int64_t cpg = x.d[1] / groups;
        auto split = [&](const Dims& pd, int64_t st, int64_t& sg, int64_t& sk) {
          int j = pd.nb_dims - r + 1;
          int64_t e = j >= 0 ? pd.d[j] : 1;
          if (e == 1) {
            sg = sk = 0;
          } else if (e == groups && e != x.d[1]) {
            sg = st, sk = 0;
          } else {
            sg = st * cpg, sk = st;
          }
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
      w.reduced = red;
      w.s = {xs[i], 0, ss[i], bs[i]};
      dims.push_back(w);
    }
    dims_.clear();
    for (auto& w : dims)
      if (w.n != 1) dims_.push_back(w);
    // Statistics are indexed densely over the kept dims.
    instances_ = 1;
    for (auto it = dims_.rbegin(); it != dims_.rend(); ++it) {
      if (it->reduced) continue;
      it->s[kStat] = instances_;
      instances_ *= it->n;
    }
    kept_.clear(), red_.clear();
    count_ = 1;
    for (auto& w : dims_) {
      (w.reduced ? red_ : kept_).push_back(w);
      if (w.reduced) count_ *= w.n;
    }
    red_ = coalesce(red_, {kX});
    dims_ = coalesce(dims_, {kX, kStat, kScale, kBias});
    if (dims_.empty()) dims_.push_back(WorkDim{});
    if (red_.empty()) red_.push_back(WorkDim{});
  }

  size_t workspace_size() const override { return static_cast<size_t>(instances_) * 2 * sizeof(double); }

  void run(const KernelArgs& a) override {
    if (total_ == 0) return;
    const float* x = a.in[0].as<float>();
    const float* scale = a.in[1].as<float>();
    const float* bias = a.in[2].as<float>();
    float* y = a.out[0].as<float>();
    double* mean = static_cast<double*>(a.workspace);
    double* rstd = mean + instances_;
    statistics(x, mean, rstd);
    apply(x, scale, bias, mean, rstd, y);
  }

  const char* impl_name() const override { return "cpu_normalization"; }

 private:
  // Calls f(pointer to the innermost run, its length, its stride) for every reduced run of instance base.
  template <class F>
  void for_each_run(const float* base, F&& f) const {
    const WorkDim& last = red_.back();
    int nr = static_cast<int>(red_.size());
    std::vector<int64_t> idx(nr, 0);
    while (true) {
      int64_t off = 0;
      for (int d = 0; d + 1 < nr; ++d) off += idx[d] * red_[d].s[kX];
      f(base + off, last.n, last.s[kX]);
      int d = nr - 2;
      while (d >= 0 && ++idx[d] == red_[d].n) idx[d--] = 0;
      if (d < 0) return;
    }
  }

  void statistics(const float* x, double* mean, double* rstd) const {
    double inv_n = 1.0 / static_cast<double>(count_);
    double eps = p_.epsilon;
    parallel_for(instances_, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(count_, 1)), [&](int64_t b, int64_t e) {
      for (int64_t inst = b; inst < e; ++inst) {
        int64_t rem = inst, off = 0;
        for (int d = static_cast<int>(kept_.size()) - 1; d >= 0; --d) {
          off += (rem % kept_[d].n) * kept_[d].s[kX];
          rem /= kept_[d].n;
        }
        const float* base = x + off;
        double sum = 0;
        for_each_run(base, [&](const float* p, int64_t n, int64_t st) {
          for (int64_t i = 0; i < n; ++i) sum += p[i * st];
        });
        double m = sum * inv_n, sq = 0;
        for_each_run(base, [&](const float* p, int64_t n, int64_t st) {
          for (int64_t i = 0; i < n; ++i) {
            double dv = p[i * st] - m;
            sq += dv * dv;
          }
        });
        mean[inst] = m;
        rstd[inst] = 1.0 / std::sqrt(sq * inv_n + eps);
      }
    });
  }

  void apply(const float* x, const float* scale, const float* bias, const double* mean, const double* rstd,
             float* y) const {
    const WorkDim& last = dims_.back();
    int nd = static_cast<int>(dims_.size());
    int64_t rows = total_ / last.n;
    parallel_for(rows, std::max<int64_t>(1, (1 << 14) / last.n), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        std::array<int64_t, kNumStrides> off{};
        int64_t rem = row;
        for (int d = nd - 2; d >= 0; --d) {
          int64_t i = rem % dims_[d].n;
          rem /= dims_[d].n;
          for (int k = 0; k < kNumStrides; ++k) off[k] += i * dims_[d].s[k];
        }
        const float* xr = x + off[kX];
        float* yr = y + off[kX];
        const double* mr = mean + off[kStat];
        const double* rr = rstd + off[kStat];
        const float* sr = scale + off[kScale];
        const float* br = bias + off[kBias];
        for (int64_t i = 0; i < last.n; ++i) {
          int64_t st = i * last.s[kStat];
          double v = (static_cast<double>(xr[i * last.s[kX]]) - mr[st]) * rr[st];
          yr[i * last.s[kX]] = static_cast<float>(v * sr[i * last.s[kScale]] + br[i * last.s[kBias]]);
        }
      }
    });
  }

  NormalizationParams p_;
  std::vector<WorkDim> dims_, kept_, red_;
  int64_t total_ = 0, instances_ = 1, count_ = 1;
};

}  // namespace

std::unique_ptr<Kernel> make_Normalization(const NormalizationLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  if (in[0].dtype != DataType::kFLOAT) {
    *why = std::string("normalization on ") + dtype_name(in[0].dtype) + " is not implemented";
    return nullptr;
  }
  if (l.p.compute_precision != DataType::kFLOAT) {
    *why = std::string("compute_precision ") + dtype_name(l.p.compute_precision) +
           " is not implemented on the CPU (it computes the statistics in float64 and the output in float32); "
           "leave compute_precision at FLOAT";
    return nullptr;
  }
  return std::make_unique<NormalizationKernel>(l.p);
}

}  // namespace torch2trt::cpu
