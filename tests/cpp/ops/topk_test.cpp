#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "harness.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace t2t_test {
namespace {

// Float64 reference: a stable sort of each slice, NaN above every number.
std::vector<HostTensor> ref_topk(const HostTensor& x, TopKOperation op, int k, int axis) {
  HostTensor val = x, idx = x;
  val.dims.d[axis] = k;
  idx.dims.d[axis] = k;
  idx.dtype = DataType::kINT32;
  val.v.assign(val.dims.volume(), 0);
  idx.v.assign(idx.dims.volume(), 0);
  int64_t outer = 1, inner = 1, n = x.dims.d[axis];
  for (int i = 0; i < axis; ++i) outer *= x.dims.d[i];
  for (int i = axis + 1; i < x.dims.nb_dims; ++i) inner *= x.dims.d[i];
  auto key = [&](double v) {  // larger key first
    double s = std::isnan(v) ? std::numeric_limits<double>::infinity() : v;
    return op == TopKOperation::kMAX ? s : -s;
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      std::vector<int64_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      auto at = [&](int64_t i) { return x.v[(o * n + i) * inner + j]; };
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        bool an = std::isnan(at(a)), bn = std::isnan(at(b));
        if (an || bn) return an && !bn ? op == TopKOperation::kMAX : (bn && !an ? op == TopKOperation::kMIN : false);
        return key(at(a)) > key(at(b));
      });
      for (int i = 0; i < k; ++i) {
        val.v[(o * k + i) * inner + j] = at(order[i]);
        idx.v[(o * k + i) * inner + j] = static_cast<double>(order[i]);
      }
    }
  return {val, idx};
}

void run(TopKOperation op, DataType dt, Dims dims, int k, int axis, std::vector<double> fixed = {}) {
  OpCase c;
  c.variant = std::string(topk_op_name(op)) + "_k" + std::to_string(k) + "_axis" + std::to_string(axis) + "_" + dims.str();
  c.inputs = {{dt, dims}};
  c.lo = -100, c.hi = 100;
  if (!fixed.empty()) c.fixed = {fixed};
  c.build = [=](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_topk(n, in[0], op, k, 1u << axis);
    return std::vector<Tensor*>{l->output(0), l->output(1)};
  };
  c.reference = [=](const std::vector<HostTensor>& in) { return ref_topk(in[0], op, k, axis); };
  check_op(LayerKind::kTopK, c);
}

TEST(TopK, EveryAxisBothOrders) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT64})
    for (TopKOperation op : {TopKOperation::kMAX, TopKOperation::kMIN})
      for (int axis = 0; axis < 3; ++axis) {
        int n = std::vector<int>{4, 6, 9}[axis];
        for (int k : {1, 3, n}) run(op, dt, Dims{4, 6, 9}, k, axis);
      }
}

TEST(TopK, LongAxis) {
  run(TopKOperation::kMAX, DataType::kFLOAT, Dims{3, 20000}, 50, 1);
  run(TopKOperation::kMIN, DataType::kFLOAT, Dims{3000, 2}, 7, 0);
  run(TopKOperation::kMAX, DataType::kFLOAT, Dims{10}, 10, 0);
}

TEST(TopK, TiesKeepIndexOrderAndNanIsLargest) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> ties = {2, 5, 2, 5, 1, 5, 2, 1};
  for (TopKOperation op : {TopKOperation::kMAX, TopKOperation::kMIN}) {
    run(op, DataType::kFLOAT, Dims{8}, 5, 0, ties);
    run(op, DataType::kINT32, Dims{2, 4}, 4, 1, ties);
    run(op, DataType::kFLOAT, Dims{6}, 4, 0, {3, nan, -1, nan, 7, 0});
  }
}

TEST(TopK, RunTimeExtentIsCheckedAgainstK) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, -1});
  auto* l = add_topk(n, x, TopKOperation::kMAX, 3, 2u);
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, 3}));
  l->output(0)->set_name("v");
  l->output(1)->set_name("i");
  n.mark_output(l->output(0));
  n.mark_output(l->output(1));
  auto engine = Builder().build(n, BuilderConfig());
  auto ctx = engine->create_execution_context();
  std::vector<float> in(8, 1.f), v(6), idx(6);
  ctx->set_tensor_address("x", in.data());
  ctx->set_tensor_address("v", v.data());
  ctx->set_tensor_address("i", idx.data());
  ctx->set_input_shape("x", Dims{2, 2});
  try {
    ctx->enqueue(nullptr);
    FAIL() << "expected an error for k = 3 > extent 2";
  } catch (const RuntimeFailure& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("k: 3 exceeds the extent 2 of axis 1"), std::string::npos) << m;
  }
  ctx->set_input_shape("x", Dims{2, 4});
  ctx->enqueue(nullptr);
  EXPECT_EQ(v[0], 1.f);
  EXPECT_EQ(reinterpret_cast<int32_t*>(idx.data())[2], 2);  // equal values: index order
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(TopK, ErrorsNameTheArgument) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 5});
  auto* b = n.add_input("b", DataType::kBOOL, Dims{2, 5});
  std::string m = error_of([&] { add_topk(n, x, TopKOperation::kMAX, 6, 2u); });
  EXPECT_NE(m.find("add_topk"), std::string::npos) << m;
  EXPECT_NE(m.find("k: 6 exceeds the extent 5 of axis 1 of the input of shape (2, 5)"), std::string::npos) << m;
  m = error_of([&] { add_topk(n, x, TopKOperation::kMAX, 0, 2u); });
  EXPECT_NE(m.find("k: must be at least 1, got 0"), std::string::npos) << m;
  m = error_of([&] { add_topk(n, x, TopKOperation::kMAX, 1, 3u); });
  EXPECT_NE(m.find("axes: bitmask 3 selects 2 dimensions; exactly one is allowed"), std::string::npos) << m;
  m = error_of([&] { add_topk(n, x, TopKOperation::kMAX, 1, 4u); });
  EXPECT_NE(m.find("axes: bitmask 4 selects a dimension >= 2"), std::string::npos) << m;
  m = error_of([&] { add_topk(n, x, TopKOperation::kMAX, 1, 0u); });
  EXPECT_NE(m.find("axes: no axis selected"), std::string::npos) << m;
  m = error_of([&] { add_topk(n, b, TopKOperation::kMIN, 1, 1u); });
  EXPECT_NE(m.find("input: top-k does not accept bool"), std::string::npos) << m;
  m = error_of([&] { add_topk(n, x, static_cast<TopKOperation>(2), 1, 1u); });
  EXPECT_NE(m.find("op: unknown top-k operation 2"), std::string::npos) << m;
  EXPECT_EQ(n.num_layers(), 0);
  auto* l = add_topk(n, x, TopKOperation::kMAX, 2, 2u);
  EXPECT_THROW(l->set_input(1, x), InvalidArgument);  // no run-time k input
  EXPECT_EQ(l->num_inputs(), 1);
}

}  // namespace
}  // namespace t2t_test
