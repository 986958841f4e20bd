#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "harness.h"

namespace t2t_test {
namespace {

// Float64 reference: walks every input element and folds it into its output element.
HostTensor ref_reduce(const HostTensor& x, ReduceOperation op, uint32_t axes, bool keep) {
  HostTensor y;
  y.dtype = x.dtype;
  const Dims& d = x.dims;
  Dims full = d;  // output dims with reduced axes kept as 1
  for (int i = 0; i < d.nb_dims; ++i)
    if ((axes >> i) & 1u) full.d[i] = 1;
  y.dims.nb_dims = 0;
  for (int i = 0; i < d.nb_dims; ++i)
    if (!((axes >> i) & 1u) || keep) y.dims.d[y.dims.nb_dims++] = full.d[i];
  int64_t n_out = full.volume(), count = d.volume() / std::max<int64_t>(1, n_out);
  double init = op == ReduceOperation::kPROD  ? 1
                : op == ReduceOperation::kMAX ? -std::numeric_limits<double>::infinity()
                : op == ReduceOperation::kMIN ? std::numeric_limits<double>::infinity()
                                              : 0;
  y.v.assign(n_out, init);
  for (int64_t k = 0; k < d.volume(); ++k) {
    int64_t rem = k, o = 0, stride = 1;
    for (int i = d.nb_dims - 1; i >= 0; --i) {
      int64_t idx = rem % d.d[i];
      rem /= d.d[i];
      if (!((axes >> i) & 1u)) o += idx * stride;
      stride *= full.d[i];
    }
    double v = x.v[k], &a = y.v[o];
    switch (op) {
      case ReduceOperation::kSUM:
      case ReduceOperation::kAVG: a += v; break;
      case ReduceOperation::kPROD: a *= v; break;
      case ReduceOperation::kMAX: a = std::isnan(a) || std::isnan(v) ? NAN : std::max(a, v); break;
      case ReduceOperation::kMIN: a = std::isnan(a) || std::isnan(v) ? NAN : std::min(a, v); break;
    }
  }
  if (op == ReduceOperation::kAVG)
    for (auto& a : y.v) a /= static_cast<double>(count);
  return y;
}

void run(ReduceOperation op, DataType dt, Dims dims, uint32_t axes, bool keep, double lo, double hi,
         std::vector<double> fixed = {}) {
  OpCase c;
  c.variant = std::string(reduce_op_name(op)) + "_axes" + std::to_string(axes) + (keep ? "_keep" : "") + "_" + dims.str();
  c.inputs = {{dt, dims}};
  c.lo = lo, c.hi = hi;
  if (!fixed.empty()) c.fixed = {fixed};
  c.build = [=](Network& n, const std::vector<Tensor*>& in) {
    return std::vector<Tensor*>{add_reduce(n, in[0], op, axes, keep)->output(0)};
  };
  c.reference = [=](const std::vector<HostTensor>& in) { return std::vector<HostTensor>{ref_reduce(in[0], op, axes, keep)}; };
  check_op(LayerKind::kReduce, c);
}

using R = ReduceOperation;

TEST(Reduce, FloatOpsOverAxisSets) {
  // Leading, middle, trailing, adjacent, non-adjacent and all axes of a rank-4 tensor.
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16})
    for (R op : {R::kSUM, R::kPROD, R::kMAX, R::kMIN, R::kAVG})
      for (uint32_t axes : {1u, 2u, 8u, 6u, 5u, 10u, 15u})
        for (bool keep : {false, true}) {
          double lo = op == R::kPROD ? 0.7 : -3, hi = op == R::kPROD ? 1.3 : 3;
          run(op, dt, Dims{2, 3, 4, 5}, axes, keep, lo, hi);
        }
}

TEST(Reduce, WideInnerAndLargeReductions) {
  // Trailing kept extent above the kernel's block size; a long full reduction that splits across threads.
  for (R op : {R::kSUM, R::kAVG, R::kMAX}) {
    run(op, DataType::kFLOAT, Dims{3, 7, 600}, 2u, false, -2, 2);
    run(op, DataType::kFLOAT, Dims{1 << 20}, 1u, false, -2, 2);
    run(op, DataType::kFLOAT, Dims{4, 1 << 18}, 2u, true, -2, 2);
    run(op, DataType::kFLOAT, Dims{300, 1000}, 1u, false, -2, 2);
  }
  run(R::kSUM, DataType::kHALF, Dims{64, 4096}, 3u, false, -2, 2);
  run(R::kSUM, DataType::kFLOAT, Dims{2, 1, 3}, 2u, false, -2, 2);  // reducing an extent of 1
  run(R::kSUM, DataType::kFLOAT, Dims{5}, 1u, false, -2, 2);        // to a scalar
}

TEST(Reduce, IntegerOps) {
  for (DataType dt : {DataType::kINT32, DataType::kINT64})
    for (R op : {R::kSUM, R::kPROD, R::kMAX, R::kMIN})
      for (uint32_t axes : {1u, 4u, 6u, 7u}) {
        double lo = op == R::kPROD ? -3 : -1000, hi = op == R::kPROD ? 3 : 1000;
        run(op, dt, op == R::kPROD ? Dims{2, 3, 3} : Dims{3, 4, 5}, axes, axes == 4u, lo, hi);
      }
}

TEST(Reduce, NanPropagatesThroughMaxAndMin) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> v = {1, nan, 3, -1, 2, 5, nan, 0};
  for (R op : {R::kMAX, R::kMIN, R::kSUM}) run(op, DataType::kFLOAT, Dims{2, 4}, 2u, false, 0, 0, v);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(Reduce, ErrorsNameTheArgument) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 3});
  auto* i = n.add_input("i", DataType::kINT32, Dims{2, 3});
  auto* b = n.add_input("b", DataType::kBOOL, Dims{2, 3});
  auto* e = n.add_input("e", DataType::kFLOAT, Dims{2, 0});
  std::string m = error_of([&] { add_reduce(n, x, R::kSUM, 0, false); });
  EXPECT_NE(m.find("add_reduce"), std::string::npos) << m;
  EXPECT_NE(m.find("axes: no axis selected"), std::string::npos) << m;
  m = error_of([&] { add_reduce(n, x, R::kSUM, 4, false); });
  EXPECT_NE(m.find("axes: bitmask 4 selects a dimension >= 2"), std::string::npos) << m;
  m = error_of([&] { add_reduce(n, i, R::kAVG, 1, false); });
  EXPECT_NE(m.find("input: AVG needs a float tensor, got int32"), std::string::npos) << m;
  m = error_of([&] { add_reduce(n, b, R::kSUM, 1, false); });
  EXPECT_NE(m.find("input: reduce SUM does not accept bool"), std::string::npos) << m;
  m = error_of([&] { add_reduce(n, x, static_cast<R>(7), 1, false); });
  EXPECT_NE(m.find("op: unknown reduce operation 7"), std::string::npos) << m;
  m = error_of([&] { add_reduce(n, e, R::kMAX, 2, false); });
  EXPECT_NE(m.find("input: MAX over dimension 1 of shape (2, 0)"), std::string::npos) << m;
  EXPECT_EQ(n.num_layers(), 0);
  // SUM over an empty axis is fine (zeros); run-time extents propagate.
  EXPECT_EQ(add_reduce(n, e, R::kSUM, 2, true)->output(0)->dims(), (Dims{2, 1}));
  auto* dyn = n.add_input("dyn", DataType::kFLOAT, Dims{-1, 4, 5});
  EXPECT_EQ(add_reduce(n, dyn, R::kAVG, 2, false)->output(0)->dims(), (Dims{-1, 5}));
}

TEST(Reduce, CorruptKeepDimsFlagIsRefused) {
  // keep_dims is a bool in engine files: a byte other than 0 or 1 means corruption, not "true".
  ReduceLayer l;
  Writer w;
  l.save(w);
  ASSERT_EQ(w.buf.size(), sizeof(int32_t) + sizeof(uint32_t) + 1);
  w.buf.back() = 7;
  Reader r(w.buf.data(), w.buf.size());
  EXPECT_THROW(l.load(r), EngineFormatError);
}

}  // namespace
}  // namespace t2t_test
