// CPU squeeze-excitation gate: channel means, then both fully connected layers, in float64 (float32 tensors);
// with apply_to_input the gate (rounded to float) multiplies x.
#include <algorithm>
#include <vector>

#include "backends/common/pointwise_math.h"
#include "backends/cpu/cpu_kernels.h"

namespace torch2trt::cpu {
namespace {

std::vector<double> as_double(const Weights& w) {
  std::vector<double> r(static_cast<size_t>(w.count));
  for (int64_t i = 0; i < w.count; ++i) r[i] = w.at(i);
  return r;
}

class SqueezeExciteKernel : public Kernel {
 public:
  explicit SqueezeExciteKernel(const SqueezeExciteLayer& l)
      : p_(l.p), w1_(as_double(l.p.w1)), b1_(as_double(l.p.b1)), w2_(as_double(l.p.w2)), b2_(as_double(l.p.b2)) {
    layer_.p.channels_last = l.p.channels_last;
    layer_.p.squeeze_channels = l.p.squeeze_channels;
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    layer_.geometry(in[0].dims, &n_, &c_, &sp_);
  }
  void run(const KernelArgs& a) override {
    const float* x = a.in[0].as<const float>();
    float* y = a.out[0].as<float>();
    const int64_t n_all = n_, c = c_, sp = sp_, s = p_.squeeze_channels;
    const bool cl = p_.channels_last;
    if (n_all == 0 || c == 0) return;
    // 1. Channel means (sums in element order along each channel). Channels-first: in parallel over
    // (image, channel), so a batch-1 image still uses every core.
    std::vector<double> mean(static_cast<size_t>(n_all * c));
    const double inv = sp > 0 ? 1.0 / static_cast<double>(sp) : 0.0;
    if (cl) {
      parallel_for(n_all, 1, [&](int64_t b, int64_t e) {
        for (int64_t n = b; n < e; ++n) {
          double* m = mean.data() + n * c;
          const float* xn = x + n * c * sp;
          for (int64_t i = 0; i < sp; ++i)
            for (int64_t k = 0; k < c; ++k) m[k] += xn[i * c + k];
          for (int64_t k = 0; k < c; ++k) m[k] *= inv;
        }
      });
    } else {
      parallel_for(n_all * c, std::max<int64_t>(1, 16384 / std::max<int64_t>(sp, 1)), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const float* xr = x + r * sp;
          double acc = 0;
          for (int64_t i = 0; i < sp; ++i) acc += xr[i];
          mean[r] = acc * inv;
        }
      });
    }
    // 2. Both layers, per image; the gate rounded to float.
    std::vector<float> gate(static_cast<size_t>(n_all * c));
    parallel_for(n_all, 1, [&](int64_t b, int64_t e) {
      std::vector<double> h(static_cast<size_t>(s));
      for (int64_t n = b; n < e; ++n) {
        const double* m = mean.data() + n * c;
        for (int64_t j = 0; j < s; ++j) {
          double acc = b1_.empty() ? 0.0 : b1_[j];
          for (int64_t k = 0; k < c; ++k) acc += w1_[j * c + k] * m[k];
          h[j] = p_.has_act1 ? pw::activation<double>(p_.act1.type, acc, p_.act1.alpha, p_.act1.beta) : acc;
        }
        for (int64_t k = 0; k < c; ++k) {
          double acc = b2_.empty() ? 0.0 : b2_[k];
          for (int64_t j = 0; j < s; ++j) acc += w2_[k * s + j] * h[j];
          gate[n * c + k] = static_cast<float>(
              p_.has_act2 ? pw::activation<double>(p_.act2.type, acc, p_.act2.alpha, p_.act2.beta) : acc);
        }
      }
    });
    if (!p_.apply_to_input) {
      std::copy(gate.begin(), gate.end(), y);
      return;
    }
    // 3. y = x * gate, in parallel over rows: (image, position) channels-last, (image, channel) channels-first.
    const int64_t inner = cl ? c : sp;
    parallel_for(n_all * (cl ? sp : c), std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const float* xr = x + r * inner;
                     float* yr = y + r * inner;
                     if (cl) {
                       const float* g = gate.data() + r / sp * c;
                       for (int64_t k = 0; k < c; ++k) yr[k] = xr[k] * g[k];
                     } else {
                       const float g = gate[r];
                       for (int64_t i = 0; i < sp; ++i) yr[i] = xr[i] * g;
                     }
                   }
                 });
  }
  const char* impl_name() const override { return "cpu_squeeze_excite"; }

 private:
  SqueezeExciteParams p_;
  SqueezeExciteLayer layer_;  // geometry only
  std::vector<double> w1_, b1_, w2_, b2_;
  int64_t n_ = 0, c_ = 0, sp_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_SqueezeExcite(const SqueezeExciteLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  if (in[0].dtype != DataType::kFLOAT) {
    *why = std::string("squeeze-excitation on ") + dtype_name(in[0].dtype) + " is not implemented on the CPU";
    return nullptr;
  }
  return std::make_unique<SqueezeExciteKernel>(l);
}

}  // namespace torch2trt::cpu
