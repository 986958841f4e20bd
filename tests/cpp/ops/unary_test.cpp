#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "harness.h"

namespace t2t_test {
namespace {

double ref_unary(UnaryOperation op, double x) {
  switch (op) {
    case UnaryOperation::kEXP: return std::exp(x);
    case UnaryOperation::kLOG: return std::log(x);
    case UnaryOperation::kSQRT: return std::sqrt(x);
    case UnaryOperation::kRECIP: return 1 / x;
    case UnaryOperation::kABS: return std::fabs(x);
    case UnaryOperation::kNEG: return -x;
    case UnaryOperation::kSIN: return std::sin(x);
    case UnaryOperation::kCOS: return std::cos(x);
    case UnaryOperation::kTAN: return std::tan(x);
    case UnaryOperation::kSINH: return std::sinh(x);
    case UnaryOperation::kCOSH: return std::cosh(x);
    case UnaryOperation::kASIN: return std::asin(x);
    case UnaryOperation::kACOS: return std::acos(x);
    case UnaryOperation::kATAN: return std::atan(x);
    case UnaryOperation::kASINH: return std::asinh(x);
    case UnaryOperation::kACOSH: return std::acosh(x);
    case UnaryOperation::kATANH: return std::atanh(x);
    case UnaryOperation::kCEIL: return std::ceil(x);
    case UnaryOperation::kFLOOR: return std::floor(x);
    case UnaryOperation::kERF: return std::erf(x);
    case UnaryOperation::kNOT: return x == 0 ? 1 : 0;
    case UnaryOperation::kSIGN: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    case UnaryOperation::kROUND: {
      double f = std::floor(x), r = x - f;  // half to even, written out rather than trusting rint
      if (r > 0.5) return f + 1;
      if (r < 0.5) return f;
      return std::fmod(f, 2.0) == 0 ? f : f + 1;
    }
    case UnaryOperation::kISINF: return std::isinf(x) ? 1 : 0;
    case UnaryOperation::kISNAN: return std::isnan(x) ? 1 : 0;
  }
  return NAN;
}

// Input range where each op is defined and well conditioned.
std::pair<double, double> domain(UnaryOperation op) {
  switch (op) {
    case UnaryOperation::kLOG: return {0.05, 6};
    case UnaryOperation::kSQRT: return {0, 6};
    case UnaryOperation::kRECIP: return {0.25, 4};
    case UnaryOperation::kTAN: return {-1.2, 1.2};
    case UnaryOperation::kSINH:
    case UnaryOperation::kCOSH:
    case UnaryOperation::kERF: return {-3, 3};
    case UnaryOperation::kASIN:
    case UnaryOperation::kACOS: return {-0.99, 0.99};
    case UnaryOperation::kACOSH: return {1, 6};
    case UnaryOperation::kATANH: return {-0.95, 0.95};
    default: return {-4, 4};
  }
}

void run(UnaryOperation op, DataType dt, Dims dims, const std::string& tag, std::vector<double> fixed = {},
         std::pair<double, double> range = {0, 0}) {
  OpCase c;
  c.variant = std::string(unary_op_name(op)) + "_" + tag;
  c.inputs = {{dt, dims}};
  auto r = range.first == range.second ? domain(op) : range;
  c.lo = r.first, c.hi = r.second;
  if (!fixed.empty()) c.fixed = {fixed};
  c.exact = !is_floating(dt);
  c.build = [op](Network& n, const std::vector<Tensor*>& in) { return std::vector<Tensor*>{add_unary(n, in[0], op)->output(0)}; };
  c.reference = [op](const std::vector<HostTensor>& in) {
    DataType out = unary_outputs_bool(op) ? DataType::kBOOL : in[0].dtype;
    return std::vector<HostTensor>{map(in[0], [op](double x) { return ref_unary(op, x); }, out)};
  };
  check_op(LayerKind::kUnary, c);
}

TEST(Unary, FloatOpsMatchReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    for (int i = 0; i < kNumUnaryOperations; ++i) {
      auto op = static_cast<UnaryOperation>(i);
      if (op == UnaryOperation::kNOT) continue;
      run(op, dt, Dims{2, 3, 17}, "rank3");
    }
    run(UnaryOperation::kEXP, dt, Dims{1000}, "rank1");
    run(UnaryOperation::kRECIP, dt, Dims{4, 5}, "negative", {}, {-4, -0.25});
    run(UnaryOperation::kABS, dt, Dims{}, "scalar");
  }
}

TEST(Unary, RoundIsHalfToEven) {
  std::vector<double> v = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.7, -3.2, 0.0, 7.5, -7.5, 4.25};
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    run(UnaryOperation::kROUND, dt, Dims{3, 4}, "ties", v);
}

TEST(Unary, SignAndClassificationOfSpecialValues) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> v = {inf, -inf, nan, 0.0, -0.0, 1.5, -2.0, 65504.0};
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    run(UnaryOperation::kISINF, dt, Dims{8}, "special", v);
    run(UnaryOperation::kISNAN, dt, Dims{2, 4}, "special", v);
    run(UnaryOperation::kSIGN, dt, Dims{8}, "special", v);
  }
}

TEST(Unary, IntegerOps) {
  for (DataType dt : {DataType::kINT32, DataType::kINT64, DataType::kINT8})
    for (auto op : {UnaryOperation::kABS, UnaryOperation::kNEG, UnaryOperation::kSIGN})
      run(op, dt, Dims{3, 7}, "int", {}, {-100, 100});
  // The most negative value maps to itself (two's complement wrap, as PyTorch).
  std::vector<double> v = {-128, 127, 0, -1};
  OpCase c;
  c.variant = "ABS_int8_min";
  c.inputs = {{DataType::kINT8, Dims{4}}};
  c.fixed = {v};
  c.build = [](Network& n, const std::vector<Tensor*>& in) {
    return std::vector<Tensor*>{add_unary(n, in[0], UnaryOperation::kABS)->output(0)};
  };
  c.reference = [](const std::vector<HostTensor>& in) {
    HostTensor y = in[0];
    y.v = {-128, 127, 0, 1};
    return std::vector<HostTensor>{y};
  };
  check_op(LayerKind::kUnary, c);
}

TEST(Unary, NotOnBool) { run(UnaryOperation::kNOT, DataType::kBOOL, Dims{5, 6}, "bool", {}, {0, 1}); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(Unary, RejectsWrongDtypesNamingTheArgument) {
  Network n;
  auto* i = n.add_input("i", DataType::kINT32, Dims{4});
  auto* f = n.add_input("f", DataType::kFLOAT, Dims{4});
  auto* b = n.add_input("b", DataType::kBOOL, Dims{4});
  std::string m = error_of([&] { add_unary(n, i, UnaryOperation::kEXP); });
  EXPECT_NE(m.find("add_unary"), std::string::npos) << m;
  EXPECT_NE(m.find("input: EXP needs a float tensor, got int32"), std::string::npos) << m;
  m = error_of([&] { add_unary(n, f, UnaryOperation::kNOT); });
  EXPECT_NE(m.find("input: NOT needs a bool tensor, got float32"), std::string::npos) << m;
  m = error_of([&] { add_unary(n, b, UnaryOperation::kABS); });
  EXPECT_NE(m.find("input: ABS does not accept bool"), std::string::npos) << m;
  m = error_of([&] { add_unary(n, f, static_cast<UnaryOperation>(99)); });
  EXPECT_NE(m.find("op: unknown unary operation 99"), std::string::npos) << m;
  EXPECT_EQ(n.num_layers(), 0);
  // A valid layer changed to an invalid op keeps its old value.
  auto* l = add_unary(n, i, UnaryOperation::kNEG);
  l->p.op = UnaryOperation::kSQRT;
  EXPECT_THROW(l->changed([&] { l->p.op = UnaryOperation::kNEG; }), InvalidArgument);
  EXPECT_EQ(l->p.op, UnaryOperation::kNEG);
}

}  // namespace
}  // namespace t2t_test
