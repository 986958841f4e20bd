#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "harness.h"
#include "move_ref.h"

namespace t2t_test {
namespace {

// Independent reference on a window of n elements: reflection by repeated mirroring, circular by
// repeated shifting.
int64_t ref_source(PadMode mode, int64_t i, int64_t n) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::kCONSTANT: return -1;
    case PadMode::kREPLICATE: return i < 0 ? 0 : n - 1;
    case PadMode::kREFLECT:
      while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
      return i;
    case PadMode::kCIRCULAR:
      while (i < 0) i += n;
      while (i >= n) i -= n;
      return i;
  }
  return -1;
}

struct PadSpec {
  std::string name;
  Dims input, pre, post;
  PadMode mode = PadMode::kCONSTANT;
  double value = 0;
};

void run(const PadSpec& s, DataType dt) {
  OpCase c = movement_case(s.name, dt);
  c.inputs = {{dt, s.input}};
  c.build = [s](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_padding_nd(n, in[0], s.pre, s.post);
    l->p.mode = s.mode;
    l->p.value = s.value;
    l->changed([] {});
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [s](const std::vector<HostTensor>& in) {
    const HostTensor& x = in[0];
    int first = x.dims.nb_dims - s.pre.nb_dims;
    Dims od = x.dims;
    for (int j = 0; j < s.pre.nb_dims; ++j) od.d[first + j] += s.pre.d[j] + s.post.d[j];
    double fill = x.dtype == DataType::kBOOL ? (s.value != 0) : is_floating(x.dtype) ? s.value : std::trunc(s.value);
    return std::vector<HostTensor>{make_tensor(x.dtype, od, [&](const std::vector<int64_t>& y) {
      std::vector<int64_t> src = y;
      for (int j = 0; j < s.pre.nb_dims; ++j) {
        // torch.nn.functional.pad: crop first, then pad what is left.
        int a = first + j;
        int64_t lo = std::max<int64_t>(-s.pre.d[j], 0), hi = x.dims.d[a] - std::max<int64_t>(-s.post.d[j], 0);
        int64_t r = ref_source(s.mode, y[a] - std::max<int64_t>(s.pre.d[j], 0), hi - lo);
        if (r < 0) return fill;
        src[a] = lo + r;
      }
      return x.v[ravel(src, x.dims)];
    })};
  };
  check_op(LayerKind::kPadding, c);
}

TEST(Padding, ModesAndDtypes) {
  using P = PadMode;
  std::vector<PadSpec> specs = {
      {"zero_2d", Dims{2, 3, 4, 5}, Dims{1, 2}, Dims{2, 0}},
      {"value_1d", Dims{2, 3, 4}, Dims{3}, Dims{1}, P::kCONSTANT, 1.5},
      {"crop", Dims{2, 5, 6}, Dims{-1, 2}, Dims{1, -3}},
      {"reflect_2d", Dims{1, 2, 4, 5}, Dims{3, 1}, Dims{2, 4}, P::kREFLECT},
      {"replicate_3d", Dims{1, 2, 3, 2, 4}, Dims{2, 1, 0}, Dims{1, 3, 2}, P::kREPLICATE},
      {"circular_2d", Dims{2, 3, 4}, Dims{2, 4}, Dims{3, 1}, P::kCIRCULAR},
      {"circular_wraps_twice", Dims{2, 3}, Dims{5}, Dims{7}, P::kCIRCULAR},
      {"reflect_with_crop", Dims{3, 6}, Dims{-2}, Dims{3}, P::kREFLECT},
      {"circular_after_crop", Dims{3, 6}, Dims{-2, 2}, Dims{3, -1}, P::kCIRCULAR},
      {"replicate_after_crop", Dims{3, 6}, Dims{2, -3}, Dims{-1, 2}, P::kREPLICATE},
      {"reflect_after_crop", Dims{4, 6}, Dims{-1, 2}, Dims{2, -2}, P::kREFLECT},
      {"all_dims", Dims{2, 3}, Dims{1, 1}, Dims{1, 2}, P::kREPLICATE},
      {"nothing", Dims{2, 3}, Dims{}, Dims{}},
  };
  for (DataType dt : movement_dtypes())
    for (auto& s : specs) run(s, dt);
}

TEST(Padding, BadArgumentsNameThemselves) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 3, 4});
  std::string m = error_of([&] { add_padding_nd(n, x, Dims{1, 1}, Dims{1}); });
  EXPECT_NE(m.find("add_padding_nd"), std::string::npos) << m;
  EXPECT_NE(m.find("post_padding_nd"), std::string::npos) << m;
  m = error_of([&] { add_padding_nd(n, x, Dims{1, 1, 1, 1}, Dims{0, 0, 0, 0}); });
  EXPECT_NE(m.find("rank 3"), std::string::npos) << m;
  m = error_of([&] { add_padding_nd(n, x, Dims{-3}, Dims{-2}); });
  EXPECT_NE(m.find("cropping"), std::string::npos) << m;
  auto* l = add_padding_nd(n, x, Dims{1, 4}, Dims{0, 0});
  l->p.mode = PadMode::kREFLECT;
  m = error_of([&] { l->changed([&] { l->p.mode = PadMode::kCONSTANT; }); });
  EXPECT_NE(m.find("REFLECT needs padding smaller than the extent"), std::string::npos) << m;
  EXPECT_NE(m.find("dimension 2"), std::string::npos) << m;
  EXPECT_EQ(l->p.mode, PadMode::kCONSTANT);
  auto* i8 = n.add_input("i8", DataType::kINT8, Dims{2, 3});
  auto* k = add_padding_nd(n, i8, Dims{1}, Dims{1});
  k->p.value = 300;
  m = error_of([&] { k->changed([&] { k->p.value = 0; }); });
  EXPECT_NE(m.find("value"), std::string::npos) << m;
  EXPECT_NE(m.find("int8"), std::string::npos) << m;
  k->p.value = NAN;
  m = error_of([&] { k->changed([&] { k->p.value = 0; }); });
  EXPECT_NE(m.find("non-finite"), std::string::npos) << m;
  auto* e = n.add_input("e", DataType::kFLOAT, Dims{2, 0});
  auto* r = add_padding_nd(n, e, Dims{1}, Dims{1});
  EXPECT_EQ(r->output(0)->dims(), (Dims{2, 2}));
  r->p.mode = PadMode::kREPLICATE;
  m = error_of([&] { r->changed([&] { r->p.mode = PadMode::kCONSTANT; }); });
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
}

}  // namespace
}  // namespace t2t_test
