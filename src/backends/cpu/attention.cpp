#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"

namespace torch2trt::cpu {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Eight partial sums: the compiler vectorizes them without reassociating one long float chain.
float dot(const float* a, const float* b, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += a[i + k] * b[i + k];
  for (; i < n; ++i) s[0] += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// One query row. The softmax follows the SoftMax kernel step by step (NaN-propagating max, a max of -inf
// taken as 0, sum in double, weights e * (1 / sum)), so that a fused network gives what the unfused one
// gave, including NaN for a row whose scores are all -inf.
class AttentionKernel : public Kernel {
 public:
  explicit AttentionKernel(const AttentionLayer& l) {
    layer_.p = l.p;
    layer_.set_name(l.name());
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    g_ = layer_.geometry(in);
  }
  void run(const KernelArgs& a) override {
    const AttentionGeometry g = g_;
    const float* q = a.in[0].as<const float>();
    // Packed, k and v are the other two thirds of input 0 (inputs 1 and 2 are unset).
    const float* k = g.packed_qkv ? q + g.k_offset : a.in[1].as<const float>();
    const float* v = g.packed_qkv ? q + g.v_offset : a.in[2].as<const float>();
    const void* mask = g.has_mask ? a.in[3].data : nullptr;
    float* out = a.out[0].as<float>();
    const AttentionParams p = layer_.p;
    const int64_t rows = g.num_batches * g.sq;
    if (rows == 0 || g.dv == 0) return;
    const int64_t work = std::max<int64_t>(1, g.sk * (g.d + g.dv));
    parallel_for(rows, std::max<int64_t>(1, (1 << 15) / work), [&](int64_t begin, int64_t end) {
      std::vector<float> e(static_cast<size_t>(std::max<int64_t>(g.sk, 1)));
      std::vector<float> acc(static_cast<size_t>(g.dv));
      for (int64_t r = begin; r < end; ++r) {
        const int64_t b = r / g.sq, i = r % g.sq;
        const float* qr = q + g.batch_offset(b, g.q) + i * g.q.row;
        const float* kb = k + g.batch_offset(b, g.k);
        const float* vb = v + g.batch_offset(b, g.v);
        float* o = out + g.batch_offset(b, g.out) + i * g.out.row;
        const int64_t moff = g.has_mask ? g.batch_offset(b, g.mask) + i * g.mask.row : 0;
        // Keys past the causal limit score -inf: their weight is exactly 0, so they are skipped.
        const int64_t n = p.causal ? std::min(g.sk, i + 1) : g.sk;
        float mx = kNegInf;
        for (int64_t j = 0; j < n; ++j) {
          float s = dot(qr, kb + j * g.k.row, g.d) * p.scale;
          if (mask) {
            int64_t mi = moff + j * g.mask.col;
            if (g.mask_is_bool)
              s = static_cast<const uint8_t*>(mask)[mi] ? s : kNegInf;
            else
              s += static_cast<const float*>(mask)[mi];
          }
          e[j] = s;
          if (s > mx || s != s) mx = s != s || mx != mx ? std::numeric_limits<float>::quiet_NaN() : s;
        }
        // No keys: the unfused product with an empty softmax is a sum over nothing.
        if (g.sk == 0 || (p.zero_empty_rows && mx == kNegInf)) {
          std::fill(o, o + g.dv, 0.f);
          continue;
        }
        if (mx == kNegInf) mx = 0;
        double sum = 0;
        for (int64_t j = 0; j < n; ++j) {
          e[j] = std::exp(e[j] - mx);
          sum += e[j];
        }
        const float inv = static_cast<float>(1.0 / sum);
        std::fill(acc.begin(), acc.end(), 0.f);
        for (int64_t j = 0; j < n; ++j) {
          const float w = e[j] * inv;
          const float* vr = vb + j * g.v.row;
          for (int64_t c = 0; c < g.dv; ++c) acc[c] += w * vr[c];
        }
        std::memcpy(o, acc.data(), static_cast<size_t>(g.dv) * sizeof(float));
      }
    });
  }
  const char* impl_name() const override { return "cpu_attention"; }

 private:
  AttentionLayer layer_;  // a detached copy: the geometry rule without holding on to the network
  AttentionGeometry g_;
};

}  // namespace

std::unique_ptr<Kernel> make_Attention(const AttentionLayer& l, const std::vector<TensorDesc>& in,
                                       const std::vector<TensorDesc>&, std::string* why) {
  if (in[0].dtype != DataType::kFLOAT) {
    *why = std::string("attention on ") + dtype_name(in[0].dtype) + " is not implemented";
    return nullptr;
  }
  return std::make_unique<AttentionKernel>(l);
}

}  // namespace torch2trt::cpu
