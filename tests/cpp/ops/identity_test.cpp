#include <gtest/gtest.h>

#include <climits>
#include <cmath>

#include "harness.h"
#include "move_ref.h"

namespace t2t_test {
namespace {

TEST(Identity, AllDtypes) {
  for (DataType dt : movement_dtypes()) {
    for (Dims d : {Dims{2, 3, 4}, Dims{}, Dims{0, 3}}) {
      OpCase c = movement_case("copy_rank" + std::to_string(d.nb_dims), dt);
      c.inputs = {{dt, d}};
      c.build = [](Network& n, const std::vector<Tensor*>& in) {
        return std::vector<Tensor*>{add_identity(n, in[0])->output(0)};
      };
      c.reference = [](const std::vector<HostTensor>& in) { return std::vector<HostTensor>{in[0]}; };
      check_op(LayerKind::kIdentity, c);
    }
  }
}

// Two's-complement wrap of an integer into `bits` bits.
double wrap(int64_t x, int bits, bool is_signed) {
  if (bits == 64) return static_cast<double>(x);
  uint64_t m = static_cast<uint64_t>(x) & ((uint64_t(1) << bits) - 1);
  if (is_signed && m >= (uint64_t(1) << (bits - 1)))
    return static_cast<double>(static_cast<int64_t>(m) - (int64_t(1) << bits));
  return static_cast<double>(m);
}

// Tensor.to(dtype) semantics as CastLayer documents them.
double ref_cast(double v, DataType from, DataType to) {
  if (from == DataType::kBOOL) v = v != 0;
  switch (to) {
    case DataType::kBOOL: return v != 0;
    case DataType::kFLOAT: return static_cast<float>(v);
    case DataType::kHALF: return half_to_float(float_to_half(static_cast<float>(v)));
    case DataType::kBF16: return bf16_to_float(float_to_bf16(static_cast<float>(v)));
    case DataType::kFP8: break;
    default: {
      int bits = static_cast<int>(dtype_size(to)) * 8;
      bool is_signed = to != DataType::kUINT8;
      if (!is_floating(from)) return wrap(static_cast<int64_t>(v), bits, is_signed);
      if (std::isnan(v)) return 0;
      double t = std::trunc(v);
      if (bits >= 32) {
        double lo = bits == 32 ? -2147483648.0 : -9223372036854775808.0;
        double hi = bits == 32 ? 2147483647.0 : 9223372036854775807.0;
        return std::min(std::max(t, lo), hi);
      }
      // 8-bit targets: saturate to int64 first, then wrap.
      int64_t i = t >= 9223372036854775807.0    ? INT64_MAX
                  : t <= -9223372036854775808.0 ? INT64_MIN
                                                : static_cast<int64_t>(t);
      return wrap(i, bits, is_signed);
    }
  }
  return NAN;
}

std::pair<double, double> cast_range(DataType t) {
  if (t == DataType::kBOOL) return {0, 1};
  if (t == DataType::kUINT8) return {0, 255};
  if (t == DataType::kINT8) return {-128, 127};
  return {-300, 300};  // crosses the 8-bit ranges, so narrowing wraps
}

TEST(Cast, EveryPairOfDtypes) {
  for (DataType from : movement_dtypes()) {
    for (DataType to : movement_dtypes()) {
      OpCase c = movement_case(std::string("to_") + dtype_name(to), from);
      auto r = cast_range(from);
      c.lo = r.first, c.hi = r.second;
      c.inputs = {{from, Dims{4, 25}}};
      c.build = [to](Network& n, const std::vector<Tensor*>& in) {
        return std::vector<Tensor*>{add_cast(n, in[0], to)->output(0)};
      };
      c.reference = [from, to](const std::vector<HostTensor>& in) {
        return std::vector<HostTensor>{map(in[0], [&](double v) { return ref_cast(v, from, to); }, to)};
      };
      check_op(LayerKind::kCast, c);
    }
  }
}

TEST(Cast, FloatEdgeValues) {
  std::vector<double> v = {2.7, -2.7, 0.5, -0.5, 3e9, -3e9, NAN, 1e30, -1e30, 255.9, 256.0, -1.0};
  for (DataType to : {DataType::kINT32, DataType::kINT64, DataType::kINT8, DataType::kUINT8, DataType::kBOOL}) {
    OpCase c = movement_case(std::string("edges_to_") + dtype_name(to), DataType::kFLOAT);
    c.inputs = {{DataType::kFLOAT, Dims{static_cast<int64_t>(v.size())}}};
    c.fixed = {v};
    c.build = [to](Network& n, const std::vector<Tensor*>& in) {
      return std::vector<Tensor*>{add_cast(n, in[0], to)->output(0)};
    };
    c.reference = [to](const std::vector<HostTensor>& in) {
      return std::vector<HostTensor>{map(in[0], [&](double x) { return ref_cast(x, DataType::kFLOAT, to); }, to)};
    };
    check_op(LayerKind::kCast, c);
  }
}

TEST(Cast, BadArgumentsNameThemselves) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2});
  std::string m = error_of([&] { add_cast(n, x, DataType::kFP8); });
  EXPECT_NE(m.find("add_cast"), std::string::npos) << m;
  EXPECT_NE(m.find("to_type"), std::string::npos) << m;
  m = error_of([&] { add_cast(n, x, static_cast<DataType>(42)); });
  EXPECT_NE(m.find("unknown data type 42"), std::string::npos) << m;
  m = error_of([&] { add_identity(n, nullptr); });
  EXPECT_NE(m.find("not set"), std::string::npos) << m;
}

}  // namespace
}  // namespace t2t_test
