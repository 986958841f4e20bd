#include <gtest/gtest.h>

#include <cmath>

#include "harness.h"

namespace t2t_test {
namespace {

double ref_op(ElementWiseOperation op, double a, double b, bool integer) {
  switch (op) {
    case ElementWiseOperation::kSUM: return a + b;
    case ElementWiseOperation::kPROD: return a * b;
    case ElementWiseOperation::kMAX: return std::max(a, b);
    case ElementWiseOperation::kMIN: return std::min(a, b);
    case ElementWiseOperation::kSUB: return a - b;
    case ElementWiseOperation::kDIV: return integer ? (b == 0 ? 0 : std::trunc(a / b)) : a / b;
    case ElementWiseOperation::kPOW: return std::pow(a, b);
    case ElementWiseOperation::kFLOOR_DIV: return integer && b == 0 ? 0 : std::floor(a / b);
    case ElementWiseOperation::kAND: return (a != 0) && (b != 0);
    case ElementWiseOperation::kOR: return (a != 0) || (b != 0);
    case ElementWiseOperation::kXOR: return (a != 0) != (b != 0);
    case ElementWiseOperation::kEQUAL: return a == b;
    case ElementWiseOperation::kGREATER: return a > b;
    case ElementWiseOperation::kLESS: return a < b;
  }
  return NAN;
}

// Reference with numpy broadcasting.
HostTensor ref_broadcast(ElementWiseOperation op, const HostTensor& a, const HostTensor& b) {
  HostTensor c;
  int r = std::max(a.dims.nb_dims, b.dims.nb_dims);
  c.dims.nb_dims = r;
  for (int i = 0; i < r; ++i) {
    int ia = a.dims.nb_dims - r + i, ib = b.dims.nb_dims - r + i;
    int64_t x = ia >= 0 ? a.dims.d[ia] : 1, y = ib >= 0 ? b.dims.d[ib] : 1;
    c.dims.d[i] = std::max(x, y);
  }
  bool integer = !is_floating(a.dtype);
  c.dtype = elementwise_is_comparison(op) ? DataType::kBOOL : a.dtype;
  c.v.resize(c.numel());
  for (int64_t k = 0; k < c.numel(); ++k) {
    int64_t rem = k, oa = 0, ob = 0, sa = 1, sb = 1;
    for (int i = r - 1; i >= 0; --i) {
      int64_t idx = rem % c.dims.d[i];
      rem /= c.dims.d[i];
      int ia = a.dims.nb_dims - r + i, ib = b.dims.nb_dims - r + i;
      if (ia >= 0) {
        oa += (a.dims.d[ia] == 1 ? 0 : idx) * sa;
        sa *= a.dims.d[ia];
      }
      if (ib >= 0) {
        ob += (b.dims.d[ib] == 1 ? 0 : idx) * sb;
        sb *= b.dims.d[ib];
      }
    }
    c.v[k] = ref_op(op, a.v[oa], b.v[ob], integer);
  }
  return c;
}

void run(ElementWiseOperation op, DataType dt, Dims da, Dims db, double lo, double hi, const std::string& tag) {
  OpCase c;
  c.variant = std::string(elementwise_op_name(op)) + "_" + tag;
  c.inputs = {{dt, da}, {dt, db}};
  c.lo = lo, c.hi = hi;
  c.build = [op](Network& n, const std::vector<Tensor*>& in) {
    return std::vector<Tensor*>{add_elementwise(n, in[0], in[1], op)->output(0)};
  };
  c.reference = [op](const std::vector<HostTensor>& in) { return std::vector<HostTensor>{ref_broadcast(op, in[0], in[1])}; };
  check_op(LayerKind::kElementWise, c);
}

TEST(ElementWise, FloatOpsWithBroadcasting) {
  using E = ElementWiseOperation;
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    for (E op : {E::kSUM, E::kPROD, E::kMAX, E::kMIN, E::kSUB, E::kDIV, E::kFLOOR_DIV, E::kEQUAL, E::kGREATER, E::kLESS}) {
      run(op, dt, Dims{2, 3, 4}, Dims{2, 3, 4}, -3, 3, "same");
      run(op, dt, Dims{2, 1, 4}, Dims{3, 1}, -3, 3, "broadcast");
    }
    run(E::kPOW, dt, Dims{2, 3, 4}, Dims{1, 1, 4}, 0.5, 2, "positive");
    // 16-byte vector paths on the GPU: a channels-last gate (N, 1, 1, C), a per-column operand on either
    // side, and an inner extent that is not a multiple of the vector (scalar path).
    for (E op : {E::kPROD, E::kSUB}) {
      run(op, dt, Dims{2, 5, 3, 16}, Dims{2, 1, 1, 16}, -3, 3, "gate");
      run(op, dt, Dims{16}, Dims{3, 2, 16}, -3, 3, "column_first");
      run(op, dt, Dims{3, 2, 12}, Dims{3, 2, 12}, -3, 3, "inner12");
    }
  }
}

TEST(ElementWise, IntegerAndBoolOps) {
  using E = ElementWiseOperation;
  for (DataType dt : {DataType::kINT32, DataType::kINT64, DataType::kINT8}) {
    for (E op : {E::kSUM, E::kPROD, E::kMAX, E::kMIN, E::kSUB, E::kEQUAL, E::kGREATER, E::kLESS}) {
      run(op, dt, Dims{3, 5}, Dims{5}, -9, 9, "int");
    }
    run(E::kDIV, dt, Dims{3, 5}, Dims{3, 5}, 1, 9, "posdiv");
    run(E::kFLOOR_DIV, dt, Dims{4, 4}, Dims{4, 4}, -9, 9, "floordiv");
    run(E::kPOW, dt, Dims{3, 5}, Dims{3, 5}, 0, 3, "pow");
  }
  for (E op : {E::kAND, E::kOR, E::kXOR, E::kEQUAL}) run(op, DataType::kBOOL, Dims{2, 6}, Dims{6}, 0, 1, "bool");
}

TEST(ElementWise, BadShapesNameTheArgument) {
  Network n;
  auto* a = n.add_input("a", DataType::kFLOAT, Dims{2, 3});
  auto* b = n.add_input("b", DataType::kFLOAT, Dims{4});
  try {
    add_elementwise(n, a, b, ElementWiseOperation::kSUM);
    FAIL() << "expected an error";
  } catch (const InvalidArgument& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("add_elementwise"), std::string::npos) << m;
    EXPECT_NE(m.find("(2, 3)"), std::string::npos) << m;
    EXPECT_NE(m.find("(4,)"), std::string::npos) << m;
  }
  auto* i = n.add_input("i", DataType::kINT32, Dims{2, 3});
  EXPECT_THROW(add_elementwise(n, a, i, ElementWiseOperation::kSUM), InvalidArgument);
}

}  // namespace
}  // namespace t2t_test
