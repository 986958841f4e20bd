#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "harness.h"

namespace t2t_test {
namespace {

HostTensor ref_softmax(const HostTensor& x, int axis, bool log_out) {
  HostTensor y = x;
  int64_t outer = 1, inner = 1, n = x.dims.d[axis];
  for (int i = 0; i < axis; ++i) outer *= x.dims.d[i];
  for (int i = axis + 1; i < x.dims.nb_dims; ++i) inner *= x.dims.d[i];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + j; };
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int64_t k = 0; k < n; ++k) mx = std::max(mx, x.v[at(k)]);
      for (int64_t k = 0; k < n; ++k) sum += std::exp(x.v[at(k)] - mx);
      for (int64_t k = 0; k < n; ++k)
        y.v[at(k)] = log_out ? x.v[at(k)] - mx - std::log(sum) : std::exp(x.v[at(k)] - mx) / sum;
    }
  return y;
}

void run(DataType dt, Dims dims, int axis, bool log_out, double lo, double hi, std::vector<double> fixed = {}) {
  OpCase c;
  c.variant = std::string(log_out ? "log_" : "") + "axis" + std::to_string(axis) + "_" + dims.str();
  c.inputs = {{dt, dims}};
  c.lo = lo, c.hi = hi;
  if (!fixed.empty()) c.fixed = {fixed};
  c.build = [=](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_softmax(n, in[0]);
    l->p.axes = 1u << axis;
    l->p.log = log_out;
    l->changed([] {});
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [=](const std::vector<HostTensor>& in) { return std::vector<HostTensor>{ref_softmax(in[0], axis, log_out)}; };
  check_op(LayerKind::kSoftMax, c);
}

TEST(SoftMax, EveryAxisBothForms) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16})
    for (bool log_out : {false, true}) {
      for (int axis = 0; axis < 4; ++axis) run(dt, Dims{2, 3, 4, 5}, axis, log_out, -4, 4);
      run(dt, Dims{7}, 0, log_out, -4, 4);
    }
}

TEST(SoftMax, LongAndWideAxes) {
  for (bool log_out : {false, true}) {
    run(DataType::kFLOAT, Dims{4, 5000}, 1, log_out, -20, 20);     // long last axis
    run(DataType::kFLOAT, Dims{3, 300, 130}, 1, log_out, -20, 20);  // inner extent over the block size
    run(DataType::kFLOAT, Dims{1000, 3}, 0, log_out, -20, 20);
  }
}

TEST(SoftMax, LargeInputsStayFinite) {
  // exp(1000) overflows float: only a max-subtracted softmax gets these right; log_softmax keeps -1000.
  std::vector<double> v = {1000, 0, -1000, 999, -5000, 20, 1, 2};
  run(DataType::kFLOAT, Dims{2, 4}, 1, false, 0, 0, v);
  run(DataType::kFLOAT, Dims{2, 4}, 1, true, 0, 0, v);
}

TEST(SoftMax, DefaultAxisFollowsTensorRT) {
  Network n;
  // rank - 3, or 0 below rank 3: C of NCHW, N of NHW.
  const std::pair<Dims, uint32_t> cases[] = {{Dims{5}, 1u},        {Dims{2, 5}, 1u},          {Dims{2, 3, 4}, 1u},
                                             {Dims{2, 3, 4, 5}, 2u}, {Dims{1, 2, 3, 4, 5}, 4u}};
  int i = 0;
  for (auto& [d, axes] : cases) {
    auto* x = n.add_input("x" + std::to_string(i++), DataType::kFLOAT, d);
    EXPECT_EQ(add_softmax(n, x)->p.axes, axes) << d.str();
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(SoftMax, ErrorsNameTheArgument) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 3});
  auto* i = n.add_input("i", DataType::kINT32, Dims{2, 3});
  auto* s = n.add_input("s", DataType::kFLOAT, Dims{});
  std::string m = error_of([&] { add_softmax(n, i); });
  EXPECT_NE(m.find("add_softmax"), std::string::npos) << m;
  EXPECT_NE(m.find("input: softmax needs a float tensor, got int32"), std::string::npos) << m;
  m = error_of([&] { add_softmax(n, s); });
  EXPECT_NE(m.find("input: softmax needs a tensor of rank >= 1"), std::string::npos) << m;
  auto* l = add_softmax(n, x);
  for (uint32_t bad : {0u, 3u, 4u}) {
    uint32_t old = l->p.axes;
    l->p.axes = bad;
    m = error_of([&] { l->changed([&] { l->p.axes = old; }); });
    EXPECT_NE(m.find("axes: "), std::string::npos) << m;
    EXPECT_EQ(l->p.axes, old);
  }
}

}  // namespace
}  // namespace t2t_test
