#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/move_util.h"

namespace torch2trt::cpu {
namespace {

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
    if (has_first_) first_map_ = AxisMap::permutation(in[0].dims, first_);
    if (has_second_) second_map_ = AxisMap::permutation(b, second_);
    scratch_ = has_first_ && has_second_ ? static_cast<size_t>(c.volume()) * dtype_size(out[0].dtype) : 0;
  }
  size_t workspace_size() const override { return scratch_; }
  bool output_aliases_input() const override { return !has_first_ && !has_second_; }
  void run(const KernelArgs& a) override {
    const TensorView &x = a.in[0], &y = a.out[0];
    if (!has_first_ && !has_second_) {
      if (y.data != x.data) std::memcpy(y.data, x.data, static_cast<size_t>(y.numel()) * dtype_size(y.dtype));
      return;
    }
    dispatch_bits(y.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* src = x.as<const T>();
      T* dst = y.as<T>();
      if (has_first_ && has_second_) {
        T* mid = static_cast<T*>(a.workspace);
        run_axis_map(first_map_, src, mid, T{});
        run_axis_map(second_map_, static_cast<const T*>(mid), dst, T{});
      } else {
        run_axis_map(has_first_ ? first_map_ : second_map_, src, dst, T{});
      }
    });
  }
  const char* impl_name() const override { return "cpu_shuffle"; }

 private:
  std::vector<int32_t> first_, second_;
  bool has_first_ = true, has_second_ = true;
  AxisMap first_map_, second_map_;
  size_t scratch_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_Shuffle(const ShuffleLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>& out, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "shuffle");
  if (!why->empty()) return nullptr;
  // Ranks are fixed when building, so the permutations are too.
  auto first = expand_permutation(l, l.p.first_transpose, in[0].dims.nb_dims, "first_transpose");
  auto second = expand_permutation(l, l.p.second_transpose, out[0].dims.nb_dims, "second_transpose");
  return std::make_unique<ShuffleKernel>(std::move(first), std::move(second));
}

}  // namespace torch2trt::cpu
