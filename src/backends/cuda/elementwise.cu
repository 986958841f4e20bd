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

// Float outputs whose innermost (merged) dim is a multiple of V elements and where each operand either runs
// along it (stride 1) or is broadcast over it (stride 0): one thread per V outputs, 16-byte loads of the
// running operands and one load of a broadcast one. EfficientNet's x * gate(N, 1, 1, C) in NHWC ran at a
// sixth of the memory bandwidth one element per thread (measured on an H200).
template <class T, int V>
__global__ void binary_vec(uint32_t nvec, OffsetCalc32<2> calc, bool a_runs, bool b_runs, const T* __restrict__ a,
                           const T* __restrict__ b, T* __restrict__ c, ElementWiseOperation op) {
  for (uint32_t v = blockIdx.x * blockDim.x + threadIdx.x; v < nvec; v += gridDim.x * blockDim.x) {
    int64_t off[2];
    calc.get(v, off);
    alignas(16) T x[V], y[V], r[V];
    if (a_runs) *reinterpret_cast<uint4*>(x) = *reinterpret_cast<const uint4*>(a + off[0]);
    if (b_runs) *reinterpret_cast<uint4*>(y) = *reinterpret_cast<const uint4*>(b + off[1]);
    const float sa = a_runs ? 0.f : to_float(a[off[0]]), sb = b_runs ? 0.f : to_float(b[off[1]]);
#pragma unroll
    for (int j = 0; j < V; ++j)
      r[j] = from_float<T>(pw::binary_float<float>(op, a_runs ? to_float(x[j]) : sa, b_runs ? to_float(y[j]) : sb));
    *reinterpret_cast<uint4*>(c + static_cast<int64_t>(v) * V) = *reinterpret_cast<const uint4*>(r);
  }
}

class ElementWiseKernel : public Kernel {
 public:
  explicit ElementWiseKernel(ElementWiseOperation op) : op_(op) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    int64_t st[2][kMaxDims];
    broadcast_strides(in[0].dims, out[0].dims, st[0]);
    broadcast_strides(in[1].dims, out[0].dims, st[1]);
    calc_ = make_offset_calc<2>(out[0].dims, st);
    vec_ = plan_vec(in[0].dtype, out[0].dtype, out[0].dims.volume());
  }

  // The vector form of calc_: the innermost dim counted in vectors of V elements (strides of running
  // operands scaled by V), when the shapes allow it (alignment of the pointers is checked at run time).
  bool plan_vec(DataType in, DataType out, int64_t n) {
    if (in != out || !is_float_type(in) || calc_.rank < 1) return false;
    const int v = 16 / static_cast<int>(dtype_size(in));
    const int last = calc_.rank - 1;
    if (calc_.dims[last] % v != 0) return false;
    OffsetCalc<2> c = calc_;
    for (int k = 0; k < 2; ++k) {
      const int64_t inner = c.strides[k][last];
      if (inner != 0 && inner != 1) return false;
      runs_[k] = inner == 1;
      for (int d = 0; d < last; ++d)
        if (runs_[k] && c.strides[k][d] % v != 0) return false;  // every vector must start 16-byte aligned
      c.strides[k][last] = inner * v;
    }
    c.dims[last] /= v;
    return narrow_offset_calc(c, n / v, &vcalc_);
  }

  void run(const KernelArgs& a) override {
    const TensorView &A = a.in[0], &B = a.in[1], &C = a.out[0];
    auto aligned = [](const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; };
    if (vec_ && aligned(C.data) && (!runs_[0] || aligned(A.data)) && (!runs_[1] || aligned(B.data)) && C.numel() > 0) {
      dispatch_float(A.dtype, [&](auto tag) {
        using T = decltype(tag);
        constexpr int V = 16 / sizeof(T);
        const int64_t nvec = C.numel() / V;
        binary_vec<T, V><<<grid_1d(nvec), kBlock, 0, stream_of(a)>>>(static_cast<uint32_t>(nvec), vcalc_, runs_[0],
                                                                       runs_[1], A.as<const T>(), B.as<const T>(),
                                                                       C.as<T>(), op_);
      });
      check_launch("elementwise_vec");
      return;
    }
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
  bool vec_ = false;
  bool runs_[2] = {false, false};  // per operand: runs along the innermost dim (else broadcast over it)
  OffsetCalc32<2> vcalc_;
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
