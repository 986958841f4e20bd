#include <gtest/gtest.h>

#include "harness.h"
#include "move_ref.h"

namespace t2t_test {
namespace {

// Value of x at output index y under numpy broadcasting (right-aligned, extent 1 repeats).
double at_broadcast(const HostTensor& x, const std::vector<int64_t>& y) {
  std::vector<int64_t> idx(x.dims.nb_dims);
  size_t off = y.size() - idx.size();
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = x.dims.d[i] == 1 ? 0 : y[off + i];
  return x.v[ravel(idx, x.dims)];
}

void run(const std::string& name, DataType dt, Dims c, Dims a, Dims b, Dims out) {
  OpCase k = movement_case(name, dt);
  // The condition goes last so that the support table (keyed by input 0) lists the data dtype.
  k.inputs = {{dt, a}, {dt, b}, {DataType::kBOOL, c}};
  k.fixed = {{}, {}, random_values(c.volume(), DataType::kBOOL, 0, 1)};
  k.build = [](Network& n, const std::vector<Tensor*>& in) {
    return std::vector<Tensor*>{add_select(n, in[2], in[0], in[1])->output(0)};
  };
  k.reference = [out](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{make_tensor(in[0].dtype, out, [&](const std::vector<int64_t>& y) {
      return at_broadcast(in[2], y) != 0 ? at_broadcast(in[0], y) : at_broadcast(in[1], y);
    })};
  };
  check_op(LayerKind::kSelect, k);
}

TEST(Select, BroadcastingAndDtypes) {
  for (DataType dt : movement_dtypes()) {
    run("same_shape", dt, Dims{3, 4}, Dims{3, 4}, Dims{3, 4}, Dims{3, 4});
    run("broadcast_condition", dt, Dims{1, 4}, Dims{3, 4}, Dims{3, 1}, Dims{3, 4});
    run("lower_rank_inputs", dt, Dims{2, 3, 4}, Dims{4}, Dims{}, Dims{2, 3, 4});
    run("all_broadcast", dt, Dims{2, 1, 1}, Dims{1, 3, 1}, Dims{1, 1, 4}, Dims{2, 3, 4});
  }
}

TEST(Select, BadArgumentsNameThemselves) {
  Network n;
  auto* c = n.add_input("c", DataType::kBOOL, Dims{3, 4});
  auto* f = n.add_input("f", DataType::kFLOAT, Dims{3, 4});
  auto* i = n.add_input("i", DataType::kINT32, Dims{3, 4});
  auto* w = n.add_input("w", DataType::kFLOAT, Dims{5});
  std::string m = error_of([&] { add_select(n, f, f, f); });
  EXPECT_NE(m.find("add_select"), std::string::npos) << m;
  EXPECT_NE(m.find("condition"), std::string::npos) << m;
  EXPECT_NE(m.find("bool"), std::string::npos) << m;
  m = error_of([&] { add_select(n, c, f, i); });
  EXPECT_NE(m.find("else_input"), std::string::npos) << m;
  EXPECT_NE(m.find("int32"), std::string::npos) << m;
  m = error_of([&] { add_select(n, c, f, w); });
  EXPECT_NE(m.find("(3, 4)"), std::string::npos) << m;
  EXPECT_NE(m.find("(5,)"), std::string::npos) << m;
  EXPECT_EQ(add_select(n, n.add_input("c2", DataType::kBOOL, Dims{-1, 1}), f, f)->output(0)->dims(), (Dims{3, 4}));
}

}  // namespace
}  // namespace t2t_test
