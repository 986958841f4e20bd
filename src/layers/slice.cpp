#include "torch2trt/layers/slice.h"

#include "torch2trt/layers/constant.h"

namespace torch2trt {

const char* sample_mode_name(SampleMode m) {
  switch (m) {
    case SampleMode::kSTRICT_BOUNDS: return "STRICT_BOUNDS";
    case SampleMode::kWRAP: return "WRAP";
    case SampleMode::kCLAMP: return "CLAMP";
    case SampleMode::kFILL: return "FILL";
    case SampleMode::kREFLECT: return "REFLECT";
  }
  return "?";
}

int64_t sample_coordinate(SampleMode mode, int64_t x, int64_t extent) {
  if (x >= 0 && x < extent) return x;
  switch (mode) {
    case SampleMode::kSTRICT_BOUNDS:
    case SampleMode::kFILL: return -1;
    case SampleMode::kWRAP: return ((x % extent) + extent) % extent;
    case SampleMode::kCLAMP: return x < 0 ? 0 : extent - 1;
    case SampleMode::kREFLECT: {
      if (extent == 1) return 0;
      // TensorRT's rule: c = |x| mod (2d - 2); the second half of each period walks back.
      int64_t period = 2 * extent - 2;
      int64_t c = (x < 0 ? -x : x) % period;
      return c >= extent ? period - c : c;
    }
  }
  return -1;
}

void SliceLayer::effective(Dims* start, Dims* shape, Dims* stride) const {
  *start = p.start, *shape = p.shape, *stride = p.stride;
  const char* names[] = {"", "input 1 (start)", "input 2 (shape)", "input 3 (stride)"};
  Dims* targets[] = {nullptr, start, shape, stride};
  for (int i = 1; i <= 3 && i < num_inputs(); ++i) {
    if (!input(i)) continue;
    auto v = read_shape_input(*this, i, names[i]);
    if (v.size() > static_cast<size_t>(kMaxDims))
      fail(names[i], "has " + std::to_string(v.size()) + " values; at most " + std::to_string(kMaxDims));
    *targets[i] = Dims::from(v);
  }
}

std::vector<TensorDesc> SliceLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.empty() || in.size() > 5)
    fail("inputs", in.size() > 5 ? "input 5 (axes) is not supported: give start/shape/stride for every axis"
                                 : "expects 1 to 5 inputs, got 0");
  if (in[0].dims.nb_dims < 0) fail("input", "input 0 is not set");
  if (static_cast<int>(p.mode) < 0 || static_cast<int>(p.mode) >= kNumSampleModes)
    fail("mode", "unknown sample mode " + std::to_string(static_cast<int>(p.mode)));
  if (in[0].dtype == DataType::kFP8) fail("input", "fp8 tensors are not supported");
  const Dims& x = in[0].dims;
  Dims start, shape, stride;
  effective(&start, &shape, &stride);
  int rank = x.nb_dims;
  auto check_rank = [&](const Dims& d, const char* what) {
    if (d.nb_dims != rank)
      fail(what, d.str() + " has " + std::to_string(d.nb_dims) + " values but the input " + x.str() + " has rank " +
                     std::to_string(rank));
  };
  check_rank(start, "start");
  check_rank(shape, "shape");
  check_rank(stride, "stride");
  for (int i = 0; i < rank; ++i)
    if (shape.d[i] < 0) fail("shape", shape.str() + " has a negative extent");
  if (in.size() > 4 && in[4].dims.nb_dims >= 0) {
    if (p.mode != SampleMode::kFILL)
      fail("input 4 (fill value)", std::string("a fill value is only used in FILL mode, the mode is ") +
                                       sample_mode_name(p.mode));
    if (in[4].dtype != in[0].dtype)
      fail("input 4 (fill value)", std::string("dtype ") + dtype_name(in[4].dtype) + " differs from the data's " +
                                       dtype_name(in[0].dtype));
    if (in[4].dims.volume() != 1)
      fail("input 4 (fill value)", "must hold exactly one element, got shape " + in[4].dims.str());
  }
  for (int i = 0; i < rank; ++i) {
    int64_t d = x.d[i], n = shape.d[i];
    if (d < 0 || n == 0) continue;  // unknown extents are checked when the run-time shapes are known
    int64_t first = start.d[i], last;
    constexpr int64_t kLimit = int64_t(1) << 62;  // keeps coordinate arithmetic (negation, modulo) exact
    if (__builtin_mul_overflow(n - 1, stride.d[i], &last) || __builtin_add_overflow(last, first, &last) ||
        last <= -kLimit || last >= kLimit || first <= -kLimit || first >= kLimit)
      fail("start/shape/stride", "axis " + std::to_string(i) + " reads coordinates beyond +-2^62 (start " +
                                     start.str() + ", shape " + shape.str() + ", stride " + stride.str() + ")");
    if (p.mode != SampleMode::kSTRICT_BOUNDS && d == 0 && p.mode != SampleMode::kFILL) {
      fail("mode", std::string(sample_mode_name(p.mode)) + " cannot sample axis " + std::to_string(i) +
                       " of the input " + x.str() + ": it is empty");
    }
  }
  return {TensorDesc{in[0].dtype, shape}};
}

std::string slice_bounds_problem(SampleMode mode, const Dims& input, const Dims& start, const Dims& shape,
                                 const Dims& stride) {
  if (mode != SampleMode::kSTRICT_BOUNDS) return "";
  for (int i = 0; i < input.nb_dims && i < shape.nb_dims; ++i) {
    int64_t d = input.d[i], n = shape.d[i];
    if (d < 0 || n <= 0) continue;
    for (int64_t c : {start.d[i], start.d[i] + (n - 1) * stride.d[i]})  // range checked by infer()
      if (c < 0 || c >= d)
        return "axis " + std::to_string(i) + " reads coordinate " + std::to_string(c) + ", outside the input " +
               input.str() + " (start " + start.str() + ", shape " + shape.str() + ", stride " + stride.str() +
               "); set mode to FILL, CLAMP, WRAP or REFLECT to read past the edges";
  }
  return "";
}

void SliceLayer::check_bounds(const Dims& input) const {
  Dims start, shape, stride;
  effective(&start, &shape, &stride);
  std::string why = slice_bounds_problem(p.mode, input, start, shape, stride);
  if (!why.empty()) fail("start/shape/stride", why);
}

SliceLayer* add_slice(Network& net, Tensor* input, const Dims& start, const Dims& shape, const Dims& stride) {
  auto l = std::make_unique<SliceLayer>();
  l->p.start = start;
  l->p.shape = shape;
  l->p.stride = stride;
  // TensorRT's five input slots, so that set_input(4, fill) works on a fresh layer; unset ones are null.
  return net.add(std::move(l), {input, nullptr, nullptr, nullptr, nullptr}, "add_slice");
}

}  // namespace torch2trt
