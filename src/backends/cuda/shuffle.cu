#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

template <class T>
struct GatherCopyOp {
  const T* src;
  T* dst;
  __device__ __forceinline__ void operator()(int64_t i, const int64_t* off) const { dst[i] = src[off[0]]; }
};

// Offsets of a transpose: output axis i is axis perm[i] of a dense tensor of shape `src`.
OffsetCalc<1> transpose_calc(const Dims& src, const std::vector<int32_t>& perm, Dims* out) {
  std::vector<int64_t> xs = contiguous_strides(src);
  int64_t st[1][kMaxDims] = {};
  *out = src;
  for (int i = 0; i < src.nb_dims; ++i) {
    out->d[i] = src.d[perm[i]];
    st[0][i] = xs[perm[i]];
  }
  return make_offset_calc<1>(*out, st);
}

// The reshape moves no data, so a shuffle is at most two transposes; with both, the first goes to scratch.
class ShuffleKernel : public Kernel {
 public:
  ShuffleKernel(std::vector<int32_t> first, std::vector<int32_t> second)
      : first_(std::move(first)), second_(std::move(second)) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    const Dims& c = out[0].dims;
    Dims b = c;  // the reshaped (pre-second-transpose) shape: c[i] = b[second[i]]
    for (int i = 0; i < c.nb_dims; ++i) b.d[second_[i]] = c.d[i];
    // A transpose that only moves unit axes keeps the bytes in order: no data moves.
    has_first_ = !permutation_keeps_order(in[0].dims, first_);
    has_second_ = !permutation_keeps_order(b, second_);
    Dims unused;
    if (has_first_) first_calc_ = transpose_calc(in[0].dims, first_, &unused);
    if (has_second_) second_calc_ = transpose_calc(b, second_, &unused);
    scratch_ = has_first_ && has_second_ ? static_cast<size_t>(c.volume()) * dtype_size(out[0].dtype) : 0;
  }
  size_t workspace_size() const override { return scratch_; }
  bool output_aliases_input() const override { return !has_first_ && !has_second_; }
  void run(const KernelArgs& a) override {
    const TensorView &x = a.in[0], &y = a.out[0];
    size_t bytes = static_cast<size_t>(y.numel()) * dtype_size(y.dtype);
    cudaStream_t s = stream_of(a);
    if (!has_first_ && !has_second_) {
      if (y.data != x.data) T2T_CUDA_CHECK(cudaMemcpyAsync(y.data, x.data, bytes, cudaMemcpyDeviceToDevice, s));
      return;
    }
    dispatch_bytes(dtype_size(y.dtype), [&](auto tag) {
      using T = decltype(tag);
      int64_t n = y.numel();
      if (has_first_ && has_second_) {
        T* mid = static_cast<T*>(a.workspace);
        launch_strided(n, first_calc_, GatherCopyOp<T>{x.as<const T>(), mid}, s, "shuffle");
        launch_strided(n, second_calc_, GatherCopyOp<T>{mid, y.as<T>()}, s, "shuffle");
      } else {
        launch_strided(n, has_first_ ? first_calc_ : second_calc_, GatherCopyOp<T>{x.as<const T>(), y.as<T>()}, s,
                       "shuffle");
      }
    });
  }
  const char* impl_name() const override { return "cuda_shuffle"; }

 private:
  std::vector<int32_t> first_, second_;
  bool has_first_ = true, has_second_ = true;
  OffsetCalc<1> first_calc_, second_calc_;
  size_t scratch_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_Shuffle(const ShuffleLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>& out, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "Shuffle");
  if (!why->empty()) return nullptr;
  // Ranks are fixed when building, so the permutations are too.
  return std::make_unique<ShuffleKernel>(expand_permutation(l, l.p.first_transpose, in[0].dims.nb_dims, "first_transpose"),
                                         expand_permutation(l, l.p.second_transpose, out[0].dims.nb_dims, "second_transpose"));
}

}  // namespace torch2trt::gpu
