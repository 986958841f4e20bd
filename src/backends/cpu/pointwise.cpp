// CPU Pointwise: the program runs over blocks of output elements, one instruction at a time over the
// whole block, so each instruction's dispatch is paid once per block and the block's registers stay
// in the L1 cache. Float16/bfloat16 arrive as float32 (the backend converts around the kernel).
#include <algorithm>

#include "backends/common/pointwise_program.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"

namespace torch2trt::cpu {
namespace {

constexpr int64_t kBlock = 256;

// How an input maps onto the output's linear index.
enum class Access { kDense, kScalar, kBroadcast };

class PointwiseKernel : public Kernel {
 public:
  PointwiseKernel(const PointwiseParams& p, int num_inputs) : p_(p), n_in_(num_inputs) {}

  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    out_dims_ = out[0].dims;
    const std::vector<int64_t> dense = contiguous_strides(out_dims_);
    access_.assign(n_in_, Access::kDense);
    strides_.assign(n_in_, std::vector<int64_t>(kMaxDims, 0));
    for (int k = 0; k < n_in_; ++k) {
      broadcast_strides(in[k].dims, out_dims_, strides_[k].data());
      if (in[k].dims.volume() == 1) {
        access_[k] = Access::kScalar;
        continue;
      }
      // Dense when every extent that matters walks memory exactly as the output does (a lower-rank
      // input of the same extents, or extents of 1, still reads element i for output element i).
      for (int d = 0; d < out_dims_.nb_dims; ++d)
        if (out_dims_.d[d] != 1 && strides_[k][d] != dense[d]) access_[k] = Access::kBroadcast;
    }
  }

  void run(const KernelArgs& a) override {
    const int64_t n = a.out[0].numel();
    const int n_regs = n_in_ + static_cast<int>(p_.program.size());
    float* y = a.out[0].as<float>();
    parallel_for((n + kBlock - 1) / kBlock, 16, [&](int64_t b0, int64_t b1) {
      std::vector<float> regs(static_cast<size_t>(n_regs) * kBlock);
      for (int64_t blk = b0; blk < b1; ++blk) {
        const int64_t s = blk * kBlock, len = std::min(kBlock, n - s);
        for (int k = 0; k < n_in_; ++k) load(a.in[k], k, s, len, &regs[static_cast<size_t>(k) * kBlock]);
        for (size_t i = 0; i < p_.program.size(); ++i) {
          const PointwiseInstruction ins = p_.program[i];
          float* d = &regs[(n_in_ + i) * kBlock];
          const float* ra = &regs[static_cast<size_t>(ins.a) * kBlock];
          const float* rb = &regs[static_cast<size_t>(ins.b) * kBlock];
          for (int64_t j = 0; j < len; ++j) d[j] = pw::instruction<float>(ins, ra[j], rb[j]);
        }
        const float* r = &regs[static_cast<size_t>(p_.result) * kBlock];
        std::copy(r, r + len, y + s);
      }
    });
  }

  const char* impl_name() const override { return "cpu_pointwise"; }

 private:
  void load(const TensorView& v, int k, int64_t s, int64_t len, float* dst) const {
    const float* x = v.as<float>();
    switch (access_[k]) {
      case Access::kDense: std::copy(x + s, x + s + len, dst); return;
      case Access::kScalar: std::fill(dst, dst + len, x[0]); return;
      case Access::kBroadcast:
        for (int64_t j = 0; j < len; ++j) dst[j] = x[broadcast_offset(s + j, out_dims_, strides_[k].data())];
        return;
    }
  }

  PointwiseParams p_;
  int n_in_;
  Dims out_dims_;
  std::vector<Access> access_;
  std::vector<std::vector<int64_t>> strides_;
};

}  // namespace

std::unique_ptr<Kernel> make_Pointwise(const PointwiseLayer& l, const std::vector<TensorDesc>& in,
                                       const std::vector<TensorDesc>&, std::string* why) {
  for (const TensorDesc& d : in)
    if (d.dtype != DataType::kFLOAT) {
      *why = std::string("Pointwise on ") + dtype_name(d.dtype) + " is not implemented";
      return nullptr;
    }
  return std::make_unique<PointwiseKernel>(l.p, static_cast<int>(in.size()));
}

}  // namespace torch2trt::cpu
