#include <gtest/gtest.h>

#include "harness.h"
#include "move_ref.h"

namespace t2t_test {
namespace {

HostTensor ref_concat(const std::vector<HostTensor>& in, int axis) {
  Dims d = in[0].dims;
  d.d[axis] = 0;
  for (auto& t : in) d.d[axis] += t.dims.d[axis];
  return make_tensor(in[0].dtype, d, [&](std::vector<int64_t> y) {
    for (auto& t : in) {
      if (y[axis] < t.dims.d[axis]) return t.v[ravel(y, t.dims)];
      y[axis] -= t.dims.d[axis];
    }
    return -1e300;
  });
}

void run(const std::string& name, DataType dt, const std::vector<Dims>& shapes, int axis) {
  OpCase c = movement_case(name, dt);
  for (auto& s : shapes) c.inputs.push_back({dt, s});
  c.build = [axis](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_concatenation(n, in);
    l->p.axis = axis;
    l->changed([] {});
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [axis](const std::vector<HostTensor>& in) { return std::vector<HostTensor>{ref_concat(in, axis)}; };
  check_op(LayerKind::kConcatenation, c);
}

TEST(Concatenation, AxesAndDtypes) {
  for (DataType dt : movement_dtypes()) {
    run("axis0", dt, {Dims{2, 3}, Dims{1, 3}, Dims{4, 3}}, 0);
    run("axis1_nchw", dt, {Dims{2, 3, 4, 5}, Dims{2, 1, 4, 5}}, 1);
    run("last_axis", dt, {Dims{2, 3, 4}, Dims{2, 3, 1}, Dims{2, 3, 2}}, 2);
    run("single_input", dt, {Dims{3, 2}}, 1);
    run("empty_input", dt, {Dims{2, 0, 3}, Dims{2, 2, 3}}, 1);
  }
}

TEST(Concatenation, DefaultAxisIsTensorRTs) {
  Network n;
  auto* a = n.add_input("a", DataType::kFLOAT, Dims{1, 2, 3, 4});
  auto* b = n.add_input("b", DataType::kFLOAT, Dims{1, 5, 3, 4});
  auto* l = add_concatenation(n, {a, b});
  EXPECT_EQ(l->p.axis, 1);
  EXPECT_EQ(l->output(0)->dims(), (Dims{1, 7, 3, 4}));
  auto* c = n.add_input("c", DataType::kFLOAT, Dims{2, 3});
  EXPECT_EQ(add_concatenation(n, {c, c})->p.axis, 0);
}

TEST(Concatenation, RunTimeExtents) {
  Network n;
  auto* a = n.add_input("a", DataType::kFLOAT, Dims{-1, 3});
  auto* b = n.add_input("b", DataType::kFLOAT, Dims{2, -1});
  auto* l = add_concatenation(n, {a, b});
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3}));
  l->p.axis = 1;
  l->changed([] {});
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, -1}));
}

TEST(Concatenation, BadInputsNameThemselves) {
  Network n;
  auto* a = n.add_input("a", DataType::kFLOAT, Dims{2, 3});
  auto* b = n.add_input("b", DataType::kFLOAT, Dims{2, 4});
  auto* i = n.add_input("i", DataType::kINT32, Dims{2, 3});
  auto* r = n.add_input("r", DataType::kFLOAT, Dims{2, 3, 1});
  // (2, 3) and (2, 4) only join on axis 1: add_concatenation takes it (TensorRT code sets axis next).
  EXPECT_EQ(add_concatenation(n, {a, b})->p.axis, 1);
  auto* d = n.add_input("d", DataType::kFLOAT, Dims{3, 4});
  std::string m = error_of([&] { add_concatenation(n, {a, d}); });
  EXPECT_NE(m.find("add_concatenation"), std::string::npos) << m;
  EXPECT_NE(m.find("input 1"), std::string::npos) << m;
  EXPECT_NE(m.find("(3, 4)"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 3)"), std::string::npos) << m;
  m = error_of([&] { add_concatenation(n, {a, i}); });
  EXPECT_NE(m.find("int32"), std::string::npos) << m;
  m = error_of([&] { add_concatenation(n, {a, r}); });
  EXPECT_NE(m.find("rank"), std::string::npos) << m;
  m = error_of([&] { add_concatenation(n, {}); });
  EXPECT_NE(m.find("at least one input"), std::string::npos) << m;
  auto* l = add_concatenation(n, {a, a});
  l->p.axis = 2;
  m = error_of([&] { l->changed([&] { l->p.axis = 0; }); });
  EXPECT_NE(m.find("axis 2"), std::string::npos) << m;
  EXPECT_EQ(l->p.axis, 0);
  l->p.axis = 1;
  EXPECT_NO_THROW(l->changed([] {}));
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, 6}));
  // Concatenating along axis 1 makes b's extent 4 fine, but the other axis must still agree.
  auto* c = n.add_input("c", DataType::kFLOAT, Dims{3, 3});
  m = error_of([&] {
    auto* k = add_concatenation(n, {a, c});
    k->p.axis = 1;
    k->changed([] {});
  });
  EXPECT_NE(m.find("dimension 0"), std::string::npos) << m;
}

}  // namespace
}  // namespace t2t_test
