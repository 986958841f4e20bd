#include <gtest/gtest.h>

#include <cmath>

#include "harness.h"

namespace t2t_test {
namespace {

using CT = ResizeCoordinateTransformation;
using RM = ResizeRoundMode;
using IM = InterpolationMode;

struct Tap {
  int64_t i;
  double w;
};

// Taps of one output index along one dim, straight from the formulas (source coordinates in float32
// as PyTorch computes them, weights in double).
std::vector<Tap> ref_taps(const ResizeParams& p, int64_t in, int64_t out, double scale, int64_t j) {
  float s;
  if (p.coordinate_transformation == CT::kALIGN_CORNERS)
    s = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.f;
  else
    s = scale > 0 ? static_cast<float>(1.0 / scale) : static_cast<float>(in) / static_cast<float>(out);
  float xf;
  if (out == 1 && p.selector_for_single_pixel == ResizeSelector::kUPPER)
    xf = 0.f;
  else if (p.coordinate_transformation == CT::kHALF_PIXEL)
    xf = s * (static_cast<float>(j) + 0.5f) - 0.5f;
  else
    xf = static_cast<float>(j) * s;
  double x = xf;
  auto clampi = [&](int64_t k) { return std::min(std::max<int64_t>(k, 0), in - 1); };
  if (p.mode == IM::kNEAREST) {
    double r = p.nearest_rounding == RM::kHALF_UP     ? std::floor(x + 0.5)
               : p.nearest_rounding == RM::kHALF_DOWN ? std::ceil(x - 0.5)
               : p.nearest_rounding == RM::kFLOOR     ? std::floor(x)
                                                      : std::ceil(x);
    return {{clampi(static_cast<int64_t>(r)), 1.0}};
  }
  if (p.mode == IM::kLINEAR) {
    x = std::max(x, 0.0);
    int64_t i0 = std::min(static_cast<int64_t>(std::floor(x)), in - 1);
    double t = std::min(std::max(x - i0, 0.0), 1.0);
    return {{i0, 1 - t}, {clampi(i0 + 1), t}};
  }
  int64_t i0 = std::min(static_cast<int64_t>(std::floor(x)), in - 1);
  double t = std::min(std::max(x - i0, 0.0), 1.0), a = p.cubic_coeff;
  auto near = [&](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };
  auto far = [&](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };
  double w[4] = {far(t + 1), near(t), near(1 - t), far(2 - t)};
  std::vector<Tap> taps;
  double kept = 0;
  for (int q = 0; q < 4; ++q) {
    int64_t src = i0 - 1 + q;
    if (p.exclude_outside && (src < 0 || src >= in)) continue;
    taps.push_back({clampi(src), w[q]});
    kept += w[q];
  }
  if (p.exclude_outside)
    for (auto& tp : taps) tp.w /= kept;
  return taps;
}

// Direct (not separable) evaluation: each output element sums over the product of its per-dim taps.
HostTensor ref_resize(const ResizeParams& p, const HostTensor& x, const Dims& out) {
  HostTensor y;
  y.dtype = x.dtype;
  y.dims = out;
  y.v.resize(out.volume());
  int r = out.nb_dims;
  std::vector<int64_t> idx(r, 0);
  for (int64_t k = 0; k < out.volume(); ++k) {
    int64_t rem = k;
    for (int d = r - 1; d >= 0; --d) idx[d] = rem % out.d[d], rem /= out.d[d];
    std::vector<std::vector<Tap>> taps(r);
    for (int d = 0; d < r; ++d)
      taps[d] = ref_taps(p, x.dims.d[d], out.d[d], p.scales.empty() ? 0.0 : p.scales[d], idx[d]);
    double acc = 0;
    std::vector<size_t> sel(r, 0);
    while (true) {
      double w = 1;
      int64_t off = 0;
      for (int d = 0; d < r; ++d) {
        w *= taps[d][sel[d]].w;
        off = off * x.dims.d[d] + taps[d][sel[d]].i;
      }
      acc += w * x.v[off];
      int d = r - 1;
      while (d >= 0 && ++sel[d] == taps[d].size()) sel[d--] = 0;
      if (d < 0) break;
    }
    y.v[k] = acc;
  }
  return y;
}

// Runs one resize case; `set` fills the parameters (shape or scales, mode, ...).
void run(const std::string& name, DataType dt, Dims in, const std::function<void(ResizeParams&)>& set) {
  OpCase c;
  c.variant = name;
  c.inputs = {{dt, in}};
  auto out = std::make_shared<Dims>();
  auto params = std::make_shared<ResizeParams>();
  c.build = [set, out, params](Network& n, const std::vector<Tensor*>& ins) {
    auto* l = add_resize(n, ins[0]);
    set(l->p);
    l->changed([] {});
    *out = l->output(0)->dims();
    *params = l->p;
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [out, params](const std::vector<HostTensor>& x) {
    return std::vector<HostTensor>{ref_resize(*params, x[0], *out)};
  };
  // Nearest results are gathers: they must be bit-identical.
  ResizeParams probe;
  set(probe);
  c.exact = probe.mode == IM::kNEAREST;
  check_op(LayerKind::kResize, c);
}

TEST(Resize, NearestAllRoundingsAndTransforms) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16, DataType::kINT32, DataType::kINT8,
                      DataType::kINT64, DataType::kBOOL}) {
    for (RM rm : {RM::kFLOOR, RM::kHALF_UP, RM::kHALF_DOWN, RM::kCEIL}) {
      for (CT ct : {CT::kASYMMETRIC, CT::kHALF_PIXEL, CT::kALIGN_CORNERS}) {
        std::string tag = "nearest_r" + std::to_string(static_cast<int>(rm)) + "_" +
                          resize_coordinate_transformation_name(ct);
        run(tag + "_up", dt, Dims{1, 2, 5, 7}, [=](ResizeParams& p) {
          p.shape = Dims{1, 2, 11, 16};
          p.nearest_rounding = rm;
          p.coordinate_transformation = ct;
        });
        run(tag + "_down_scales", dt, Dims{2, 3, 9, 8}, [=](ResizeParams& p) {
          p.scales = {1, 1, 0.45, 0.7};
          p.nearest_rounding = rm;
          p.coordinate_transformation = ct;
        });
      }
    }
  }
}

TEST(Resize, Nearest1D3DAndNonTrailingDims) {
  run("nearest_1d_scale", DataType::kFLOAT, Dims{2, 3, 6}, [](ResizeParams& p) { p.scales = {1, 1, 2.5}; });
  run("nearest_3d", DataType::kFLOAT, Dims{1, 2, 3, 4, 5}, [](ResizeParams& p) { p.shape = Dims{1, 2, 6, 7, 3}; });
  run("nearest_dims_0_2", DataType::kINT32, Dims{4, 3, 5}, [](ResizeParams& p) { p.shape = Dims{7, 3, 2}; });
  run("nearest_rank1", DataType::kFLOAT, Dims{9}, [](ResizeParams& p) { p.scales = {1.7}; });
}

TEST(Resize, LinearMatchesReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    for (CT ct : {CT::kHALF_PIXEL, CT::kALIGN_CORNERS, CT::kASYMMETRIC}) {
      std::string tag = std::string("linear_") + resize_coordinate_transformation_name(ct);
      auto mode = [ct](ResizeParams& p) {
        p.mode = IM::kLINEAR;
        p.coordinate_transformation = ct;
      };
      run(tag + "_1d", dt, Dims{2, 3, 9}, [=](ResizeParams& p) { mode(p), p.shape = Dims{2, 3, 20}; });
      run(tag + "_1d_scale", dt, Dims{2, 3, 9}, [=](ResizeParams& p) { mode(p), p.scales = {1, 1, 1.7}; });
      run(tag + "_2d_up", dt, Dims{1, 3, 6, 7}, [=](ResizeParams& p) { mode(p), p.shape = Dims{1, 3, 13, 15}; });
      run(tag + "_2d_down", dt, Dims{2, 2, 13, 11}, [=](ResizeParams& p) { mode(p), p.shape = Dims{2, 2, 5, 4}; });
      run(tag + "_2d_mixed_scales", dt, Dims{1, 2, 8, 9}, [=](ResizeParams& p) { mode(p), p.scales = {1, 1, 0.6, 2.3}; });
      run(tag + "_3d", dt, Dims{1, 2, 4, 5, 6}, [=](ResizeParams& p) { mode(p), p.shape = Dims{1, 2, 7, 3, 11}; });
      run(tag + "_to_1", dt, Dims{1, 2, 5, 6}, [=](ResizeParams& p) { mode(p), p.shape = Dims{1, 2, 1, 1}; });
      run(tag + "_from_1", dt, Dims{1, 2, 1, 3}, [=](ResizeParams& p) { mode(p), p.shape = Dims{1, 2, 4, 5}; });
      run(tag + "_dims_0_1", dt, Dims{4, 5, 3}, [=](ResizeParams& p) { mode(p), p.shape = Dims{6, 2, 3}; });
    }
  }
}

TEST(Resize, CubicMatchesReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF}) {
    for (CT ct : {CT::kHALF_PIXEL, CT::kALIGN_CORNERS, CT::kASYMMETRIC}) {
      std::string tag = std::string("cubic_") + resize_coordinate_transformation_name(ct);
      auto mode = [ct](ResizeParams& p) {
        p.mode = IM::kCUBIC;
        p.coordinate_transformation = ct;
      };
      run(tag + "_2d_up", dt, Dims{1, 3, 6, 7}, [=](ResizeParams& p) { mode(p), p.shape = Dims{1, 3, 13, 15}; });
      run(tag + "_2d_down", dt, Dims{2, 2, 13, 11}, [=](ResizeParams& p) { mode(p), p.shape = Dims{2, 2, 5, 4}; });
      run(tag + "_scales", dt, Dims{1, 2, 7, 5}, [=](ResizeParams& p) { mode(p), p.scales = {1, 1, 1.5, 2.2}; });
      run(tag + "_coeff_-0.5", dt, Dims{1, 2, 6, 6}, [=](ResizeParams& p) {
        mode(p), p.shape = Dims{1, 2, 9, 4};
        p.cubic_coeff = -0.5f;
      });
      run(tag + "_exclude_outside", dt, Dims{1, 2, 6, 6}, [=](ResizeParams& p) {
        mode(p), p.shape = Dims{1, 2, 11, 4};
        p.exclude_outside = true;
      });
      run(tag + "_1d_and_3d", dt, Dims{2, 3, 4, 6}, [=](ResizeParams& p) { mode(p), p.shape = Dims{3, 3, 7, 2}; });
    }
  }
}

TEST(Resize, SingleOutputPixelSelector) {
  for (IM m : {IM::kNEAREST, IM::kLINEAR, IM::kCUBIC}) {
    for (ResizeSelector sel : {ResizeSelector::kFORMULA, ResizeSelector::kUPPER}) {
      run(std::string("single_pixel_") + interpolation_mode_name(m) + "_" + std::to_string(static_cast<int>(sel)),
          DataType::kFLOAT, Dims{1, 2, 5, 6}, [=](ResizeParams& p) {
            p.mode = m;
            p.coordinate_transformation = CT::kHALF_PIXEL;
            p.nearest_rounding = RM::kHALF_UP;
            p.selector_for_single_pixel = sel;
            p.shape = Dims{1, 2, 1, 3};
          });
    }
  }
}

TEST(Resize, IdentityAndDefaultShape) {
  run("default_is_identity", DataType::kFLOAT, Dims{2, 3, 4}, [](ResizeParams& p) { p.mode = IM::kLINEAR; });
  run("all_scales_1", DataType::kFLOAT, Dims{2, 3, 4}, [](ResizeParams& p) {
    p.mode = IM::kCUBIC;
    p.scales = {1, 1, 1};
  });
}

TEST(Resize, ShapeRule) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{-1, 3, 10, 7});
  auto* l = add_resize(n, x);
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3, 10, 7}));
  l->p.scales = {1, 1, 2.5, 0.5};
  l->changed([] {});
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3, 25, 3}));  // floor(7 * 0.5) = 3, -1 stays -1
  // floor(in * scale) is taken in double as torch does: 10 * 0.7 is 7, not 6.
  l->p.scales = {1, 1, 0.7, 1};
  l->changed([] {});
  EXPECT_EQ(l->output(0)->dims().d[2], 7);
}

TEST(Resize, RejectsBadArguments) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{1, 3, 4, 4});
  auto* xi = n.add_input("xi", DataType::kINT32, Dims{1, 3, 4, 4});
  auto* l = add_resize(n, x);
  auto expect_bad = [&](const std::function<void(ResizeParams&)>& set, const std::string& needle) {
    ResizeParams old = l->p;
    try {
      set(l->p);
      l->changed([&] { l->p = old; });
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(l->output(0)->dims(), (Dims{1, 3, 4, 4}));  // the old value came back
  };
  expect_bad([](ResizeParams& p) { p.shape = Dims{1, 3, 8}; }, "shape");
  expect_bad([](ResizeParams& p) { p.scales = {1, 1, 2}; }, "scales");
  expect_bad([](ResizeParams& p) { p.scales = {1, 1, 0, 1}; }, "must be finite and > 0");
  expect_bad([](ResizeParams& p) { p.scales = {1, 1, 0.1, 1}; }, "into 0");
  expect_bad([](ResizeParams& p) { p.shape = Dims{1, 3, 8, 8}, p.scales = {1, 1, 2, 2}; }, "set only one");
  expect_bad([](ResizeParams& p) { p.mode = static_cast<IM>(7); }, "resize_mode");
  expect_bad([](ResizeParams& p) { p.coordinate_transformation = static_cast<CT>(-1); }, "coordinate_transformation");
  expect_bad([](ResizeParams& p) { p.nearest_rounding = static_cast<RM>(4); }, "nearest_rounding");
  expect_bad([](ResizeParams& p) { p.cubic_coeff = NAN; }, "cubic_coeff");
  auto* li = add_resize(n, xi);
  li->p.mode = IM::kLINEAR;
  EXPECT_THROW(li->changed([&] { li->p.mode = IM::kNEAREST; }), InvalidArgument);
  EXPECT_EQ(li->p.mode, IM::kNEAREST);
  auto* s = n.add_input("s", DataType::kFLOAT, Dims{});
  EXPECT_THROW(add_resize(n, s), InvalidArgument);
}

}  // namespace
}  // namespace t2t_test
