#include "backends/common/pointwise_math.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// c[i] = a[off0] op b[off1]; O is T, or uint8_t (bool) for comparisons.
template <class T, class O>
struct BinaryOp {
  const T* a;
  const T* b;
  O* c;
  ElementWiseOperation op;
  __device__ __forceinline__ void operator()(int64_t i, const int64_t* off) const {
    if constexpr (is_float_storage_v<T>) {
      float r = pw::binary_float<float>(op, to_float(a[off[0]]), to_float(b[off[1]]));
      c[i] = from_float<O>(r);
    } else {
      // bool arrives as uint8_t and only meets EQUAL/AND/OR/XOR: int32 gives the same answers without
      // instantiating signed-only arithmetic for an unsigned type.
      using C = std::conditional_t<std::is_same_v<T, uint8_t>, int32_t, T>;
      c[i] = static_cast<O>(pw::binary_int<C>(op, a[off[0]], b[off[1]]));
    }
  }
};

class ElementWiseKernel : public Kernel {
 public:
  explicit ElementWiseKernel(ElementWiseOperation op) : op_(op) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    int64_t st[2][kMaxDims];
    broadcast_strides(in[0].dims, out[0].dims, st[0]);
    broadcast_strides(in[1].dims, out[0].dims, st[1]);
    calc_ = make_offset_calc<2>(out[0].dims, st);
  }
  void run(const KernelArgs& a) override {
    const TensorView &A = a.in[0], &B = a.in[1], &C = a.out[0];
    dispatch_any(A.dtype, [&](auto tag) {
      using T = decltype(tag);
      if (C.dtype == DataType::kBOOL)
        launch_strided(C.numel(), calc_, BinaryOp<T, uint8_t>{A.as<const T>(), B.as<const T>(), C.as<uint8_t>(), op_},
                       stream_of(a), "elementwise");
      else
        launch_strided(C.numel(), calc_, BinaryOp<T, T>{A.as<const T>(), B.as<const T>(), C.as<T>(), op_},
                       stream_of(a), "elementwise");
    });
  }
  const char* impl_name() const override { return "cuda_elementwise"; }

 private:
  ElementWiseOperation op_;
  OffsetCalc<2> calc_;
};

}  // namespace

std::unique_ptr<Kernel> make_ElementWise(const ElementWiseLayer& l, const std::vector<TensorDesc>& in,
                                         const std::vector<TensorDesc>&, std::string* why) {
  switch (in[0].dtype) {
    case DataType::kFLOAT:
    case DataType::kHALF:
    case DataType::kBF16:
    case DataType::kINT32:
    case DataType::kINT64:
    case DataType::kINT8:
    case DataType::kBOOL: return std::make_unique<ElementWiseKernel>(l.p.op);
    default: return unsupported(why, "ElementWise on " + dt(in[0].dtype));
  }
}

}  // namespace torch2trt::gpu
