#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"

namespace torch2trt::cpu {
namespace {

constexpr int64_t kBlock = 64;  // positions along the inner (contiguous) dimension handled together

// Softmax of x[k * inner + j], k in [0, n), j in [0, jn), for each j; y has the same layout.
// Working on a block of j at once keeps the reads row by row when the axis is not the last one.
void softmax_block(const float* x, float* y, int64_t n, int64_t inner, int64_t jn, bool log_out) {
  float mx[kBlock];
  double sum[kBlock];
  std::fill(mx, mx + jn, -std::numeric_limits<float>::infinity());
  std::fill(sum, sum + jn, 0.0);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < jn; ++j) {
      float v = x[k * inner + j];
      if (v > mx[j] || v != v) mx[j] = v != v || mx[j] != mx[j] ? std::numeric_limits<float>::quiet_NaN() : v;
    }
  for (int64_t j = 0; j < jn; ++j)
    if (mx[j] == -std::numeric_limits<float>::infinity()) mx[j] = 0;  // all -inf: avoids (-inf) - (-inf)
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < jn; ++j) {
      float e = std::exp(x[k * inner + j] - mx[j]);
      sum[j] += e;
      if (!log_out) y[k * inner + j] = e;
    }
  if (log_out) {
    double shift[kBlock];
    for (int64_t j = 0; j < jn; ++j) shift[j] = mx[j] + std::log(sum[j]);
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < jn; ++j) y[k * inner + j] = static_cast<float>(x[k * inner + j] - shift[j]);
  } else {
    float inv[kBlock];
    for (int64_t j = 0; j < jn; ++j) inv[j] = static_cast<float>(1.0 / sum[j]);
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < jn; ++j) y[k * inner + j] *= inv[j];
  }
}

class SoftMaxKernel : public Kernel {
 public:
  SoftMaxKernel(int axis, bool log_out) : axis_(axis), log_(log_out) {}
  void run(const KernelArgs& a) override {
    int64_t outer, n, inner;
    split_at_axis(a.in[0].dims, axis_, &outer, &n, &inner);
    const float* x = a.in[0].as<float>();
    float* y = a.out[0].as<float>();
    int64_t nblocks = (inner + kBlock - 1) / kBlock;
    bool log_out = log_;
    parallel_for(outer * nblocks, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, n * std::min(inner, kBlock))),
                 [&](int64_t b, int64_t e) {
                   for (int64_t w = b; w < e; ++w) {
                     int64_t o = w / nblocks, j0 = (w % nblocks) * kBlock;
                     int64_t off = o * n * inner + j0;
                     softmax_block(x + off, y + off, n, inner, std::min(kBlock, inner - j0), log_out);
                   }
                 });
  }
  const char* impl_name() const override { return "cpu_softmax"; }

 private:
  int axis_;
  bool log_;
};

}  // namespace

std::unique_ptr<Kernel> make_SoftMax(const SoftMaxLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  if (in[0].dtype != DataType::kFLOAT) {
    *why = std::string("softmax on ") + dtype_name(in[0].dtype) + " is not implemented";
    return nullptr;
  }
  int axis = 0;
  while (!((l.p.axes >> axis) & 1u)) ++axis;  // the shape rule guarantees exactly one bit below the rank
  return std::make_unique<SoftMaxKernel>(axis, l.p.log);
}

}  // namespace torch2trt::cpu
