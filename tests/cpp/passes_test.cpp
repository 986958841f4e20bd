// Builder passes: each rewrites a tiny network as expected and leaves its outputs unchanged.
#include <gtest/gtest.h>

#include <random>

#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {

int remove_noop_layers(Network& net, const BuilderConfig& config);
int fold_constants(Network& net, const BuilderConfig& config);
int fold_scale_into_convolution(Network& net, const BuilderConfig& config);
int remove_dead_layers(Network& net, const BuilderConfig& config);

namespace {

std::vector<float> random(int64_t n, int seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Runs `net` built with or without passes; input "x" gets `x`; returns output "y".
std::vector<float> run(const Network& net, const std::vector<float>& x, bool optimize) {
  BuilderConfig cfg;
  cfg.optimization_level = optimize ? 3 : 0;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<float> in = x, out(e->io_dims("y").volume(), NAN);
  ctx->set_tensor_address("x", in.data());
  ctx->set_tensor_address("y", out.data());
  ctx->enqueue(nullptr);
  return out;
}

void expect_same_outputs(const Network& net, int64_t n) {
  auto x = random(n, 5);
  auto a = run(net, x, false), b = run(net, x, true);
  ASSERT_EQ(a.size(), b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += a[i] * a[i];
  EXPECT_LE(std::sqrt(num / den), 1e-6);
}

int count(const Network& n, LayerKind k) {
  int c = 0;
  for (int i = 0; i < n.num_layers(); ++i) c += n.layer(i)->kind() == k;
  return c;
}

TEST(Passes, RemoveNoopLayers) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3});
  Tensor* a = add_identity(net, x)->output(0);
  Tensor* b = add_cast(net, a, DataType::kFLOAT)->output(0);
  Tensor* c = add_shuffle(net, b)->output(0);
  Tensor* y = add_activation(net, c, ActivationType::kTANH)->output(0);
  y->set_name("y");
  net.mark_output(y);
  expect_same_outputs(net, 6);
  auto copy = net.clone();
  EXPECT_EQ(remove_noop_layers(*copy, BuilderConfig()), 3);
  EXPECT_EQ(copy->num_layers(), 1);
  EXPECT_EQ(copy->layer(0)->input(0), copy->input(0));
}

TEST(Passes, RemoveNoopKeepsRealTransposes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{3, 3});
  auto* s = add_shuffle(net, x);
  s->p.first_transpose = {1, 0};
  s->changed([] {});
  Tensor* y = add_activation(net, s->output(0), ActivationType::kRELU)->output(0);
  y->set_name("y");
  net.mark_output(y);
  auto copy = net.clone();
  EXPECT_EQ(remove_noop_layers(*copy, BuilderConfig()), 0);
  expect_same_outputs(net, 9);
}

TEST(Passes, FoldConstants) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3});
  Tensor* c1 = add_constant(net, Dims{1, 3}, Weights::f32({1, 2, 3}))->output(0);
  Tensor* c2 = add_constant(net, Dims{1, 3}, Weights::f32({0.5f, -1, 4}))->output(0);
  Tensor* k = add_elementwise(net, c1, c2, ElementWiseOperation::kPROD)->output(0);
  Tensor* k2 = add_activation(net, k, ActivationType::kRELU)->output(0);
  Tensor* y = add_elementwise(net, x, k2, ElementWiseOperation::kSUM)->output(0);
  y->set_name("y");
  net.mark_output(y);
  expect_same_outputs(net, 6);
  auto copy = net.clone();
  BuilderConfig cfg;
  run_passes(*copy, cfg);
  EXPECT_EQ(count(*copy, LayerKind::kActivation), 0);
  EXPECT_EQ(count(*copy, LayerKind::kElementWise), 1);
  EXPECT_EQ(count(*copy, LayerKind::kConstant), 1);
  copy->validate();
}

TEST(Passes, FoldBatchNormIntoConvolution) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 3, 6, 6});
  auto w = random(4 * 3 * 3 * 3, 1), b = random(4, 2), s = random(4, 3), t = random(4, 4);
  auto* conv = add_convolution_nd(net, x, 4, Dims{3, 3}, Weights::f32(w), Weights::f32(b));
  auto* sc = add_scale(net, conv->output(0), ScaleMode::kCHANNEL, Weights::f32(t), Weights::f32(s), Weights());
  Tensor* y = add_activation(net, sc->output(0), ActivationType::kRELU)->output(0);
  y->set_name("y");
  net.mark_output(y);
  expect_same_outputs(net, 108);
  auto copy = net.clone();
  EXPECT_EQ(fold_scale_into_convolution(*copy, BuilderConfig()), 1);
  EXPECT_EQ(count(*copy, LayerKind::kScale), 0);
}

TEST(Passes, ScaleAfterSharedConvolutionIsKept) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 2, 4, 4});
  auto* conv = add_convolution_nd(net, x, 2, Dims{1, 1}, Weights::f32(random(4, 1)), Weights());
  auto* sc = add_scale(net, conv->output(0), ScaleMode::kUNIFORM, Weights::f32({1}), Weights::f32({2}), Weights());
  Tensor* y = add_elementwise(net, sc->output(0), conv->output(0), ElementWiseOperation::kSUM)->output(0);
  y->set_name("y");
  net.mark_output(y);
  auto copy = net.clone();
  EXPECT_EQ(fold_scale_into_convolution(*copy, BuilderConfig()), 0);  // conv output is read twice
  expect_same_outputs(net, 32);
}

TEST(Passes, RemoveDeadLayers) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{4});
  add_activation(net, x, ActivationType::kSIGMOID);  // unused
  Tensor* y = add_activation(net, x, ActivationType::kRELU)->output(0);
  y->set_name("y");
  net.mark_output(y);
  auto copy = net.clone();
  EXPECT_EQ(remove_dead_layers(*copy, BuilderConfig()), 1);
  expect_same_outputs(net, 4);
}

TEST(Passes, AssignPrecisionHalf) {
  for (BuilderFlag flag : {BuilderFlag::kFP16, BuilderFlag::kBF16}) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 8});
    Tensor* c = add_constant(net, Dims{1, 8}, Weights::f32(random(8, 9)))->output(0);
    Tensor* a = add_elementwise(net, x, c, ElementWiseOperation::kSUM)->output(0);
    auto* pinned = add_activation(net, a, ActivationType::kSIGMOID);
    pinned->set_precision(DataType::kFLOAT);
    Tensor* y = add_activation(net, pinned->output(0), ActivationType::kTANH)->output(0);
    y->set_name("y");
    net.mark_output(y);
    BuilderConfig cfg;
    cfg.set_flag(flag);
    cfg.set_flag(BuilderFlag::kOBEY_PRECISION_CONSTRAINTS);
    auto e = Builder().build(net, cfg);
    const Network& opt = e->network();
    EXPECT_EQ(e->io_dtype("x"), DataType::kFLOAT);
    EXPECT_EQ(e->io_dtype("y"), DataType::kFLOAT);
    DataType low = flag == BuilderFlag::kFP16 ? DataType::kHALF : DataType::kBF16;
    int low_layers = 0, pinned_float = 0;
    for (int i = 0; i < opt.num_layers(); ++i) {
      const Layer* l = opt.layer(i);
      if (l->kind() == LayerKind::kActivation && l->output(0)->dtype() == low) ++low_layers;
      if (l->precision_is_set() && l->input(0)->dtype() == DataType::kFLOAT) ++pinned_float;
    }
    EXPECT_EQ(low_layers, 1);   // tanh runs reduced
    EXPECT_EQ(pinned_float, 1);  // sigmoid pinned to float32 reads float32
    auto xv = random(16, 3);
    auto ctx = e->create_execution_context();
    std::vector<float> out(16);
    ctx->set_tensor_address("x", xv.data());
    ctx->set_tensor_address("y", out.data());
    ctx->enqueue(nullptr);
    auto ref = run(net, xv, false);
    double num = 0, den = 0;
    for (int i = 0; i < 16; ++i) num += (out[i] - ref[i]) * (out[i] - ref[i]), den += ref[i] * ref[i];
    double err = std::sqrt(num / den);
    EXPECT_LE(err, 1e-2);
    EXPECT_GT(err, 0.0);  // the reduced type was really used
  }
}

}  // namespace
}  // namespace torch2trt
