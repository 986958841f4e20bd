#include <gtest/gtest.h>

#include <cmath>

#include "harness.h"

namespace t2t_test {
namespace {

HostTensor ref_cumsum(const HostTensor& x, int axis, bool exclusive, bool reverse) {
  HostTensor y = x;
  int rank = x.dims.nb_dims;
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1, n = x.dims.d[axis];
  for (int i = 0; i < axis; ++i) outer *= x.dims.d[i];
  for (int i = axis + 1; i < rank; ++i) inner *= x.dims.d[i];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      double acc = 0;
      for (int64_t s = 0; s < n; ++s) {
        int64_t k = reverse ? n - 1 - s : s;
        double v = x.v[(o * n + k) * inner + j];
        double& out = y.v[(o * n + k) * inner + j];
        if (exclusive) {
          out = acc;
          acc += v;
        } else {
          acc += v;
          out = acc;
        }
      }
    }
  if (x.dtype == DataType::kINT8)  // sums wrap at the type's width
    for (auto& v : y.v) v = static_cast<int8_t>(static_cast<int64_t>(v));
  return y;
}

void run(DataType dt, Dims dims, int axis, bool exclusive, bool reverse, double lo = -3, double hi = 3) {
  OpCase c;
  c.variant = "axis" + std::to_string(axis) + (exclusive ? "_excl" : "") + (reverse ? "_rev" : "") + "_" + dims.str();
  c.inputs = {{dt, dims}};
  c.lo = lo, c.hi = hi;
  c.build = [=](Network& n, const std::vector<Tensor*>& in) {
    return std::vector<Tensor*>{add_cumulative(n, in[0], axis, CumulativeOperation::kSUM, exclusive, reverse)->output(0)};
  };
  c.reference = [=](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{ref_cumsum(in[0], axis, exclusive, reverse)};
  };
  check_op(LayerKind::kCumulativeSum, c);
}

TEST(CumulativeSum, EveryAxisAndFlag) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64, DataType::kINT8})
    for (int axis : {0, 1, 2, -1})
      for (int flags = 0; flags < 4; ++flags) run(dt, Dims{3, 4, 5}, axis, flags & 1, flags & 2, -9, 9);
}

TEST(CumulativeSum, LongAndWideAxes) {
  run(DataType::kFLOAT, Dims{2, 100000}, 1, false, false);  // float32 only holds 1e-5 with a double accumulator
  run(DataType::kFLOAT, Dims{2, 100000}, 1, true, true);
  run(DataType::kFLOAT, Dims{50, 3, 200}, 1, false, true);  // inner extent over the block size
  run(DataType::kFLOAT, Dims{7}, 0, true, false);
  run(DataType::kINT8, Dims{2, 8}, 1, false, false, 50, 100);  // wraps
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(CumulativeSum, ErrorsNameTheArgument) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 3});
  auto* b = n.add_input("b", DataType::kBOOL, Dims{2, 3});
  auto* s = n.add_input("s", DataType::kFLOAT, Dims{});
  std::string m = error_of([&] { add_cumulative(n, x, 2, CumulativeOperation::kSUM, false, false); });
  EXPECT_NE(m.find("add_cumulative"), std::string::npos) << m;
  EXPECT_NE(m.find("axis: 2 is out of range for the input of shape (2, 3) (valid: -2..1)"), std::string::npos) << m;
  m = error_of([&] { add_cumulative(n, x, -3, CumulativeOperation::kSUM, false, false); });
  EXPECT_NE(m.find("axis: -3 is out of range"), std::string::npos) << m;
  m = error_of([&] { add_cumulative(n, b, 0, CumulativeOperation::kSUM, false, false); });
  EXPECT_NE(m.find("input: cumulative sum does not accept bool"), std::string::npos) << m;
  m = error_of([&] { add_cumulative(n, s, 0, CumulativeOperation::kSUM, false, false); });
  EXPECT_NE(m.find("input: cumulative sum needs a tensor of rank >= 1"), std::string::npos) << m;
  m = error_of([&] { add_cumulative(n, x, 0, static_cast<CumulativeOperation>(1), false, false); });
  EXPECT_NE(m.find("op: unknown cumulative operation 1"), std::string::npos) << m;
  EXPECT_EQ(n.num_layers(), 0);
}

TEST(CumulativeSum, AxisFromAConstantTensor) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 3});
  int32_t one = 1;
  int64_t two[2] = {0, 1};
  auto* axis = add_constant(n, Dims{}, Weights(DataType::kINT32, &one, 1))->output(0);
  EXPECT_EQ(add_cumulative(n, x, axis, CumulativeOperation::kSUM, false, false)->p.axis, 1);
  std::string m = error_of([&] { add_cumulative(n, x, x, CumulativeOperation::kSUM, false, false); });
  EXPECT_NE(m.find("add_cumulative: axis: tensor 'x' (float32) comes from a network input"), std::string::npos) << m;
  auto* pair = add_constant(n, Dims{2}, Weights(DataType::kINT64, two, 2))->output(0);
  m = error_of([&] { add_cumulative(n, x, pair, CumulativeOperation::kSUM, false, false); });
  EXPECT_NE(m.find("holds 2 values; the axis is a single value"), std::string::npos) << m;
}

}  // namespace
}  // namespace t2t_test
