#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/move_util.h"

namespace torch2trt::cpu {
namespace {

class SliceKernel : public Kernel {
 public:
  SliceKernel(std::string name, const Dims& start, const Dims& stride, SampleMode mode)
      : name_(std::move(name)), start_(start), stride_(stride), mode_(mode) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    const Dims &x = in[0].dims, &y = out[0].dims;
    std::string why = slice_bounds_problem(mode_, x, start_, y, stride_);
    if (!why.empty())
      throw RuntimeFailure("with the given input shapes, Slice layer '" + name_ + "': start/shape/stride: " + why);
    std::vector<int64_t> xs = contiguous_strides(x);
    map_.dims = y;
    map_.offset.assign(y.nb_dims, {});
    for (int i = 0; i < y.nb_dims; ++i) {
      auto& o = map_.offset[i];
      o.resize(static_cast<size_t>(y.d[i]));
      for (int64_t k = 0; k < y.d[i]; ++k) {
        // Out-of-bounds reads in STRICT_BOUNDS mode and empty axes in the sampling modes were refused
        // above and by the shape rule; sample_coordinate still maps any stray coordinate to the fill value.
        int64_t c = sample_coordinate(mode_, start_.d[i] + k * stride_.d[i], x.d[i]);
        o[k] = c < 0 ? -1 : c * xs[i];
      }
    }
  }
  void run(const KernelArgs& a) override {
    dispatch_bits(a.out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      T fill{};
      if (a.in.size() > 4 && a.in[4].data) std::memcpy(&fill, a.in[4].data, sizeof(T));
      run_axis_map(map_, a.in[0].as<const T>(), a.out[0].as<T>(), fill);
    });
  }
  const char* impl_name() const override { return "cpu_slice"; }

 private:
  std::string name_;
  Dims start_, stride_;
  SampleMode mode_;
  AxisMap map_;
};

}  // namespace

std::unique_ptr<Kernel> make_Slice(const SliceLayer& l, const std::vector<TensorDesc>& in,
                                   const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "slice");
  if (!why->empty()) return nullptr;
  // An invalid network, not a missing kernel: raised as InvalidArgument while the builder prepares layers.
  l.check_bounds(in[0].dims);
  // Shape inputs come from constants, so start and stride are fixed when building.
  Dims start, shape, stride;
  l.effective(&start, &shape, &stride);
  return std::make_unique<SliceKernel>(l.name(), start, stride, l.p.mode);
}

}  // namespace torch2trt::cpu
