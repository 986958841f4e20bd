#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "channels_last_ref.h"
#include "cpu_paths.h"

namespace t2t_test {
namespace {

int64_t fdiv(int64_t a, int64_t b) { return static_cast<int64_t>(std::floor(static_cast<double>(a) / b)); }
int64_t cdiv(int64_t a, int64_t b) { return static_cast<int64_t>(std::ceil(static_cast<double>(a) / b)); }

struct PoolSpec {
  std::string name;
  PoolingType type = PoolingType::kMAX;
  std::vector<int64_t> shape;  // full input shape; the last win.size() dimensions are pooled
  std::vector<int64_t> win, stride, pre, post, dil;  // empty: stride = window, pads 0, dilation 1
  bool ceil = false;                                 // EXPLICIT_ROUND_UP (torch ceil_mode=True)
  bool exclude_padding = true;
  float blend = 0.f;
  bool adaptive = false;
  std::vector<int64_t> out_size;  // adaptive

  int nsp() const { return static_cast<int>(adaptive ? out_size.size() : win.size()); }
  int64_t at(const std::vector<int64_t>& v, int i, int64_t dflt) const { return v.empty() ? dflt : v[i]; }
  int64_t s(int i) const { return at(stride, i, win[i]); }
  int64_t d(int i) const { return at(dil, i, 1); }
};

// Output extent, written from PyTorch's pooling_output_shape (with its ceil-mode rule).
int64_t pool_out(const PoolSpec& p, int i, int64_t in) {
  if (p.adaptive) return p.out_size[i];
  int64_t pre = p.at(p.pre, i, 0), post = p.at(p.post, i, 0), w = p.d(i) * (p.win[i] - 1) + 1, st = p.s(i);
  int64_t span = in + pre + post - w;
  int64_t out = (p.ceil ? cdiv(span, st) : fdiv(span, st)) + 1;
  if (p.ceil && (out - 1) * st >= in + pre) --out;
  return out;
}

// float64 pooling over the trailing dims; everything before them is an independent plane.
HostTensor ref_pool(const PoolSpec& p, const HostTensor& x) {
  int nsp = p.nsp(), rank = x.dims.nb_dims, first = rank - nsp;
  std::vector<int64_t> in(nsp), out(nsp);
  int64_t planes = 1, isp = 1, osp = 1;
  for (int i = 0; i < first; ++i) planes *= x.dims.d[i];
  HostTensor y;
  y.dtype = x.dtype;
  y.dims = x.dims;
  for (int i = 0; i < nsp; ++i) {
    in[i] = x.dims.d[first + i];
    out[i] = pool_out(p, i, in[i]);
    y.dims.d[first + i] = out[i];
    isp *= in[i];
    osp *= out[i];
  }
  y.v.resize(static_cast<size_t>(planes * osp));
  std::vector<int64_t> o(nsp), lo(nsp), cnt(nsp), step(nsp), padded(nsp), t(nsp);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t ol = 0; ol < osp; ++ol) {
      int64_t r = ol;
      for (int i = nsp - 1; i >= 0; --i) o[i] = r % out[i], r /= out[i];
      // Per dimension: the taps as (first index, count, step) and torch's padded window length.
      for (int i = 0; i < nsp; ++i) {
        if (p.adaptive) {
          int64_t s = static_cast<int64_t>(std::floor(static_cast<double>(o[i] * in[i]) / out[i]));
          int64_t e = static_cast<int64_t>(std::ceil(static_cast<double>((o[i] + 1) * in[i]) / out[i]));
          lo[i] = s, cnt[i] = e - s, step[i] = 1, padded[i] = e - s;
          continue;
        }
        int64_t start = o[i] * p.s(i) - p.at(p.pre, i, 0);
        std::vector<int64_t> taps;
        for (int64_t k = 0; k < p.win[i]; ++k) {
          int64_t q = start + k * p.d(i);
          if (q >= 0 && q < in[i]) taps.push_back(q);
        }
        lo[i] = taps.empty() ? 0 : taps[0], cnt[i] = static_cast<int64_t>(taps.size()), step[i] = p.d(i);
        padded[i] = std::min(start + p.win[i], in[i] + p.at(p.post, i, 0)) - start;
      }
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      int64_t n = 1, npad = 1;
      for (int i = 0; i < nsp; ++i) n *= cnt[i], npad *= padded[i];
      for (int64_t tl = 0; tl < n; ++tl) {
        int64_t rr = tl, off = 0;
        for (int i = nsp - 1; i >= 0; --i) t[i] = rr % cnt[i], rr /= cnt[i];
        for (int i = 0; i < nsp; ++i) off = off * in[i] + lo[i] + t[i] * step[i];
        double v = x.v[pl * isp + off];
        if (!std::isnan(mx) && (v > mx || std::isnan(v))) mx = v;  // NaN propagates, as in PyTorch
        sum += v;
      }
      double avg = sum / static_cast<double>(p.exclude_padding || p.adaptive ? n : npad);
      double r2 = p.type == PoolingType::kMAX ? mx
                  : p.type == PoolingType::kAVERAGE ? avg
                                                    : (1 - p.blend) * mx + p.blend * avg;
      y.v[pl * osp + ol] = r2;
    }
  return y;
}

Dims dims_of(const std::vector<int64_t>& v, int n, int64_t dflt) {
  std::vector<int64_t> r;
  for (int i = 0; i < n; ++i) r.push_back(v.empty() ? dflt : v[i]);
  return Dims::from(r);
}

// cl: x and y stored channels-last (what the layout_channels_last pass makes).
OpCase pool_case(const PoolSpec& p, DataType dt, bool cl) {
  OpCase c;
  const int nsp = p.nsp();
  c.variant = p.name + (cl ? "_channels_last_" : "_") + dtype_name(dt);
  c.inputs = {{dt, cl ? channels_last_dims(Dims::from(p.shape), nsp) : Dims::from(p.shape)}};
  c.build = [p, cl](Network& n, const std::vector<Tensor*>& in) {
    auto l = std::make_unique<PoolingLayer>();
    l->p.channels_last = cl;
    l->p.type = p.type;
    l->p.blend_factor = p.blend;
    if (p.adaptive) {
      l->p.adaptive = true;
      l->p.output_size = Dims::from(p.out_size);
    } else {
      int k = p.nsp();
      l->p.window_size = Dims::from(p.win);
      l->p.stride = p.stride.empty() ? l->p.window_size : Dims::from(p.stride);
      l->p.pre_padding = dims_of(p.pre, k, 0);
      l->p.post_padding = dims_of(p.post, k, 0);
      l->p.dilation = dims_of(p.dil, k, 1);
      l->p.padding_mode = p.ceil ? PaddingMode::kEXPLICIT_ROUND_UP : PaddingMode::kEXPLICIT_ROUND_DOWN;
      l->p.average_count_excludes_padding = p.exclude_padding;
    }
    return std::vector<Tensor*>{n.add(std::move(l), in, "add_pooling_nd")->output(0)};
  };
  c.reference = [p, cl, nsp](const std::vector<HostTensor>& in) {
    if (cl) return std::vector<HostTensor>{move_channels(ref_pool(p, move_channels(in[0], nsp, false)), nsp, true)};
    return std::vector<HostTensor>{ref_pool(p, in[0])};
  };
  return c;
}

void run_case(const PoolSpec& p, DataType dt, bool cl = false) { check_op_all_paths(LayerKind::kPooling, pool_case(p, dt, cl)); }

std::vector<PoolSpec> specs() {
  using T = PoolingType;
  std::vector<PoolSpec> v;
  auto add = [&](PoolSpec s) { v.push_back(s); };
  add({"max1d", T::kMAX, {2, 3, 15}, {3}, {2}, {1}, {1}});
  add({"avg1d_ceil_include_pad", T::kAVERAGE, {2, 3, 14}, {4}, {3}, {1}, {1}, {}, true, false});
  add({"max2d", T::kMAX, {2, 3, 9, 10}, {2, 2}});
  add({"max2d_stride_asym_pad", T::kMAX, {1, 4, 11, 10}, {3, 2}, {2, 1}, {1, 0}, {0, 1}});
  add({"max2d_dilation", T::kMAX, {2, 2, 12, 11}, {3, 2}, {1, 2}, {1, 1}, {1, 1}, {2, 3}});
  add({"max2d_ceil", T::kMAX, {1, 3, 10, 11}, {3, 3}, {2, 2}, {}, {}, {}, true});
  add({"max2d_ceil_pad_lastwindow", T::kMAX, {1, 2, 6, 7}, {3, 2}, {3, 2}, {1, 1}, {1, 1}, {}, true});
  add({"avg2d_include_pad", T::kAVERAGE, {2, 3, 9, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {}, false, false});
  add({"avg2d_exclude_pad", T::kAVERAGE, {2, 3, 9, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {}, false, true});
  add({"avg2d_ceil_include_pad", T::kAVERAGE, {1, 3, 10, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {}, true, false});
  add({"avg2d_ceil_exclude_pad", T::kAVERAGE, {1, 3, 10, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {}, true, true});
  add({"avg2d_asym_pad_include", T::kAVERAGE, {1, 2, 8, 9}, {3, 4}, {1, 2}, {0, 2}, {2, 1}, {}, false, false});
  add({"avg2d_unbatched_rank3", T::kAVERAGE, {3, 8, 8}, {2, 2}});
  add({"avg2d_rank5_leading", T::kAVERAGE, {2, 2, 2, 7, 6}, {3, 2}, {2, 2}, {1, 0}, {1, 0}, {}, false, false});
  add({"max3d", T::kMAX, {1, 2, 6, 7, 8}, {2, 3, 2}, {2, 2, 1}, {1, 1, 0}, {0, 1, 1}});
  add({"avg3d_ceil_include", T::kAVERAGE, {1, 2, 7, 6, 5}, {3, 2, 2}, {2, 2, 2}, {1, 0, 1}, {1, 0, 1}, {}, true, false});
  add({"max3d_dilation_ceil", T::kMAX, {1, 2, 9, 8, 7}, {2, 2, 2}, {2, 1, 2}, {1, 0, 1}, {1, 0, 1}, {2, 3, 2}, true});
  PoolSpec bl{"blend2d", T::kMAX_AVERAGE_BLEND, {2, 3, 9, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1}};
  bl.blend = 0.3f;
  add(bl);
  auto adaptive = [&](std::string name, T t, std::vector<int64_t> shape, std::vector<int64_t> out) {
    PoolSpec s;
    s.name = name, s.type = t, s.shape = shape, s.adaptive = true, s.out_size = out;
    add(s);
  };
  adaptive("adaptive_avg1d_nondivisible", T::kAVERAGE, {2, 3, 10}, {4});
  adaptive("adaptive_max1d_upsample", T::kMAX, {2, 3, 5}, {7});
  adaptive("adaptive_avg2d_divisible", T::kAVERAGE, {2, 3, 8, 6}, {4, 3});
  adaptive("adaptive_avg2d_global", T::kAVERAGE, {2, 5, 7, 7}, {1, 1});
  adaptive("adaptive_max2d_global_wide", T::kMAX, {2, 40, 9, 11}, {1, 1});
  adaptive("adaptive_avg2d_global_large_plane", T::kAVERAGE, {1, 3, 40, 50}, {1, 1});
  add({"max2d_window_is_plane", T::kMAX, {2, 35, 6, 5}, {6, 5}});
  adaptive("adaptive_max2d_nondivisible", T::kMAX, {2, 3, 10, 9}, {3, 4});
  adaptive("adaptive_avg2d_nondivisible", T::kAVERAGE, {1, 3, 11, 13}, {5, 3});
  adaptive("adaptive_avg3d_nondivisible", T::kAVERAGE, {1, 2, 5, 7, 6}, {2, 3, 4});
  adaptive("adaptive_max3d_divisible", T::kMAX, {1, 2, 4, 6, 6}, {2, 3, 2});
  return v;
}

TEST(Pooling, ChannelsLastMatchesReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    for (auto& s : specs())
      if (s.shape.size() >= static_cast<size_t>(s.nsp()) + 2) run_case(s, dt, true);
}

TEST(Pooling, MatchesReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    for (auto& s : specs()) run_case(s, dt);
  run_case(specs()[7], DataType::kBF16);
}

// Channels-last windows over two spatial dims (a 3-D pooling of unit depth included) take CUDA's pool_cl2d:
// C = 64 in 16-byte vectors (8 halves, 4 floats), C = 6 in pairs, and one channel per thread when the
// buffers start one element past an aligned address; padding, ceil mode (the last window clipped to the
// declared padding for count_include_pad), dilation, both average counts and the blend.
TEST(Pooling, ChannelsLastVectorWidths) {
  using T = PoolingType;
  std::vector<PoolSpec> v;
  for (int64_t c : {64, 6}) {
    const std::string cs = "_c" + std::to_string(c);
    v.push_back({"max2d_3x3_stride2_pad1" + cs, T::kMAX, {2, c, 13, 12}, {3, 3}, {2, 2}, {1, 1}, {1, 1}});
    v.push_back({"max2d_ceil_dilation" + cs, T::kMAX, {1, c, 11, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {2, 1}, true});
    v.push_back({"avg2d_ceil_include_pad" + cs, T::kAVERAGE, {2, c, 10, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {}, true,
                 false});
    v.push_back({"avg2d_ceil_exclude_pad" + cs, T::kAVERAGE, {1, c, 10, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {}, true,
                 true});
    PoolSpec bl{"blend2d" + cs, T::kMAX_AVERAGE_BLEND, {2, c, 9, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1}};
    bl.blend = 0.3f;
    v.push_back(bl);
  }
  v.push_back({"max3d_unit_depth_c16", T::kMAX, {2, 16, 1, 9, 8}, {1, 3, 3}, {1, 2, 2}, {0, 1, 1}, {0, 1, 1}});
  for (DataType dt : {DataType::kHALF, DataType::kFLOAT, DataType::kBF16})
    for (const PoolSpec& s : v) run_case(s, dt, true);
  for (DataType dt : {DataType::kHALF, DataType::kFLOAT})
    for (int i : {0, 2}) {
      OpCase c = pool_case(v[i], dt, true);
      c.misalign = true;
      c.variant += "_misaligned";
      check_op_all_paths(LayerKind::kPooling, c);
    }
}

// Global channels-last pools take CUDA's global_pool_cl, which at small batch splits the positions of each
// plane among blocks and lets the last block to arrive combine the partials (a counter it resets): batch-1
// planes of EfficientNet's squeeze-excite pools (112 x 112 x 32, 7 x 7 x 1152), 3 vectors of 8 halves, pairs,
// one channel per thread (C = 3, misaligned), a window given as the whole plane, NaN in a split plane. Three
// runs of one context each: the counters must be back at zero for the next run.
TEST(Pooling, ChannelsLastGlobalSplitsPositions) {
  using T = PoolingType;
  auto global = [](std::string name, T t, std::vector<int64_t> shape) {
    PoolSpec s;
    s.name = name, s.type = t, s.shape = shape, s.adaptive = true, s.out_size = {1, 1}, s.blend = 0.3f;
    return s;
  };
  std::vector<PoolSpec> v = {global("global_avg_se_first", T::kAVERAGE, {1, 32, 112, 112}),
                             global("global_avg_se_last", T::kAVERAGE, {1, 1152, 7, 7}),
                             global("global_max_c24", T::kMAX, {2, 24, 56, 56}),
                             global("global_blend_c6", T::kMAX_AVERAGE_BLEND, {1, 6, 40, 50}),
                             global("global_avg_c3", T::kAVERAGE, {3, 3, 30, 30})};
  v.push_back({"window_is_plane_c40", T::kMAX, {1, 40, 33, 31}, {33, 31}});
  for (DataType dt : {DataType::kHALF, DataType::kFLOAT, DataType::kBF16})
    for (const PoolSpec& s : v) {
      OpCase c = pool_case(s, dt, true);
      c.runs = 3;
      check_op(LayerKind::kPooling, c);
    }
  for (int i : {0, 4}) {
    OpCase c = pool_case(v[i], DataType::kHALF, true);
    c.misalign = true, c.runs = 2;
    c.variant += "_misaligned";
    check_op(LayerKind::kPooling, c);
  }
  for (T t : {T::kMAX, T::kAVERAGE, T::kMAX_AVERAGE_BLEND}) {
    PoolSpec s = global("global_nan_c16", t, {1, 16, 64, 64});
    OpCase c = pool_case(s, DataType::kHALF, true);
    std::vector<double> x = random_values(16 * 64 * 64, DataType::kHALF, -2, 2);
    for (int64_t i = 3; i < 16 * 64 * 64; i += 4099) x[i] = std::numeric_limits<double>::quiet_NaN();
    c.fixed = {x};
    c.runs = 2;
    check_op(LayerKind::kPooling, c);
  }
}

// Max pooling keeps NaN and average pooling spreads it, channels-last (every vector width) or not, on the
// CPU's loops and its oneDNN path (oneDNN's max drops NaN: an input holding NaN takes the loops there).
TEST(Pooling, NanPropagates) {
  using T = PoolingType;
  for (bool ref : cpu_paths()) {
    ForceReference paths(ref);
    for (int64_t c : {16, 6, 3})
      for (T type : {T::kMAX, T::kAVERAGE, T::kMAX_AVERAGE_BLEND}) {
        PoolSpec p{std::string(type == T::kMAX ? "max" : type == T::kAVERAGE ? "avg" : "blend") + "2d_nan_c" +
                       std::to_string(c),
                   type, {1, c, 7, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}};
        for (DataType dt : {DataType::kHALF, DataType::kFLOAT})
          for (bool cl : {true, false}) {
            OpCase oc = pool_case(p, dt, cl);
            std::vector<double> x = random_values(c * 42, dt, -2, 2);
            for (int64_t i = 5; i < c * 42; i += 37) x[i] = std::numeric_limits<double>::quiet_NaN();
            oc.fixed = {x};
            check_op(LayerKind::kPooling, oc);
          }
      }
  }
}

TEST(Pooling, ImplementationChoice) {
  for (bool ref : cpu_paths()) {
    ForceReference f(ref);
    auto impl = [](PoolingType t, bool adaptive, Dims out_or_window, bool include_pad_ceil) {
      Network net;
      Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 2, 10, 9});
      PoolingLayer* l = adaptive ? add_adaptive_pooling_nd(net, x, t, out_or_window) : add_pooling_nd(net, x, t, out_or_window);
      if (include_pad_ceil) {
        l->p.average_count_excludes_padding = false;
        l->p.padding_mode = PaddingMode::kEXPLICIT_ROUND_UP;
        l->p.stride = Dims{2, 2};
        l->p.pre_padding = l->p.post_padding = Dims{1, 1};
        net.reinfer();
      }
      l->output(0)->set_name("y");
      net.mark_output(l->output(0));
      return cpu_impl_of(net, 0);
    };
    std::string dnn = ref ? "ref_pool" : "onednn_pool";
    EXPECT_EQ(impl(PoolingType::kMAX, false, Dims{3, 3}, false), dnn);
    EXPECT_EQ(impl(PoolingType::kAVERAGE, false, Dims{2, 3}, false), dnn);
    EXPECT_EQ(impl(PoolingType::kMAX_AVERAGE_BLEND, false, Dims{2, 2}, false), dnn);
    EXPECT_EQ(impl(PoolingType::kAVERAGE, true, Dims{5, 3}, false), dnn);  // divides evenly
    EXPECT_EQ(impl(PoolingType::kAVERAGE, true, Dims{4, 4}, false), "ref_pool");
    // 10 rows, window 3, stride 2, padding 1, ceil: the last window reaches past the declared padding.
    EXPECT_EQ(impl(PoolingType::kAVERAGE, false, Dims{3, 3}, true), "ref_pool");
  }
}

// As for convolution: padding set after add_pooling_nd may make a too-small input valid.
TEST(Pooling, ProvisionalUntilValid) {
  Network n;
  Tensor* x = n.add_input("x", DataType::kFLOAT, Dims{1, 3, 2, 2});
  auto* l = add_pooling_nd(n, x, PoolingType::kMAX, Dims{3, 3});
  EXPECT_EQ(l->output(0)->dims(), (Dims{1, 3, -1, -1}));
  l->p.stride = Dims{2, 2};
  l->p.pre_padding = l->p.post_padding = Dims{1, 1};
  l->changed([] {});
  EXPECT_FALSE(l->provisional);
  EXPECT_EQ(l->output(0)->dims(), (Dims{1, 3, 1, 1}));
  auto* l2 = add_pooling_nd(n, x, PoolingType::kAVERAGE, Dims{3, 3});
  l2->set_name("pool_too_big");
  l2->output(0)->set_name("y");
  n.mark_output(l2->output(0));
  expect_invalid([&] { Builder().build_serialized(n, BuilderConfig()); }, {"pool_too_big", "input", "(1, 3, 2, 2)"});
}

TEST(Pooling, ErrorsNameTheArgument) {
  Network n;
  Tensor* x = n.add_input("x", DataType::kFLOAT, Dims{1, 3, 8, 8});
  auto raw = [&](const std::function<void(PoolingParams&)>& set) {
    auto l = std::make_unique<PoolingLayer>();
    l->p.window_size = l->p.stride = Dims{2, 2};
    l->p.pre_padding = l->p.post_padding = Dims{0, 0};
    l->p.dilation = Dims{1, 1};
    set(l->p);
    n.add(std::move(l), {x}, "add_pooling_nd");
  };
  expect_invalid([&] { raw([](PoolingParams& p) { p.type = PoolingType::kAVERAGE, p.dilation = Dims{2, 1}; }); },
                 {"dilation", "AVERAGE"});
  expect_invalid([&] { raw([](PoolingParams& p) { p.pre_padding = Dims{2, 0}; }); }, {"pre_padding", "window"});
  expect_invalid([&] { raw([](PoolingParams& p) { p.post_padding = Dims{0, 3}; }); }, {"post_padding", "window"});
  expect_invalid([&] { raw([](PoolingParams& p) { p.stride = Dims{2}; }); }, {"stride", "(2,)"});
  expect_invalid([&] { raw([](PoolingParams& p) { p.blend_factor = 1.5f; }); }, {"blend_factor", "[0, 1]"});
  expect_invalid([&] { raw([](PoolingParams& p) { p.type = static_cast<PoolingType>(7); }); }, {"type", "7"});
  expect_invalid([&] { raw([](PoolingParams& p) { p.window_size = Dims{9, 2}; }); }, {"input", "(1, 3, 8, 8)"});
  expect_invalid([&] { raw([](PoolingParams& p) { p.output_size = Dims{2, 2}; }); }, {"output_size", "adaptive"});
  expect_invalid([&] { add_pooling_nd(n, x, PoolingType::kMAX, Dims{2, 2, 2, 2}); }, {"window_size"});
  expect_invalid([&] { add_pooling_nd(n, x, PoolingType::kMAX, Dims{2, 2, 2, 2, 2}); }, {"window_size"});
  Tensor* x1 = n.add_input("x1", DataType::kFLOAT, Dims{8, 8});
  expect_invalid([&] { add_pooling_nd(n, x1, PoolingType::kMAX, Dims{2, 2}); }, {"input", "rank >= 3", "(8, 8)"});
  Tensor* xi = n.add_input("xi", DataType::kINT32, Dims{1, 3, 8, 8});
  expect_invalid([&] { add_pooling_nd(n, xi, PoolingType::kMAX, Dims{2, 2}); }, {"input", "int32"});
  expect_invalid([&] { add_adaptive_pooling_nd(n, x, PoolingType::kMAX, Dims{0, 2}); }, {"output_size", ">= 1"});
  expect_invalid([&] {
    auto l = std::make_unique<PoolingLayer>();
    l->p.adaptive = true;
    l->p.output_size = Dims{2, 2};
    l->p.stride = Dims{2, 2};
    n.add(std::move(l), {x}, "add_adaptive_pooling_nd");
  }, {"stride", "adaptive"});
  EXPECT_EQ(n.num_layers(), 0);
}

}  // namespace
}  // namespace t2t_test
