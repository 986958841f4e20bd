// Fused convolution epilogue, y = act(conv(x) + bias + z): the layer on every backend against a float64
// reference (harness), and the fuse_convolution_epilogue pass (graph rewritten, outputs unchanged at
// optimization_level 0 against 3, what must not fuse left alone).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "harness.h"
#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace torch2trt {
int fuse_convolution_epilogue(Network& net, const BuilderConfig& config);
}

namespace t2t_test {
namespace {

using A = ActivationType;
using E = ElementWiseOperation;

constexpr int64_t kN = 2, kC = 3, kK = 4, kH = 6, kW = 5;  // 3x3 convolution, padding 1: output (N, K, H, W)

std::vector<float> random_floats(int64_t n, int seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

ConvolutionLayer* add_conv(Network& net, Tensor* x, int seed, bool bias = true) {
  Weights w = Weights::f32(random_floats(kK * kC * 9, seed));
  Weights b = bias ? Weights::f32(random_floats(kK, seed + 1)) : Weights();
  auto* c = add_convolution_nd(net, x, kK, Dims::from({3, 3}), w, b);
  c->p.pre_padding = c->p.post_padding = Dims::from({1, 1});
  c->changed([] {});
  return c;
}

// Geometry of the fused-layer cases: an r x r kernel, padding r / 2, stride 1, `groups` groups.
struct Geo {
  int64_t n, c, k, h, w, r, groups;
};
constexpr Geo kSmall{kN, kC, kK, kH, kW, 3, 1};

double act_ref(double v, ActivationParams act) {
  switch (act.type) {
    case A::kRELU: return v > 0 ? v : 0.0;
    case A::kLEAKY_RELU: return v >= 0 ? v : act.alpha * v;
    case A::kSIGMOID: return 1.0 / (1.0 + std::exp(-v));
    case A::kCLIP: return std::min<double>(std::max<double>(v, act.alpha), act.beta);
    default: return std::nan("");
  }
}

// The float64 reference of act(conv(x) + b + z).
HostTensor ref_fused(const Geo& g, const HostTensor& x, const std::vector<float>& w, const std::vector<float>& b,
                     const HostTensor* z, bool has_act, ActivationParams act) {
  HostTensor y{x.dtype, Dims::from({g.n, g.k, g.h, g.w}), {}};
  y.v.assign(g.n * g.k * g.h * g.w, 0.0);
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups, pad = g.r / 2;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t k = 0; k < g.k; ++k)
      for (int64_t h = 0; h < g.h; ++h)
        for (int64_t q = 0; q < g.w; ++q) {
          double acc = b.empty() ? 0.0 : b[k];
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < g.r; ++i)
              for (int64_t j = 0; j < g.r; ++j) {
                int64_t ih = h - pad + i, iw = q - pad + j;
                if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                acc += x.v[((n * g.c + (k / kg) * cg + c) * g.h + ih) * g.w + iw] * w[((k * cg + c) * g.r + i) * g.r + j];
              }
          int64_t o = ((n * g.k + k) * g.h + h) * g.w + q;
          if (z) acc += z->v[o];
          y.v[o] = has_act ? act_ref(acc, act) : acc;
        }
  return y;
}

struct Variant {
  const char* name;
  bool residual, has_act;
  ActivationParams act;
};

// One harness case of the fused layer built directly (as the pass leaves it).
void check_fused(const Geo& g, const Variant& v, DataType dt, const char* tag) {
  auto w = std::make_shared<std::vector<float>>(random_floats(g.k * (g.c / g.groups) * g.r * g.r, 5));
  auto b = std::make_shared<std::vector<float>>(random_floats(g.k, 6));
  OpCase c;
  c.variant = std::string(tag) + "_" + v.name + "_" + dtype_name(dt);
  c.inputs = {{dt, Dims::from({g.n, g.c, g.h, g.w})}};
  if (v.residual) c.inputs.push_back({dt, Dims::from({g.n, g.k, g.h, g.w})});
  c.build = [g, v, w, b](Network& n, const std::vector<Tensor*>& in) {
    auto l = std::make_unique<ConvolutionLayer>();
    l->p.num_output_maps = g.k;
    l->p.num_groups = g.groups;
    l->p.kernel_size = Dims::from({g.r, g.r});
    l->p.stride = l->p.dilation = Dims::from({1, 1});
    l->p.pre_padding = l->p.post_padding = Dims::from({g.r / 2, g.r / 2});
    l->p.kernel = Weights::f32(*w);
    l->p.bias = Weights::f32(*b);
    l->p.has_activation = v.has_act;
    l->p.activation = v.act;
    return std::vector<Tensor*>{n.add(std::move(l), in, "add_convolution_nd")->output(0)};
  };
  c.reference = [g, v, w, b](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{ref_fused(g, in[0], *w, *b, v.residual ? &in[1] : nullptr, v.has_act, v.act)};
  };
  check_op(LayerKind::kConvolution, c);
}

// The fused layer itself (as the pass leaves it) on every backend, in float32 and float16.
TEST(FusedConvolution, MatchesReference) {
  const Variant variants[] = {
      {"relu", false, true, {A::kRELU, 0, 0}},
      {"residual", true, false, {}},
      {"residual_relu", true, true, {A::kRELU, 0, 0}},
      {"residual_leaky", true, true, {A::kLEAKY_RELU, 0.1f, 0}},
      {"sigmoid", false, true, {A::kSIGMOID, 0, 0}},
      {"clip", true, true, {A::kCLIP, -0.5f, 0.7f}},
  };
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    for (const Variant& v : variants) check_fused(kSmall, v, dt, "small");
}

// Channels per group a multiple of 8: with T2T_CUDA_CONV_NHWC=1 the half types take the channels-last
// (NHWC) cuDNN path on CUDA, whose epilogue also transposes back to NCHW (passed on an H200 with it on).
TEST(FusedConvolution, ChannelsLastEligible) {
  const Variant plain{"plain", false, false, {}}, res_relu{"residual_relu", true, true, {A::kRELU, 0, 0}};
  const Geo geos[] = {{2, 16, 8, 7, 6, 3, 1}, {1, 16, 32, 5, 5, 1, 1}, {2, 32, 16, 6, 5, 3, 2}};
  const char* tags[] = {"c16k8_3x3", "c16k32_1x1", "c32k16_g2"};
  for (int i = 0; i < 3; ++i)
    for (DataType dt : {DataType::kHALF, DataType::kBF16, DataType::kFLOAT}) {
      check_fused(geos[i], plain, dt, tags[i]);
      check_fused(geos[i], res_relu, dt, tags[i]);
    }
}

TEST(FusedConvolution, ErrorsNameTheArgument) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims::from({kN, kC, kH, kW}));
  Tensor* bad = net.add_input("z", DataType::kFLOAT, Dims::from({kN, kK, kH, kW + 1}));
  auto* c = add_conv(net, x, 1);
  try {
    c->set_input(1, bad);
    FAIL() << "a residual of another shape must be refused";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("residual"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c->num_inputs(), 1);
  Tensor* half = net.add_input("zh", DataType::kHALF, Dims::from({kN, kK, kH, kW}));
  EXPECT_THROW(c->set_input(1, half), InvalidArgument);
  auto* d = add_deconvolution_nd(net, x, kK, Dims::from({3, 3}), Weights::f32(random_floats(kC * kK * 9, 2)), Weights());
  d->p.has_activation = true;
  EXPECT_THROW(d->changed([&] { d->p.has_activation = false; }), InvalidArgument);
}

// ---- the pass ----

std::vector<float> run_net(const Network& net, int level) {
  BuilderConfig cfg;
  cfg.optimization_level = level;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<std::vector<float>> in;
  for (int i = 0; i < net.num_inputs(); ++i) {
    in.push_back(random_floats(net.input(i)->dims().volume(), 20 + i));
    ctx->set_tensor_address(net.input(i)->name(), in.back().data());
  }
  std::vector<float> y(e->io_dims("y").volume(), NAN);
  ctx->set_tensor_address("y", y.data());
  ctx->enqueue(nullptr);
  return y;
}

void expect_same_outputs(const Network& net) {
  auto a = run_net(net, 0), b = run_net(net, 3);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5 * (1 + std::fabs(a[i]))) << "element " << i;
}

int count(const Network& net, LayerKind k) {
  int n = 0;
  for (int i = 0; i < net.num_layers(); ++i) n += net.layer(i)->kind() == k;
  return n;
}

Tensor* channel_constant(Network& net, int seed) {
  return add_constant(net, Dims::from({1, kK, 1, 1}), Weights::f32(random_floats(kK, seed)))->output(0);
}

// conv -> + per-channel constant -> + residual -> relu, the output named y.
void build_block(Network& net, bool bias) {
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims::from({kN, kC, kH, kW}));
  Tensor* z = net.add_input("z", DataType::kFLOAT, Dims::from({kN, kK, kH, kW}));
  Tensor* t = add_conv(net, x, 3, bias)->output(0);
  t = add_elementwise(net, t, channel_constant(net, 4), E::kSUM)->output(0);
  t = add_elementwise(net, z, t, E::kSUM)->output(0);  // the residual on the left
  t = add_activation(net, t, A::kRELU)->output(0);
  t->set_name("y");
  net.mark_output(t);
}

TEST(FuseConvolutionEpilogue, BiasResidualActivation) {
  for (bool bias : {true, false}) {
    Network net;
    build_block(net, bias);
    expect_same_outputs(net);
    EXPECT_EQ(fuse_convolution_epilogue(net, BuilderConfig()), 3);
    ASSERT_EQ(count(net, LayerKind::kElementWise), 0);
    ASSERT_EQ(count(net, LayerKind::kActivation), 0);
    auto* conv = static_cast<ConvolutionLayer*>(net.output(0)->producer());
    ASSERT_EQ(conv->kind(), LayerKind::kConvolution);
    EXPECT_EQ(conv->num_inputs(), 2);
    EXPECT_EQ(conv->input(1)->name(), "z");
    EXPECT_TRUE(conv->p.has_activation);
    EXPECT_EQ(conv->p.activation.type, A::kRELU);
    EXPECT_EQ(conv->p.bias.count, kK);
    EXPECT_EQ(net.output(0)->name(), "y");
  }
}

// Projection shortcut: the sum of two convolutions fuses into the one added later.
TEST(FuseConvolutionEpilogue, TwoConvolutionsSum) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims::from({kN, kC, kH, kW}));
  Tensor* a = add_conv(net, x, 7)->output(0);
  Tensor* b = add_conv(net, x, 8)->output(0);
  Tensor* y = add_activation(net, add_elementwise(net, a, b, E::kSUM)->output(0), A::kRELU)->output(0);
  y->set_name("y");
  net.mark_output(y);
  expect_same_outputs(net);
  EXPECT_EQ(fuse_convolution_epilogue(net, BuilderConfig()), 2);
  auto* conv = static_cast<ConvolutionLayer*>(net.output(0)->producer());
  EXPECT_EQ(conv->input(1), a);
  EXPECT_TRUE(conv->p.has_activation);
}

TEST(FuseConvolutionEpilogue, LeavesAloneWhatMustNotFuse) {
  {  // the convolution output is read twice
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims::from({kN, kC, kH, kW}));
    Tensor* c = add_conv(net, x, 1)->output(0);
    Tensor* r = add_activation(net, c, A::kRELU)->output(0);
    Tensor* y = add_elementwise(net, r, c, E::kPROD)->output(0);
    y->set_name("y");
    net.mark_output(y);
    EXPECT_EQ(fuse_convolution_epilogue(net, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
  {  // a sum that broadcasts the convolution output; an add after the activation
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims::from({kN, kC, kH, kW}));
    Tensor* point = net.add_input("p", DataType::kFLOAT, Dims::from({kN, kC, 1, 1}));
    Tensor* c1 = add_conv(net, point, 2)->output(0);  // (N, K, 1, 1): the sum below broadcasts it
    Tensor* r = add_activation(net, add_conv(net, x, 3)->output(0), A::kRELU)->output(0);
    Tensor* s1 = add_elementwise(net, r, channel_constant(net, 9), E::kSUM)->output(0);  // after the activation
    Tensor* y = add_elementwise(net, s1, c1, E::kSUM)->output(0);
    y->set_name("y");
    net.mark_output(y);
    EXPECT_EQ(fuse_convolution_epilogue(net, BuilderConfig()), 1);  // only the activation
    EXPECT_EQ(count(net, LayerKind::kElementWise), 2);
    expect_same_outputs(net);
  }
  {  // a precision pin on the activation
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims::from({kN, kC, kH, kW}));
    auto* act = add_activation(net, add_conv(net, x, 1)->output(0), A::kRELU);
    act->set_precision(DataType::kFLOAT);
    act->output(0)->set_name("y");
    net.mark_output(act->output(0));
    EXPECT_EQ(fuse_convolution_epilogue(net, BuilderConfig()), 0);
  }
}

// A fused convolution survives an engine round trip (the epilogue fields are serialized).
TEST(FuseConvolutionEpilogue, SerializedEngineKeepsEpilogue) {
  Network net;
  build_block(net, true);
  BuilderConfig cfg;
  auto e = Builder().build(net, cfg);
  auto bytes = e->serialize();
  auto e2 = Engine::deserialize(bytes.data(), bytes.size());
  auto run = [&](Engine& eng) {
    auto ctx = eng.create_execution_context();
    std::vector<float> x = random_floats(kN * kC * kH * kW, 1), z = random_floats(kN * kK * kH * kW, 2);
    std::vector<float> y(kN * kK * kH * kW, NAN);
    ctx->set_tensor_address("x", x.data());
    ctx->set_tensor_address("z", z.data());
    ctx->set_tensor_address("y", y.data());
    ctx->enqueue(nullptr);
    return y;
  };
  EXPECT_EQ(run(*e), run(*e2));
}

}  // namespace
}  // namespace t2t_test
