#include <gtest/gtest.h>

#include "harness.h"
#include "move_ref.h"

namespace t2t_test {
namespace {

// Weights of dtype t holding `values`, stored as t stores them.
Weights weights_of(DataType t, const std::vector<double>& values) {
  std::vector<uint8_t> bytes(values.size() * dtype_size(t));
  for (size_t i = 0; i < values.size(); ++i) {
    double v = values[i];
    uint8_t* p = bytes.data() + i * dtype_size(t);
    switch (t) {
      case DataType::kFLOAT: { float f = static_cast<float>(v); std::memcpy(p, &f, 4); break; }
      case DataType::kHALF: { uint16_t h = float_to_half(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
      case DataType::kBF16: { uint16_t h = float_to_bf16(static_cast<float>(v)); std::memcpy(p, &h, 2); break; }
      case DataType::kINT32: { int32_t k = static_cast<int32_t>(v); std::memcpy(p, &k, 4); break; }
      case DataType::kINT64: { int64_t k = static_cast<int64_t>(v); std::memcpy(p, &k, 8); break; }
      case DataType::kINT8: *p = static_cast<uint8_t>(static_cast<int8_t>(v)); break;
      case DataType::kUINT8: *p = static_cast<uint8_t>(v); break;
      case DataType::kBOOL: *p = v != 0; break;
      case DataType::kFP8: break;
    }
  }
  return Weights(t, bytes.data(), static_cast<int64_t>(values.size()));
}

void run(const std::string& name, DataType dt, const Dims& shape) {
  OpCase c = movement_case(name, dt);
  auto r = value_range(dt);
  std::vector<double> values = random_values(shape.volume(), dt, r.first, r.second);
  c.build = [=](Network& n, const std::vector<Tensor*>&) {
    return std::vector<Tensor*>{add_constant(n, shape, weights_of(dt, values))->output(0)};
  };
  c.reference = [=](const std::vector<HostTensor>&) {
    HostTensor h;
    h.dtype = dt;
    h.dims = shape;
    h.v = values;
    return std::vector<HostTensor>{h};
  };
  check_op(LayerKind::kConstant, c);
}

TEST(Constant, ShapesAndDtypes) {
  for (DataType dt : movement_dtypes()) {
    run("matrix", dt, Dims{3, 4});
    run("scalar", dt, Dims{});
    run("4d", dt, Dims{1, 2, 1, 3});
  }
}

TEST(Constant, FeedsOtherLayers) {
  OpCase c = movement_case("plus_input", DataType::kFLOAT);
  c.exact = false;
  c.inputs = {{DataType::kFLOAT, Dims{2, 3}}};
  c.build = [](Network& n, const std::vector<Tensor*>& in) {
    auto* k = add_constant(n, Dims{1, 3}, Weights::f32({1, 2, 3}))->output(0);
    return std::vector<Tensor*>{add_elementwise(n, in[0], k, ElementWiseOperation::kSUM)->output(0)};
  };
  c.reference = [](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{make_tensor(DataType::kFLOAT, in[0].dims, [&](const std::vector<int64_t>& y) {
      return in[0].v[ravel(y, in[0].dims)] + static_cast<double>(y[1]) + 1;
    })};
  };
  check_op(LayerKind::kConstant, c);
}

TEST(Constant, BadArgumentsNameThemselves) {
  Network n;
  std::string m = error_of([&] { add_constant(n, Dims{2, 3}, Weights::f32({1, 2, 3})); });
  EXPECT_NE(m.find("add_constant"), std::string::npos) << m;
  EXPECT_NE(m.find("weights"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 3)"), std::string::npos) << m;
  EXPECT_NE(m.find("3 values"), std::string::npos) << m;
  m = error_of([&] { add_constant(n, Dims{-1, 3}, Weights::f32({1, 2, 3})); });
  EXPECT_NE(m.find("shape"), std::string::npos) << m;
  EXPECT_NE(m.find("(-1, 3)"), std::string::npos) << m;
  uint8_t b = 0;
  m = error_of([&] { add_constant(n, Dims{1}, Weights(DataType::kFP8, &b, 1)); });
  EXPECT_NE(m.find("fp8"), std::string::npos) << m;
  EXPECT_EQ(add_constant(n, Dims{0, 4}, Weights())->output(0)->dims(), (Dims{0, 4}));
}

}  // namespace
}  // namespace t2t_test
