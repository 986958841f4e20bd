#include <gtest/gtest.h>

#include "harness.h"
#include "move_ref.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace t2t_test {
namespace {

// Independent reference of the coordinate rules: reflection by repeated mirroring.
int64_t ref_coordinate(SampleMode mode, int64_t x, int64_t d) {
  if (x >= 0 && x < d) return x;
  switch (mode) {
    case SampleMode::kSTRICT_BOUNDS: ADD_FAILURE() << "strict slice read out of bounds"; return -1;
    case SampleMode::kFILL: return -1;
    case SampleMode::kCLAMP: return x < 0 ? 0 : d - 1;
    case SampleMode::kWRAP: {
      while (x < 0) x += d;
      return x % d;
    }
    case SampleMode::kREFLECT:
      if (d == 1) return 0;
      while (x < 0 || x >= d) x = x < 0 ? -x : 2 * (d - 1) - x;
      return x;
  }
  return -1;
}

HostTensor ref_slice(const HostTensor& x, const Dims& start, const Dims& shape, const Dims& stride, SampleMode mode,
                     double fill) {
  return make_tensor(x.dtype, shape, [&](const std::vector<int64_t>& y) {
    std::vector<int64_t> src(y.size());
    for (size_t i = 0; i < y.size(); ++i) {
      src[i] = ref_coordinate(mode, start.d[i] + y[i] * stride.d[i], x.dims.d[i]);
      if (src[i] < 0) return fill;
    }
    return x.v[ravel(src, x.dims)];
  });
}

struct SliceSpec {
  std::string name;
  Dims input, start, shape, stride;
  SampleMode mode = SampleMode::kSTRICT_BOUNDS;
};

void run(const SliceSpec& s, DataType dt, bool fill_input = false) {
  OpCase c = movement_case(s.name + (fill_input ? "_fill_input" : ""), dt);
  c.inputs = {{dt, s.input}};
  double fill = 0;
  if (fill_input) {
    fill = dt == DataType::kBOOL ? 1 : 3;
    c.inputs.push_back({dt, Dims{}});
    c.fixed = {{}, {fill}};
  }
  c.build = [s](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_slice(n, in[0], s.start, s.shape, s.stride);
    l->p.mode = s.mode;
    l->changed([] {});
    if (in.size() > 1) l->set_input(4, in[1]);
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [s, fill](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{ref_slice(in[0], s.start, s.shape, s.stride, s.mode, fill)};
  };
  check_op(LayerKind::kSlice, c);
}

TEST(Slice, StridesAndModesAllDtypes) {
  using M = SampleMode;
  std::vector<SliceSpec> specs = {
      {"window", Dims{4, 5, 6}, Dims{1, 0, 2}, Dims{2, 5, 3}, Dims{1, 1, 1}},
      {"every_other", Dims{3, 8}, Dims{0, 0}, Dims{3, 4}, Dims{1, 2}},
      {"flip_last", Dims{2, 3, 5}, Dims{0, 0, 4}, Dims{2, 3, 5}, Dims{1, 1, -1}},
      {"flip_strided", Dims{7, 4}, Dims{6, 3}, Dims{4, 2}, Dims{-2, -3}},
      {"repeat_stride0", Dims{3, 4}, Dims{1, 0}, Dims{5, 4}, Dims{0, 1}},
      {"empty", Dims{3, 4}, Dims{0, 0}, Dims{0, 4}, Dims{1, 1}},
      {"wrap", Dims{3, 4}, Dims{-4, -2}, Dims{9, 10}, Dims{1, 1}, M::kWRAP},
      {"clamp", Dims{3, 4}, Dims{-2, 2}, Dims{7, 5}, Dims{1, 1}, M::kCLAMP},
      {"fill", Dims{3, 4}, Dims{-1, -2}, Dims{5, 8}, Dims{1, 1}, M::kFILL},
      {"reflect", Dims{3, 4}, Dims{-7, -5}, Dims{17, 15}, Dims{1, 1}, M::kREFLECT},
      {"reflect_single", Dims{1, 4}, Dims{-2, 0}, Dims{5, 4}, Dims{1, 1}, M::kREFLECT},
      {"reflect_negative_stride", Dims{5}, Dims{7}, Dims{12}, Dims{-1}, M::kREFLECT},
  };
  for (DataType dt : movement_dtypes())
    for (auto& s : specs) run(s, dt);
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kINT64, DataType::kBOOL})
    run({"fill", Dims{3, 4}, Dims{-1, -2}, Dims{5, 8}, Dims{1, 1}, SampleMode::kFILL}, dt, true);
}

TEST(Slice, ShapeInputsFromConstants) {
  OpCase c = movement_case("constant_start_shape_stride", DataType::kFLOAT);
  c.inputs = {{DataType::kFLOAT, Dims{6, 5}}};
  c.build = [](Network& n, const std::vector<Tensor*>& in) {
    std::vector<int64_t> start = {5, 1}, shape = {3, 2}, stride = {-2, 2};
    auto* s0 = add_constant(n, Dims{2}, Weights(DataType::kINT64, start.data(), 2))->output(0);
    auto* s1 = add_constant(n, Dims{2}, Weights(DataType::kINT64, shape.data(), 2))->output(0);
    std::vector<int32_t> st32(stride.begin(), stride.end());
    auto* s2 = add_constant(n, Dims{2}, Weights(DataType::kINT32, st32.data(), 2))->output(0);
    auto* l = add_slice(n, in[0], Dims{0, 0}, Dims{1, 1}, Dims{1, 1});
    l->set_input(1, s0);
    l->set_input(2, s1);
    l->set_input(3, s2);
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{
        ref_slice(in[0], Dims{5, 1}, Dims{3, 2}, Dims{-2, 2}, SampleMode::kSTRICT_BOUNDS, 0)};
  };
  check_op(LayerKind::kSlice, c);
}

TEST(Slice, BadArgumentsNameThemselves) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{3, 4});
  std::string m = error_of([&] { add_slice(n, x, Dims{0}, Dims{3}, Dims{1}); });
  EXPECT_NE(m.find("start"), std::string::npos) << m;
  EXPECT_NE(m.find("rank 2"), std::string::npos) << m;
  m = error_of([&] { add_slice(n, x, Dims{0, 0}, Dims{-1, 2}, Dims{1, 1}); });
  EXPECT_NE(m.find("negative extent"), std::string::npos) << m;
  auto* l = add_slice(n, x, Dims{0, 0}, Dims{3, 4}, Dims{1, 1});
  l->p.mode = static_cast<SampleMode>(9);
  m = error_of([&] { l->changed([&] { l->p.mode = SampleMode::kCLAMP; }); });
  EXPECT_NE(m.find("mode"), std::string::npos) << m;
  // A fill value outside FILL mode would be ignored: refused.
  auto* f = n.add_input("f", DataType::kFLOAT, Dims{});
  auto* k = add_slice(n, x, Dims{0, 0}, Dims{3, 4}, Dims{1, 1});
  m = error_of([&] { k->set_input(4, f); });
  EXPECT_NE(m.find("FILL"), std::string::npos) << m;
  // Sampling an empty axis has nothing to read.
  auto* e = n.add_input("e", DataType::kFLOAT, Dims{0, 4});
  auto* w = add_slice(n, e, Dims{0, 0}, Dims{0, 4}, Dims{1, 1});
  w->p.shape = Dims{2, 4};
  w->p.mode = SampleMode::kWRAP;
  m = error_of([&] { w->changed([&] { w->p.shape = Dims{0, 4}; }); });
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
  // Start and size computed at run time are not supported.
  auto* dyn = n.add_input("start", DataType::kINT32, Dims{2});
  auto* d = add_slice(n, x, Dims{0, 0}, Dims{3, 4}, Dims{1, 1});
  m = error_of([&] { d->set_input(1, dyn); });
  EXPECT_NE(m.find("input 1 (start)"), std::string::npos) << m;
}

// TensorRT code adds a slice that reads past the edges and sets the mode afterwards, so STRICT_BOUNDS
// is enforced when the engine is built (and run, for run-time extents), not by add_slice.
TEST(Slice, StrictBoundsAreCheckedWhenBuilding) {
  {
    Network n;
    auto* x = n.add_input("x", DataType::kFLOAT, Dims{3, 4});
    auto* l = add_slice(n, x, Dims{-1, 0}, Dims{5, 4}, Dims{1, 1});
    l->p.mode = SampleMode::kFILL;
    EXPECT_NO_THROW(l->changed([] {}));
    l->output(0)->set_name("y");
    n.mark_output(l->output(0));
    EXPECT_NO_THROW(Builder().build(n, BuilderConfig()));
    l->p.mode = SampleMode::kSTRICT_BOUNDS;
    l->changed([] {});
    std::string m;
    try {
      Builder().build(n, BuilderConfig());
    } catch (const InvalidArgument& e) {
      m = e.what();
    }
    EXPECT_NE(m.find("Slice layer"), std::string::npos) << m;
    EXPECT_NE(m.find("coordinate -1"), std::string::npos) << m;
    EXPECT_NE(m.find("(3, 4)"), std::string::npos) << m;
    EXPECT_NE(m.find("FILL, CLAMP"), std::string::npos) << m;
    l->p.start = Dims{0, 2};
    l->p.shape = Dims{3, 3};
    l->changed([] {});
    m.clear();
    try {
      Builder().build(n, BuilderConfig());
    } catch (const InvalidArgument& e) {
      m = e.what();
    }
    EXPECT_NE(m.find("coordinate 4"), std::string::npos) << m;
  }
  {
    Network n;
    auto* x = n.add_input("x", DataType::kFLOAT, Dims{-1, 4});
    auto* l = add_slice(n, x, Dims{2, 0}, Dims{3, 4}, Dims{-1, 1});
    EXPECT_EQ(l->output(0)->dims(), (Dims{3, 4}));
    l->output(0)->set_name("y");
    n.mark_output(l->output(0));
    auto e = Builder().build(n, BuilderConfig());
    auto ctx = e->create_execution_context();
    std::vector<float> in(16), out(12);
    for (int i = 0; i < 16; ++i) in[i] = static_cast<float>(i);
    ctx->set_tensor_address("x", in.data());
    ctx->set_tensor_address("y", out.data());
    ctx->set_input_shape("x", Dims{4, 4});
    ctx->enqueue(nullptr);
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(out[r * 4 + k], in[(2 - r) * 4 + k]);
    ctx->set_input_shape("x", Dims{2, 4});  // row 2 does not exist now
    std::string m;
    try {
      ctx->enqueue(nullptr);
    } catch (const RuntimeFailure& err) {
      m = err.what();
    }
    EXPECT_NE(m.find("coordinate 2"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace t2t_test
