#include "backends/common/pointwise_math.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"

namespace torch2trt::cpu {
namespace {

class UnaryKernel : public Kernel {
 public:
  explicit UnaryKernel(UnaryOperation op) : op_(op) {}
  void run(const KernelArgs& a) override {
    const TensorView &X = a.in[0], &Y = a.out[0];
    auto op = op_;
    dispatch_dtype(X.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* x = X.as<T>();
      auto store = [&](auto* y) {
        using O = std::remove_pointer_t<decltype(y)>;
        parallel_for(Y.numel(), 1 << 14, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) y[i] = static_cast<O>(pw::unary<T>(op, x[i]));
        });
      };
      if (Y.dtype == DataType::kBOOL)
        store(Y.as<uint8_t>());
      else
        store(Y.as<T>());
    });
  }
  const char* impl_name() const override { return "cpu_unary"; }

 private:
  UnaryOperation op_;
};

}  // namespace

std::unique_ptr<Kernel> make_Unary(const UnaryLayer& l, const std::vector<TensorDesc>& in,
                                   const std::vector<TensorDesc>&, std::string* why) {
  switch (in[0].dtype) {
    case DataType::kFLOAT:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kINT8:
    case DataType::kBOOL: return std::make_unique<UnaryKernel>(l.p.op);
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kUINT8:
    case DataType::kFP8: break;
  }
  *why = std::string("unary ") + unary_op_name(l.p.op) + " on " + dtype_name(in[0].dtype) + " is not implemented";
  return nullptr;
}

}  // namespace torch2trt::cpu
