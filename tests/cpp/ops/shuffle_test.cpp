#include <gtest/gtest.h>

#include "harness.h"
#include "move_ref.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace t2t_test {
namespace {

struct ShuffleSpec {
  std::string name;
  Dims input;
  std::vector<int32_t> first;
  bool reshape = false;
  Dims reshape_dims;
  std::vector<int32_t> second;
  Dims reshaped;  // expected shape after the reshape (the reference's view)
};

void run(const ShuffleSpec& s, DataType dt) {
  OpCase c = movement_case(s.name, dt);
  c.inputs = {{dt, s.input}};
  c.build = [s](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_shuffle(n, in[0]);
    if (!s.first.empty()) {
      l->p.first_transpose = s.first;
      l->changed([] {});
    }
    if (s.reshape) l->set_reshape_dims(s.reshape_dims);
    if (!s.second.empty()) {
      l->p.second_transpose = s.second;
      l->changed([] {});
    }
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [s](const std::vector<HostTensor>& in) {
    HostTensor a = in[0];
    if (!s.first.empty()) a = ref_permute(a, std::vector<int>(s.first.begin(), s.first.end()));
    if (s.reshape) a.dims = s.reshaped;
    if (!s.second.empty()) a = ref_permute(a, std::vector<int>(s.second.begin(), s.second.end()));
    return std::vector<HostTensor>{a};
  };
  check_op(LayerKind::kShuffle, c);
}

TEST(Shuffle, TransposeReshapeTransposeAllDtypes) {
  std::vector<ShuffleSpec> specs = {
      {"identity", Dims{2, 3, 4}, {}, false, {}, {}, {}},
      {"reshape_0_-1", Dims{2, 3, 4}, {}, true, Dims{0, -1}, {}, Dims{2, 12}},
      {"flatten", Dims{2, 3, 4, 5}, {}, true, Dims{-1}, {}, Dims{120}},
      {"first_transpose", Dims{2, 3, 4}, {2, 0, 1}, false, {}, {}, {}},
      {"permute4d", Dims{2, 3, 4, 5}, {0, 2, 3, 1}, false, {}, {}, {}},
      {"reshape_then_second", Dims{2, 3, 4}, {}, true, Dims{6, 4}, {1, 0}, Dims{6, 4}},
      {"first_reshape_second", Dims{2, 3, 4}, {1, 0, 2}, true, Dims{3, 0, 2, 2}, {0, 3, 1, 2}, Dims{3, 2, 2, 2}},
      {"to_scalar_shape", Dims{1, 1}, {}, true, Dims{}, {}, Dims{}},
      {"from_scalar", Dims{}, {}, true, Dims{1, 1, 1}, {}, Dims{1, 1, 1}},
      {"pixel_shuffle_like", Dims{1, 8, 3, 3}, {}, true, Dims{1, 2, 2, 2, 3, 3}, {0, 1, 4, 2, 5, 3},
       Dims{1, 2, 2, 2, 3, 3}},
  };
  for (DataType dt : movement_dtypes())
    for (auto& s : specs) run(s, dt);
}

TEST(Shuffle, ZeroIsNotAPlaceholderWhenDisabled) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{0, 3});
  auto* l = add_shuffle(n, x);
  l->p.zero_is_placeholder = false;
  l->set_reshape_dims(Dims{3, 0});
  EXPECT_EQ(l->output(0)->dims(), (Dims{3, 0}));
  // With placeholders the 0 would copy the 3: (3, 3) does not hold 0 elements, and the change is undone.
  l->p.zero_is_placeholder = true;
  std::string m = error_of([&] { l->changed([&] { l->p.zero_is_placeholder = false; }); });
  EXPECT_NE(m.find("(3, 3)"), std::string::npos) << m;
  EXPECT_FALSE(l->p.zero_is_placeholder);
}

TEST(Shuffle, ShapeTensorFromConstant) {
  for (DataType idx : {DataType::kINT32, DataType::kINT64}) {
    OpCase c = movement_case(std::string("shape_tensor_") + dtype_name(idx), DataType::kFLOAT);
    c.inputs = {{DataType::kFLOAT, Dims{2, 3, 4}}};
    c.build = [idx](Network& n, const std::vector<Tensor*>& in) {
      std::vector<int64_t> v = {0, 4, -1};
      Weights w = idx == DataType::kINT64 ? Weights(DataType::kINT64, v.data(), 3)
                                          : Weights(DataType::kINT32, std::vector<int32_t>{0, 4, -1}.data(), 3);
      auto* shape = add_constant(n, Dims{3}, w)->output(0);
      auto* l = add_shuffle(n, in[0]);
      l->p.second_transpose = {0, 2, 1};
      l->changed([] {});
      l->set_input(1, shape);
      return std::vector<Tensor*>{l->output(0)};
    };
    c.reference = [](const std::vector<HostTensor>& in) {
      HostTensor a = in[0];
      a.dims = Dims{2, 4, 3};
      return std::vector<HostTensor>{ref_permute(a, {0, 2, 1})};
    };
    check_op(LayerKind::kShuffle, c);
  }
}

TEST(Shuffle, SetReshapeDimsDropsTheShapeTensor) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 6});
  std::vector<int32_t> v = {3, 4};
  auto* shape = add_constant(n, Dims{2}, Weights(DataType::kINT32, v.data(), 2))->output(0);
  auto* l = add_shuffle(n, x);
  l->set_input(1, shape);
  EXPECT_EQ(l->output(0)->dims(), (Dims{3, 4}));
  l->set_reshape_dims(Dims{12});
  EXPECT_EQ(l->input(1), nullptr);
  EXPECT_EQ(l->output(0)->dims(), (Dims{12}));
}

TEST(Shuffle, EverySetterOrderStaysValid) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 3, 4});
  // reshape_dims then second_transpose
  auto* a = add_shuffle(n, x);
  a->set_reshape_dims(Dims{6, 4});
  a->p.second_transpose = {1, 0};
  a->changed([] {});
  EXPECT_EQ(a->output(0)->dims(), (Dims{4, 6}));
  // first_transpose then reshape_dims (0 copies the transposed extent)
  auto* b = add_shuffle(n, x);
  b->p.first_transpose = {2, 0, 1};
  b->changed([] {});
  EXPECT_EQ(b->output(0)->dims(), (Dims{4, 2, 3}));
  b->set_reshape_dims(Dims{0, -1});
  EXPECT_EQ(b->output(0)->dims(), (Dims{4, 6}));
  // second_transpose given before a rank-changing reshape: a shorter permutation permutes leading dims
  auto* c = add_shuffle(n, x);
  c->p.second_transpose = {1, 0};
  c->changed([] {});
  EXPECT_EQ(c->output(0)->dims(), (Dims{3, 2, 4}));
  c->set_reshape_dims(Dims{4, 6});
  EXPECT_EQ(c->output(0)->dims(), (Dims{6, 4}));
  // TensorRT-style 8-entry permutation padded with the identity
  auto* d = add_shuffle(n, x);
  d->p.first_transpose = {1, 0, 2, 3, 4, 5, 6, 7};
  d->changed([] {});
  EXPECT_EQ(d->output(0)->dims(), (Dims{3, 2, 4}));
}

TEST(Shuffle, RunTimeDimsStayUnknownUntilRun) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{-1, 3, 4});
  auto* l = add_shuffle(n, x);
  l->set_reshape_dims(Dims{0, -1});
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 12}));
  auto* m = add_shuffle(n, x);
  m->set_reshape_dims(Dims{-1, 2});
  EXPECT_EQ(m->output(0)->dims(), (Dims{-1, 2}));
  m->p.second_transpose = {1, 0};
  m->changed([] {});
  m->output(0)->set_name("y");
  n.mark_output(m->output(0));
  auto bytes = Builder().build_serialized(n, BuilderConfig());
  auto engine = Engine::deserialize(bytes.data(), bytes.size());
  auto ctx = engine->create_execution_context();
  ctx->set_input_shape("x", Dims{2, 3, 4});
  EXPECT_EQ(ctx->tensor_shape("y"), (Dims{2, 12}));
  std::vector<float> in(24), out(24, -1.f);
  for (int i = 0; i < 24; ++i) in[i] = static_cast<float>(i);
  ctx->set_tensor_address("x", in.data());
  ctx->set_tensor_address("y", out.data());
  ctx->enqueue(nullptr);
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 2; ++j) EXPECT_EQ(out[j * 12 + i], in[i * 2 + j]);
  ctx->set_input_shape("x", Dims{5, 3, 4});
  EXPECT_EQ(ctx->tensor_shape("y"), (Dims{2, 30}));
}

TEST(Shuffle, BadArgumentsNameThemselves) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 3, 4});
  auto* l = add_shuffle(n, x);
  std::string m = error_of([&] { l->set_reshape_dims(Dims{5, -1}); });
  EXPECT_NE(m.find("reshape_dims"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 3, 4)"), std::string::npos) << m;
  EXPECT_FALSE(l->p.has_reshape) << "an invalid value must be rolled back";
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, 3, 4}));
  m = error_of([&] { l->set_reshape_dims(Dims{-1, -1}); });
  EXPECT_NE(m.find("more than one -1"), std::string::npos) << m;
  m = error_of([&] { l->set_reshape_dims(Dims{7, 8}); });
  EXPECT_NE(m.find("24 elements"), std::string::npos) << m;
  m = error_of([&] {
    l->p.first_transpose = {0, 0, 1};
    l->changed([&] { l->p.first_transpose.clear(); });
  });
  EXPECT_NE(m.find("first_transpose"), std::string::npos) << m;
  EXPECT_NE(m.find("(0, 0, 1)"), std::string::npos) << m;
  m = error_of([&] {
    l->p.second_transpose = {0, 1, 2, 4};
    l->changed([&] { l->p.second_transpose.clear(); });
  });
  EXPECT_NE(m.find("second_transpose"), std::string::npos) << m;
  // A shape tensor that is not a constant cannot be read when building.
  auto* s = n.add_input("s", DataType::kINT32, Dims{2});
  m = error_of([&] { l->set_input(1, s); });
  EXPECT_NE(m.find("input 1 (shape tensor)"), std::string::npos) << m;
  EXPECT_NE(m.find("network input"), std::string::npos) << m;
  EXPECT_EQ(l->num_inputs(), 1);
  auto* f = add_constant(n, Dims{2}, Weights::f32({3, 8}))->output(0);
  auto* later = add_shuffle(n, x);
  m = error_of([&] { later->set_input(1, f); });
  EXPECT_NE(m.find("int32 or int64"), std::string::npos) << m;
}

}  // namespace
}  // namespace t2t_test
