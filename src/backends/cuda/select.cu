#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

template <class T>
struct SelectOp {
  const uint8_t* cond;
  const T* a;
  const T* b;
  T* y;
  __device__ __forceinline__ void operator()(int64_t i, const int64_t* off) const {
    y[i] = cond[off[0]] ? a[off[1]] : b[off[2]];
  }
};

class SelectKernel : public Kernel {
 public:
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    int64_t st[3][kMaxDims];
    for (int k = 0; k < 3; ++k) broadcast_strides(in[k].dims, out[0].dims, st[k]);
    calc_ = make_offset_calc<3>(out[0].dims, st);
  }
  void run(const KernelArgs& a) override {
    dispatch_bytes(dtype_size(a.out[0].dtype), [&](auto tag) {
      using T = decltype(tag);
      launch_strided(a.out[0].numel(), calc_,
                     SelectOp<T>{a.in[0].as<const uint8_t>(), a.in[1].as<const T>(), a.in[2].as<const T>(), a.out[0].as<T>()},
                     stream_of(a), "select");
    });
  }
  const char* impl_name() const override { return "cuda_select"; }

 private:
  OffsetCalc<3> calc_;
};

}  // namespace

std::unique_ptr<Kernel> make_Select(const SelectLayer&, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[1].dtype, "Select");
  if (!why->empty()) return nullptr;
  return std::make_unique<SelectKernel>();
}

}  // namespace torch2trt::gpu
