#include "backends/common/pointwise_math.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// y[i] = op(x[i]); float storage types compute in float, integers in their own type. O is T, or
// uint8_t for the ops with a bool output (ISINF, ISNAN, NOT).
template <class T, class O>
struct UnaryOp {
  const T* x;
  O* y;
  UnaryOperation op;
  __device__ __forceinline__ void operator()(int64_t i) const {
    if constexpr (is_float_storage_v<T>) {
      float r = pw::unary<float>(op, to_float(x[i]));
      if constexpr (std::is_same_v<O, uint8_t>)
        y[i] = r != 0.f;
      else
        y[i] = from_float<O>(r);
    } else {
      // bool arrives as uint8_t and only meets NOT: int32 gives the same answer without instantiating
      // signed-only arithmetic for an unsigned type.
      using C = std::conditional_t<std::is_same_v<T, uint8_t>, int32_t, T>;
      y[i] = static_cast<O>(pw::unary<C>(op, x[i]));
    }
  }
};

class UnaryKernel : public Kernel {
 public:
  explicit UnaryKernel(UnaryOperation op) : op_(op) {}
  void run(const KernelArgs& a) override {
    const TensorView &X = a.in[0], &Y = a.out[0];
    dispatch_any(X.dtype, [&](auto tag) {
      using T = decltype(tag);
      if (Y.dtype == DataType::kBOOL)
        launch_1d(Y.numel(), UnaryOp<T, uint8_t>{X.as<const T>(), Y.as<uint8_t>(), op_}, stream_of(a), "unary");
      else
        launch_1d(Y.numel(), UnaryOp<T, T>{X.as<const T>(), Y.as<T>(), op_}, stream_of(a), "unary");
    });
  }
  const char* impl_name() const override { return "cuda_unary"; }

 private:
  UnaryOperation op_;
};

}  // namespace

std::unique_ptr<Kernel> make_Unary(const UnaryLayer& l, const std::vector<TensorDesc>& in,
                                   const std::vector<TensorDesc>&, std::string* why) {
  switch (in[0].dtype) {
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kINT8:
    case DataType::kBOOL: return std::make_unique<UnaryKernel>(l.p.op);
    default: return unsupported(why, std::string("Unary ") + unary_op_name(l.p.op) + " on " + dt(in[0].dtype));
  }
}

}  // namespace torch2trt::gpu
