#include <gtest/gtest.h>

#include <cmath>

#include "harness.h"

namespace t2t_test {
namespace {

struct Spec {
  ScaleMode mode;
  int axis;  // -1: add_scale (axis 1)
  bool shift, scale, power;
};

// Weights values (float32 or float16), deterministic, in ranges that keep the power's base positive.
Weights make_weights(int64_t n, DataType t, double lo, double hi) {
  auto v = random_values(n, t, lo, hi);
  if (t == DataType::kHALF) {
    std::vector<uint16_t> h(n);
    for (int64_t i = 0; i < n; ++i) h[i] = float_to_half(static_cast<float>(v[i]));
    return Weights(DataType::kHALF, h.data(), n);
  }
  std::vector<float> f(v.begin(), v.end());
  return Weights(DataType::kFLOAT, f.data(), n);
}

void run(const Spec& s, DataType dt, Dims dims, DataType wt = DataType::kFLOAT) {
  int axis = s.axis < 0 ? 1 : s.axis;
  int64_t count = 1;
  if (s.mode == ScaleMode::kCHANNEL) count = dims.d[axis];
  if (s.mode == ScaleMode::kELEMENTWISE)
    for (int i = axis; i < dims.nb_dims; ++i) count *= dims.d[i];
  Weights shift = s.shift ? make_weights(count, wt, 0, 1) : Weights();
  Weights scale = s.scale ? make_weights(count, wt, 0.5, 1.5) : Weights();
  Weights power = s.power ? make_weights(count, wt, 0.5, 2) : Weights();
  OpCase c;
  c.variant = std::string(scale_mode_name(s.mode)) + "_axis" + std::to_string(s.axis) + (s.shift ? "_shift" : "") +
              (s.scale ? "_scale" : "") + (s.power ? "_power" : "") + "_w" + dtype_name(wt);
  c.inputs = {{dt, dims}};
  c.lo = 0.5, c.hi = 2;
  c.build = [=](Network& n, const std::vector<Tensor*>& in) {
    ScaleLayer* l = s.axis < 0 ? add_scale(n, in[0], s.mode, shift, scale, power)
                               : add_scale_nd(n, in[0], s.mode, shift, scale, power, s.axis);
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [=](const std::vector<HostTensor>& in) {
    HostTensor y = in[0];
    const Dims& d = in[0].dims;
    int64_t inner = 1, tail = 1;
    for (int i = axis + 1; i < d.nb_dims; ++i) inner *= d.d[i];
    tail = inner * d.d[axis];
    for (int64_t i = 0; i < y.numel(); ++i) {
      int64_t w = s.mode == ScaleMode::kUNIFORM ? 0 : s.mode == ScaleMode::kCHANNEL ? (i / inner) % d.d[axis] : i % tail;
      double v = in[0].v[i] * (scale.empty() ? 1.0 : scale.at(w)) + (shift.empty() ? 0.0 : shift.at(w));
      y.v[i] = power.empty() ? v : std::pow(v, power.at(w));
    }
    return std::vector<HostTensor>{y};
  };
  check_op(LayerKind::kScale, c);
}

TEST(Scale, EveryModeAndWeightsCombination) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16})
    for (ScaleMode mode : {ScaleMode::kUNIFORM, ScaleMode::kCHANNEL, ScaleMode::kELEMENTWISE})
      for (int bits = 0; bits < 8; ++bits) run({mode, -1, bool(bits & 1), bool(bits & 2), bool(bits & 4)}, dt, Dims{2, 3, 4, 5});
}

TEST(Scale, ChannelAxesAndWeightTypes) {
  for (ScaleMode mode : {ScaleMode::kCHANNEL, ScaleMode::kELEMENTWISE})
    for (int axis : {0, 2, 3}) {
      run({mode, axis, true, true, true}, DataType::kFLOAT, Dims{2, 3, 4, 5});
      run({mode, axis, true, true, false}, DataType::kHALF, Dims{2, 3, 4, 5}, DataType::kHALF);
    }
  run({ScaleMode::kCHANNEL, 1, true, true, true}, DataType::kFLOAT, Dims{2, 3}, DataType::kHALF);
  run({ScaleMode::kUNIFORM, 0, true, true, true}, DataType::kFLOAT, Dims{1000});
  run({ScaleMode::kCHANNEL, 1, true, true, false}, DataType::kFLOAT, Dims{8, 64, 56, 56});
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(Scale, ErrorsNameTheArgument) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 3, 4});
  auto* i = n.add_input("i", DataType::kINT32, Dims{2, 3, 4});
  Weights three = Weights::f32({1, 2, 3}), four = Weights::f32({1, 2, 3, 4});
  std::string m = error_of([&] { add_scale(n, x, ScaleMode::kCHANNEL, four, Weights(), Weights()); });
  EXPECT_NE(m.find("add_scale"), std::string::npos) << m;
  EXPECT_NE(m.find("shift: CHANNEL mode"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 3, 4)"), std::string::npos) << m;
  EXPECT_NE(m.find("got 4 values"), std::string::npos) << m;
  m = error_of([&] { add_scale(n, x, ScaleMode::kUNIFORM, Weights(), three, Weights()); });
  EXPECT_NE(m.find("scale: UNIFORM mode takes 1 value"), std::string::npos) << m;
  m = error_of([&] { add_scale_nd(n, x, ScaleMode::kELEMENTWISE, Weights(), Weights(), three, 1); });
  EXPECT_NE(m.find("add_scale_nd"), std::string::npos) << m;
  EXPECT_NE(m.find("power: ELEMENTWISE mode"), std::string::npos) << m;
  EXPECT_NE(m.find("which is 12"), std::string::npos) << m;
  m = error_of([&] { add_scale_nd(n, x, ScaleMode::kCHANNEL, three, Weights(), Weights(), 3); });
  EXPECT_NE(m.find("channel_axis: 3 is not a dimension"), std::string::npos) << m;
  m = error_of([&] { add_scale(n, i, ScaleMode::kUNIFORM, Weights(), Weights(), Weights()); });
  EXPECT_NE(m.find("input: scale needs a float tensor, got int32"), std::string::npos) << m;
  int32_t ints[3] = {1, 2, 3};
  m = error_of([&] { add_scale(n, x, ScaleMode::kCHANNEL, Weights(DataType::kINT32, ints, 3), Weights(), Weights()); });
  EXPECT_NE(m.find("shift: weights must be float32, float16 or bfloat16, got int32"), std::string::npos) << m;
  m = error_of([&] { add_scale(n, x, static_cast<ScaleMode>(5), Weights(), Weights(), Weights()); });
  EXPECT_NE(m.find("mode: unknown scale mode 5"), std::string::npos) << m;
  EXPECT_EQ(n.num_layers(), 0);
  // A run-time channel extent defers the count check to run time.
  auto* dyn = n.add_input("dyn", DataType::kFLOAT, Dims{2, -1});
  EXPECT_NE(add_scale(n, dyn, ScaleMode::kCHANNEL, three, Weights(), Weights()), nullptr);
}

}  // namespace
}  // namespace t2t_test
