// The layout_channels_last pass: half-precision convolution chains become channels-last with transposes
// only where a chain starts and ends, and the outputs do not change (checked on every backend built).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backends/backend.h"
#include "harness.h"
#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {
int fuse_convolution_epilogue(Network& net, const BuilderConfig& config);
int fuse_squeeze_excite(Network& net, const BuilderConfig& config);
namespace {

std::vector<float> random_floats(int64_t n, int seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

constexpr int64_t kN = 2, kC = 16, kH = 8, kW = 8;

ConvolutionLayer* conv3x3(Network& net, Tensor* x, int seed) {
  auto* c = add_convolution_nd(net, x, kC, Dims::from({3, 3}), Weights::f32(random_floats(kC * kC * 9, seed, 0.1f)),
                               Weights::f32(random_floats(kC, seed + 1)));
  c->p.pre_padding = c->p.post_padding = Dims::from({1, 1});
  c->changed([] {});
  return c;
}

// x -> conv A (+relu) -> conv B (+ residual A) -> + per-channel constant -> relu -> maxpool 2x2
//   -> global average pool -> flatten -> y;  conv A's output is also the network output "a".
std::unique_ptr<Network> resnet_like() {
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("x", DataType::kFLOAT, Dims::from({kN, kC, kH, kW}));
  auto* a = conv3x3(*net, x, 1);
  a->p.has_activation = true;
  a->p.activation.type = ActivationType::kRELU;
  a->changed([] {});
  auto* b = conv3x3(*net, a->output(0), 3);
  b->set_input(1, a->output(0));
  Tensor* k = add_constant(*net, Dims::from({1, kC, 1, 1}), Weights::f32(random_floats(kC, 5)))->output(0);
  Tensor* s = add_elementwise(*net, b->output(0), k, ElementWiseOperation::kSUM)->output(0);
  Tensor* r = add_activation(*net, s, ActivationType::kRELU)->output(0);
  Tensor* m = add_pooling_nd(*net, r, PoolingType::kMAX, Dims::from({2, 2}))->output(0);
  Tensor* g = add_adaptive_pooling_nd(*net, m, PoolingType::kAVERAGE, Dims::from({1, 1}))->output(0);
  auto* f = add_shuffle(*net, g);
  f->p.has_reshape = true;
  f->p.reshape_dims = Dims::from({kN, kC});
  f->changed([] {});
  f->output(0)->set_name("y");
  net->mark_output(f->output(0));
  a->output(0)->set_name("a");
  net->mark_output(a->output(0));
  return net;
}

bool is_full_transpose(const Layer* l) {
  if (l->kind() != LayerKind::kShuffle) return false;
  auto* s = static_cast<const ShuffleLayer*>(l);
  return !s->p.has_reshape && !s->p.first_transpose.empty() && !permutation_keeps_order(l->input(0)->dims(), s->p.first_transpose);
}

std::vector<std::vector<float>> run(Backend* be, const Network& net, const std::vector<float>& xv,
                                    std::vector<std::pair<std::string, size_t>> outs = {{"y", kN * kC},
                                                                                        {"a", kN * kC * kH * kW}}) {
  BuilderConfig cfg;
  cfg.device = be->device() == DeviceKind::kCUDA ? DeviceType::kGPU : DeviceType::kCPU;
  cfg.optimization_level = 0;  // the networks are already rewritten; run them as they are
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  void* xd = be->allocate(xv.size() * 4);
  be->upload(xd, xv.data(), xv.size() * 4);
  ctx->set_tensor_address("x", xd);
  std::vector<void*> od;
  for (auto& o : outs) {
    od.push_back(be->allocate(o.second * 4));
    ctx->set_tensor_address(o.first, od.back());
  }
  ctx->enqueue(nullptr);
  be->synchronize(nullptr);
  std::vector<std::vector<float>> r;
  for (size_t i = 0; i < outs.size(); ++i) {
    r.emplace_back(outs[i].second);
    be->download(r.back().data(), od[i], outs[i].second * 4);
    be->release(od[i]);
  }
  be->release(xd);
  return r;
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
  return std::sqrt(num / std::max(den, 1e-30));
}

TEST(LayoutChannelsLast, KeepsChainsChannelsLastAndOutputsUnchanged) {
  auto ref = resnet_like();
  auto opt = ref->clone();
  BuilderConfig gpu;
  gpu.device = DeviceType::kGPU;
  gpu.set_flag(BuilderFlag::kFP16);
  assign_precision(*ref, gpu);
  assign_precision(*opt, gpu);
  EXPECT_GT(layout_channels_last(*opt, gpu), 0);
  opt->validate();

  int convs = 0, pools = 0, transposes = 0;
  for (int i = 0; i < opt->num_layers(); ++i) {
    const Layer* l = opt->layer(i);
    if (l->kind() == LayerKind::kConvolution) {
      EXPECT_TRUE(static_cast<const ConvolutionLayer*>(l)->p.channels_last) << l->name();
      ++convs;
    }
    if (l->kind() == LayerKind::kPooling) {
      EXPECT_TRUE(static_cast<const PoolingLayer*>(l)->p.channels_last) << l->name();
      ++pools;
    }
    if (is_full_transpose(l)) ++transposes;
    // Nothing between the convolutions and the pools reads a channels-first copy.
    if (l->kind() == LayerKind::kElementWise || l->kind() == LayerKind::kActivation)
      for (const Tensor* t : l->inputs())
        EXPECT_FALSE(t->producer() && is_full_transpose(t->producer())) << l->name() << " reads a transpose";
  }
  EXPECT_EQ(convs, 2);
  EXPECT_EQ(pools, 2);
  // One into the chain (the input), one out of it (conv A's output "a", a network output); the flatten
  // after the global pool only moves unit axes.
  EXPECT_EQ(transposes, 2);

  std::vector<float> xv = random_floats(kN * kC * kH * kW, 11);
  for (Backend* be : t2t_test::available_backends()) {
    SCOPED_TRACE(be->name());
    auto want = run(be, *ref, xv), got = run(be, *opt, xv);
    for (size_t i = 0; i < want.size(); ++i) EXPECT_LT(rel_l2(got[i], want[i]), 2e-3) << "output " << i;
  }
}

// EfficientNet's squeeze-excitation: y = conv(x); g = sigmoid(conv_e(conv_s(avgpool(y)))); z = conv(y * g).
// The squeeze/excite convolutions (10 channels) are not channels-last, so the gate g is channels-first --
// but (N, C, 1, 1) is the same memory in either layout, so y * g must still stay NHWC (no transposes of y).
std::unique_ptr<Network> squeeze_excite() {
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("x", DataType::kFLOAT, Dims::from({kN, kC, kH, kW}));
  auto* a = conv3x3(*net, x, 1);
  Tensor* g = add_adaptive_pooling_nd(*net, a->output(0), PoolingType::kAVERAGE, Dims::from({1, 1}))->output(0);
  const int64_t kSq = 10;
  auto* sq = add_convolution_nd(*net, g, kSq, Dims::from({1, 1}), Weights::f32(random_floats(kSq * kC, 21, 0.3f)),
                                Weights::f32(random_floats(kSq, 22)));
  auto* ex = add_convolution_nd(*net, sq->output(0), kC, Dims::from({1, 1}),
                                Weights::f32(random_floats(kC * kSq, 23, 0.3f)), Weights::f32(random_floats(kC, 24)));
  Tensor* gate = add_activation(*net, ex->output(0), ActivationType::kSIGMOID)->output(0);
  Tensor* m = add_elementwise(*net, a->output(0), gate, ElementWiseOperation::kPROD)->output(0);
  auto* z = conv3x3(*net, m, 31);
  z->output(0)->set_name("z");
  net->mark_output(z->output(0));
  return net;
}

TEST(LayoutChannelsLast, SqueezeExcitationGateStaysChannelsLast) {
  auto ref = squeeze_excite();
  auto opt = ref->clone();
  BuilderConfig gpu;
  gpu.device = DeviceType::kGPU;
  gpu.set_flag(BuilderFlag::kFP16);
  assign_precision(*ref, gpu);
  assign_precision(*opt, gpu);
  EXPECT_GT(layout_channels_last(*opt, gpu), 0);
  opt->validate();
  int transposes = 0;
  for (int i = 0; i < opt->num_layers(); ++i) {
    const Layer* l = opt->layer(i);
    if (is_full_transpose(l)) ++transposes;
    if (l->kind() == LayerKind::kElementWise)
      for (const Tensor* t : l->inputs())
        EXPECT_FALSE(t->producer() && is_full_transpose(t->producer())) << l->name() << " reads a transpose";
  }
  EXPECT_EQ(transposes, 2);  // the input into the chain and z out of it
  std::vector<float> xv = random_floats(kN * kC * kH * kW, 12);
  for (Backend* be : t2t_test::available_backends()) {
    SCOPED_TRACE(be->name());
    auto want = run(be, *ref, xv, {{"z", kN * kC * kH * kW}}), got = run(be, *opt, xv, {{"z", kN * kC * kH * kW}});
    EXPECT_LT(rel_l2(got[0], want[0]), 2e-3);
  }
}

// The same gate after fuse_squeeze_excite: the SqueezeExcite layer reads conv A's NHWC output in place and
// its (N, C, 1, 1) gate needs no transpose; outputs match the unfused network on every backend.
TEST(LayoutChannelsLast, FusedSqueezeExciteReadsNhwcInPlace) {
  auto ref = squeeze_excite();
  auto opt = ref->clone();
  BuilderConfig gpu;
  gpu.device = DeviceType::kGPU;
  gpu.set_flag(BuilderFlag::kFP16);
  BuilderConfig cpu;  // the CPU target: the pass checks the target runs the fused layer (here, in float32)
  fuse_convolution_epilogue(*opt, cpu);
  EXPECT_EQ(fuse_squeeze_excite(*opt, cpu), 1);
  assign_precision(*ref, gpu);
  assign_precision(*opt, gpu);
  EXPECT_GT(layout_channels_last(*opt, gpu), 0);
  opt->validate();
  int transposes = 0, gates = 0;
  for (int i = 0; i < opt->num_layers(); ++i) {
    const Layer* l = opt->layer(i);
    if (is_full_transpose(l)) ++transposes;
    if (l->kind() != LayerKind::kSqueezeExcite) continue;
    ++gates;
    EXPECT_TRUE(static_cast<const SqueezeExciteLayer*>(l)->p.channels_last);
    EXPECT_EQ(l->input(0)->dims(), Dims::from({kN, kH, kW, kC}));
    EXPECT_EQ(l->input(0)->producer()->kind(), LayerKind::kConvolution);
  }
  EXPECT_EQ(gates, 1);
  EXPECT_EQ(transposes, 2);  // the input into the chain and z out of it
  std::vector<float> xv = random_floats(kN * kC * kH * kW, 12);
  for (Backend* be : t2t_test::available_backends()) {
    SCOPED_TRACE(be->name());
    auto want = run(be, *ref, xv, {{"z", kN * kC * kH * kW}}), got = run(be, *opt, xv, {{"z", kN * kC * kH * kW}});
    EXPECT_LT(rel_l2(got[0], want[0]), 2e-3);
  }
}

TEST(LayoutChannelsLast, LeavesCpuTargetsAndFloat32Alone) {
  for (bool gpu_target : {false, true}) {
    auto net = resnet_like();
    BuilderConfig cfg;
    cfg.device = gpu_target ? DeviceType::kGPU : DeviceType::kCPU;
    // No FP16 flag: float32 convolutions have no tensor-core layout to win.
    EXPECT_EQ(layout_channels_last(*net, cfg), 0);
    for (int i = 0; i < net->num_layers(); ++i)
      if (net->layer(i)->kind() == LayerKind::kConvolution)
        EXPECT_FALSE(static_cast<const ConvolutionLayer*>(net->layer(i))->p.channels_last);
  }
}

}  // namespace
}  // namespace torch2trt
