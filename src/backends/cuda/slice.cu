#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

class SliceKernel : public Kernel {
 public:
  SliceKernel(std::string name, const Dims& start, const Dims& stride, SampleMode mode)
      : name_(std::move(name)), start_(start), stride_(stride), mode_(mode) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    const Dims &x = in[0].dims, &y = out[0].dims;
    // Run-time extents: STRICT_BOUNDS is checked here, as on the CPU.
    std::string why = slice_bounds_problem(mode_, x, start_, y, stride_);
    if (!why.empty())
      throw RuntimeFailure("with the given input shapes, Slice layer '" + name_ + "': start/shape/stride: " + why);
    std::vector<int64_t> xs = contiguous_strides(x);
    cpu::AxisMap map;
    map.dims = y;
    map.offset.assign(y.nb_dims, {});
    for (int i = 0; i < y.nb_dims; ++i) {
      auto& o = map.offset[i];
      o.resize(static_cast<size_t>(y.d[i]));
      for (int64_t k = 0; k < y.d[i]; ++k) {
        // STRICT_BOUNDS reads were bounds-checked by the shape rule; any stray coordinate reads the fill.
        int64_t c = sample_coordinate(mode_, start_.d[i] + k * stride_.d[i], x.d[i]);
        o[k] = c < 0 ? -1 : c * xs[i];
      }
    }
    map_.upload(map);
  }
  void run(const KernelArgs& a) override {
    const void* fill = a.in.size() > 4 ? a.in[4].data : nullptr;
    map_.run(dtype_size(a.out[0].dtype), a.in[0].data, a.out[0].data, a.out[0].numel(), fill, 0, stream_of(a),
             "slice");
  }
  const char* impl_name() const override { return "cuda_slice"; }

 private:
  std::string name_;
  Dims start_, stride_;
  SampleMode mode_;
  DeviceAxisMap map_;
};

}  // namespace

std::unique_ptr<Kernel> make_Slice(const SliceLayer& l, const std::vector<TensorDesc>& in,
                                   const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "Slice");
  if (!why->empty()) return nullptr;
  // Shape inputs come from constants, so start and stride are fixed when building.
  Dims start, shape, stride;
  l.effective(&start, &shape, &stride);
  l.check_bounds(in[0].dims);
  return std::make_unique<SliceKernel>(l.name(), start, stride, l.p.mode);
}

}  // namespace torch2trt::gpu
