// CUDA Pointwise: one thread per output element runs the whole program in registers, so a fused chain
// reads each input once and writes the output once, in one launch. The math is the shared
// pw::instruction (pointwise_program.h), the same functions the CPU kernel and the single-op kernels use.
#include "backends/common/pointwise_program.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// The program travels as a kernel argument (about 1.2 KB, under the 4 KB limit): a launch needs no
// device memory of its own and a captured CUDA graph holds everything it replays.
struct Program {
  int32_t n_code = 0;
  int32_t result = 0;
  PointwiseInstruction code[kMaxPointwiseInstructions];
};

template <class T, int N>
struct PointwiseOp {
  const T* in[N];
  T* out;
  Program prog;
  __device__ __forceinline__ void operator()(int64_t i, const int64_t* off) const {
    float r[N + kMaxPointwiseInstructions];
#pragma unroll
    for (int k = 0; k < N; ++k) r[k] = to_float(in[k][off[k]]);
    for (int j = 0; j < prog.n_code; ++j) {
      const PointwiseInstruction& ins = prog.code[j];
      r[N + j] = pw::instruction<float>(ins, r[ins.a], r[ins.b]);
    }
    out[i] = from_float<T>(r[prog.result]);
  }
};

class PointwiseKernel : public Kernel {
 public:
  PointwiseKernel(const PointwiseParams& p, int num_inputs) : n_in_(num_inputs) {
    prog_.n_code = static_cast<int32_t>(p.program.size());
    prog_.result = p.result;
    for (size_t i = 0; i < p.program.size(); ++i) prog_.code[i] = p.program[i];
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    out_dims_ = out[0].dims;
    for (int k = 0; k < n_in_; ++k) broadcast_strides(in[k].dims, out_dims_, strides_[k]);
  }
  void run(const KernelArgs& a) override {
    dispatch_float(a.out[0].dtype, [&](auto tag) { launch_for<decltype(tag), 1>(a); });
  }
  const char* impl_name() const override { return "cuda_pointwise"; }

 private:
  // Instantiates the launch for N = 1 .. kMaxPointwiseInputs and runs the one matching the layer.
  template <class T, int N>
  void launch_for(const KernelArgs& a) {
    if constexpr (N <= kMaxPointwiseInputs) {
      if (n_in_ != N) return launch_for<T, N + 1>(a);
      int64_t st[N][kMaxDims];
      PointwiseOp<T, N> op;
      for (int k = 0; k < N; ++k) {
        for (int d = 0; d < kMaxDims; ++d) st[k][d] = strides_[k][d];
        op.in[k] = a.in[k].as<const T>();
      }
      op.out = a.out[0].as<T>();
      op.prog = prog_;
      launch_strided(a.out[0].numel(), make_offset_calc<N>(out_dims_, st), op, stream_of(a), "pointwise");
    }
  }

  int n_in_;
  Program prog_;
  Dims out_dims_;
  int64_t strides_[kMaxPointwiseInputs][kMaxDims] = {};
};

}  // namespace

std::unique_ptr<Kernel> make_Pointwise(const PointwiseLayer& l, const std::vector<TensorDesc>& in,
                                       const std::vector<TensorDesc>& out, std::string* why) {
  if (!is_float_type(out[0].dtype)) return unsupported(why, "Pointwise on " + dt(out[0].dtype));
  for (const TensorDesc& d : in)
    if (d.dtype != out[0].dtype) return unsupported(why, "Pointwise with mixed input dtypes");
  return std::make_unique<PointwiseKernel>(l.p, static_cast<int>(in.size()));
}

}  // namespace torch2trt::gpu
