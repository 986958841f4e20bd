#include "backends/common/pointwise_math.h"
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_util.h"

namespace torch2trt::cpu {
namespace {

class ElementWiseKernel : public Kernel {
 public:
  explicit ElementWiseKernel(ElementWiseOperation op) : op_(op) {}
  void run(const KernelArgs& a) override {
    const TensorView &A = a.in[0], &B = a.in[1], &C = a.out[0];
    int64_t sa[kMaxDims], sb[kMaxDims];
    broadcast_strides(A.dims, C.dims, sa);
    broadcast_strides(B.dims, C.dims, sb);
    bool same = A.dims == C.dims && B.dims == C.dims;
    auto op = op_;
    dispatch_dtype(A.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* x = A.as<T>();
      const T* y = B.as<T>();
      auto f = [op](T u, T v) -> T {
        if constexpr (std::is_floating_point_v<T>)
          return pw::binary_float<T>(op, u, v);
        else
          return pw::binary_int<T>(op, u, v);
      };
      auto store = [&](auto* out) {
        using O = std::remove_pointer_t<decltype(out)>;
        parallel_for(C.numel(), 1 << 14, [&](int64_t b, int64_t e) {
          if (same) {
            for (int64_t i = b; i < e; ++i) out[i] = static_cast<O>(f(x[i], y[i]));
          } else {
            for (int64_t i = b; i < e; ++i)
              out[i] = static_cast<O>(f(x[broadcast_offset(i, C.dims, sa)], y[broadcast_offset(i, C.dims, sb)]));
          }
        });
      };
      if (C.dtype == DataType::kBOOL)
        store(C.as<uint8_t>());
      else
        store(C.as<T>());
    });
  }
  const char* impl_name() const override { return "cpu_elementwise"; }

 private:
  ElementWiseOperation op_;
};

}  // namespace

std::unique_ptr<Kernel> make_ElementWise(const ElementWiseLayer& l, const std::vector<TensorDesc>& in,
                                         const std::vector<TensorDesc>&, std::string* why) {
  switch (in[0].dtype) {
    case DataType::kFLOAT:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kINT8:
    case DataType::kBOOL: return std::make_unique<ElementWiseKernel>(l.p.op);
    default: *why = std::string("elementwise on ") + dtype_name(in[0].dtype) + " is not implemented"; return nullptr;
  }
}

}  // namespace torch2trt::cpu
