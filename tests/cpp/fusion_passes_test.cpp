// Fusion passes (fuse_pointwise, fuse_gelu, fuse_silu, fuse_layer_norm, fuse_softmax): each rewrites a small
// network as expected, leaves what it must not touch alone, and the outputs do not change
// (optimization_level 0 against 3).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {

int fuse_pointwise(Network& net, const BuilderConfig& config);
int fuse_gelu(Network& net, const BuilderConfig& config);
int fuse_silu(Network& net, const BuilderConfig& config);
int fuse_layer_norm(Network& net, const BuilderConfig& config);
int fuse_softmax(Network& net, const BuilderConfig& config);

namespace {

using E = ElementWiseOperation;
using A = ActivationType;
using U = UnaryOperation;

std::vector<float> random(int64_t n, int seed, float lo = -2, float hi = 2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Runs `net` (float32 inputs, each filled with random values from its position) and returns every
// output, "y" first.
std::vector<std::vector<float>> run_all(const Network& net, const BuilderConfig& cfg) {
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<std::vector<float>> in, out;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    in.push_back(random(t->dims().volume(), 11 + i));
    ctx->set_tensor_address(t->name(), in.back().data());
  }
  std::vector<std::string> names = {"y"};
  for (int i = 0; i < net.num_outputs(); ++i)
    if (net.output(i)->name() != "y") names.push_back(net.output(i)->name());
  out.reserve(names.size());
  for (auto& n : names) {
    out.emplace_back(e->io_dims(n).volume(), NAN);
    ctx->set_tensor_address(n, out.back().data());
  }
  ctx->enqueue(nullptr);
  return out;
}

std::vector<float> run(const Network& net, const BuilderConfig& cfg) { return run_all(net, cfg)[0]; }

std::vector<float> run(const Network& net, bool optimize) {
  BuilderConfig cfg;
  cfg.optimization_level = optimize ? 3 : 0;
  return run(net, cfg);
}

double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
  return std::sqrt(num / den);
}

// Every output of `net` is the same built with the passes (level 3) and without them (level 0).
void expect_same_outputs(const Network& net, double tol = 1e-6) {
  BuilderConfig plain, optimized;
  plain.optimization_level = 0;
  auto a = run_all(net, plain), b = run_all(net, optimized);
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].size(), b[k].size());
    for (float v : b[k]) ASSERT_TRUE(std::isfinite(v));
    EXPECT_LE(rel_l2(b[k], a[k]), tol) << "output " << k;
  }
}

int count(const Network& n, LayerKind k) {
  int c = 0;
  for (int i = 0; i < n.num_layers(); ++i) c += n.layer(i)->kind() == k;
  return c;
}

std::vector<const PointwiseLayer*> pointwise_layers(const Network& n) {
  std::vector<const PointwiseLayer*> r;
  for (int i = 0; i < n.num_layers(); ++i)
    if (n.layer(i)->kind() == LayerKind::kPointwise) r.push_back(static_cast<const PointwiseLayer*>(n.layer(i)));
  return r;
}

// Small builders for readable networks.
Tensor* bin(Network& n, Tensor* a, Tensor* b, E op) { return add_elementwise(n, a, b, op)->output(0); }
Tensor* act(Network& n, Tensor* x, A t) { return add_activation(n, x, t)->output(0); }
Tensor* un(Network& n, Tensor* x, U op) { return add_unary(n, x, op)->output(0); }
Tensor* scalar(Network& n, float v, int rank) {
  Dims d;
  d.nb_dims = rank;
  for (int i = 0; i < rank; ++i) d.d[i] = 1;
  return add_constant(n, d, Weights::f32({v}))->output(0);
}
Tensor* constant(Network& n, const Dims& d, int seed) {
  return add_constant(n, d, Weights::f32(random(d.volume(), seed)))->output(0);
}
void output(Network& n, Tensor* y) {
  y->set_name("y");
  n.mark_output(y);
}

// ------------------------------------------------------------------------------------------------
// fuse_pointwise

TEST(FusePointwise, ChainWithScalarBecomesOneLayer) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3, 4});
  Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{2, 3, 4});
  Tensor* a = act(net, x, A::kRELU);
  Tensor* b = bin(net, a, scalar(net, 2.f, 3), E::kPROD);
  Tensor* c = bin(net, b, z, E::kSUM);
  output(net, act(net, c, A::kSIGMOID));
  expect_same_outputs(net);
  auto copy = net.clone();
  EXPECT_EQ(fuse_pointwise(*copy, BuilderConfig()), 1);
  copy->validate();
  auto pws = pointwise_layers(*copy);
  ASSERT_EQ(pws.size(), 1u);
  EXPECT_EQ(count(*copy, LayerKind::kActivation) + count(*copy, LayerKind::kElementWise), 0);
  EXPECT_EQ(pws[0]->num_inputs(), 2);  // x and z; the scalar 2 is a CONSTANT instruction
  EXPECT_EQ(pws[0]->p.program.size(), 5u);
  EXPECT_EQ(pws[0]->output(0)->name(), "y");
  EXPECT_TRUE(pws[0]->output(0)->is_output());
}

TEST(FusePointwise, TreeWithBroadcastConstants) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{3, 4});
  Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{3, 1});
  Tensor* left = bin(net, bin(net, x, constant(net, Dims{1, 4}, 1), E::kPROD), z, E::kSUM);
  Tensor* right = un(net, bin(net, x, scalar(net, 0.5f, 2), E::kSUB), U::kABS);
  output(net, bin(net, left, right, E::kMAX));
  expect_same_outputs(net);
  auto copy = net.clone();
  EXPECT_EQ(fuse_pointwise(*copy, BuilderConfig()), 1);
  auto pws = pointwise_layers(*copy);
  ASSERT_EQ(pws.size(), 1u);
  EXPECT_EQ(copy->num_layers(), 3);   // the (1, 4) constant, the 0.5 constant (now unread) and the Pointwise
  EXPECT_EQ(pws[0]->num_inputs(), 3);  // x (read by two members, once as input), the (1, 4) constant, z
}

TEST(FusePointwise, SharedIntermediateEndsAGroup) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
  Tensor* a = act(net, x, A::kRELU);  // read by two layers: computed once, not fused into either
  output(net, bin(net, act(net, a, A::kSIGMOID), act(net, a, A::kTANH), E::kSUM));
  expect_same_outputs(net);
  auto copy = net.clone();
  EXPECT_EQ(fuse_pointwise(*copy, BuilderConfig()), 1);
  EXPECT_EQ(count(*copy, LayerKind::kActivation), 1);
  auto pws = pointwise_layers(*copy);
  ASSERT_EQ(pws.size(), 1u);
  ASSERT_EQ(pws[0]->num_inputs(), 1);
  EXPECT_EQ(pws[0]->input(0)->producer()->kind(), LayerKind::kActivation);
}

TEST(FusePointwise, NetworkOutputInsideAChainIsKept) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
  Tensor* a = act(net, x, A::kRELU);
  a->set_name("a");
  net.mark_output(a);
  output(net, act(net, act(net, a, A::kSIGMOID), A::kTANH));
  auto copy = net.clone();
  EXPECT_EQ(fuse_pointwise(*copy, BuilderConfig()), 1);
  EXPECT_EQ(count(*copy, LayerKind::kActivation), 1);
  EXPECT_EQ(copy->find_io("a")->producer()->kind(), LayerKind::kActivation);
  EXPECT_EQ(copy->find_io("y")->producer()->kind(), LayerKind::kPointwise);
  expect_same_outputs(net);
}

TEST(FusePointwise, SingleLayersStayAsTheyAre) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
  output(net, act(net, x, A::kRELU));
  auto copy = net.clone();
  EXPECT_EQ(fuse_pointwise(*copy, BuilderConfig()), 0);
  EXPECT_EQ(count(*copy, LayerKind::kActivation), 1);
}

TEST(FusePointwise, UniformScaleJoinsOtherModesDoNot) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 3, 2, 2});
  Tensor* s = add_scale(net, x, ScaleMode::kUNIFORM, Weights::f32({0.5f}), Weights::f32({1.5f}), Weights::f32({2.f}))
                  ->output(0);
  Tensor* r = act(net, s, A::kTANH);
  Tensor* c = add_scale(net, r, ScaleMode::kCHANNEL, Weights::f32({1, 2, 3}), Weights(), Weights())->output(0);
  output(net, act(net, c, A::kRELU));
  expect_same_outputs(net);
  auto copy = net.clone();
  EXPECT_EQ(fuse_pointwise(*copy, BuilderConfig()), 1);
  EXPECT_EQ(count(*copy, LayerKind::kScale), 1);  // the CHANNEL one
  auto pws = pointwise_layers(*copy);
  ASSERT_EQ(pws.size(), 1u);
  EXPECT_EQ(pws[0]->p.program.size(), 7u);  // 3 constants, PROD, SUM, POW, TANH
}

TEST(FusePointwise, LongChainsSplitAtTheInstructionLimit) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{16});
  Tensor* t = x;
  for (int i = 0; i < 60; ++i) t = act(net, t, i % 2 ? A::kTANH : A::kSIGMOID);
  output(net, t);
  expect_same_outputs(net);
  auto copy = net.clone();
  fuse_pointwise(*copy, BuilderConfig());
  auto pws = pointwise_layers(*copy);
  ASSERT_EQ(pws.size(), 2u);
  EXPECT_EQ(pws[0]->p.program.size() + pws[1]->p.program.size(), 60u);
  for (auto* p : pws) EXPECT_LE(p->p.program.size(), static_cast<size_t>(kMaxPointwiseInstructions));
  EXPECT_EQ(count(*copy, LayerKind::kActivation), 0);
}

TEST(FusePointwise, ManyInputsSplitAtTheInputLimit) {
  Network net;
  std::vector<Tensor*> xs;
  for (int i = 0; i < 12; ++i) xs.push_back(net.add_input("x" + std::to_string(i), DataType::kFLOAT, Dims{5}));
  Tensor* t = xs[0];
  for (int i = 1; i < 12; ++i) t = bin(net, t, xs[i], E::kSUM);
  output(net, t);
  expect_same_outputs(net);
  auto copy = net.clone();
  fuse_pointwise(*copy, BuilderConfig());
  copy->validate();
  auto pws = pointwise_layers(*copy);
  ASSERT_GE(pws.size(), 2u);
  for (auto* p : pws) EXPECT_LE(p->num_inputs(), kMaxPointwiseInputs);
}

TEST(FusePointwise, PinnedComparisonIntegerAndCastLayersAreNotFused) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{6});
  auto* pinned = add_activation(net, x, A::kSIGMOID);
  pinned->set_precision(DataType::kFLOAT);
  Tensor* a = act(net, pinned->output(0), A::kTANH);
  Tensor* cmp = bin(net, a, scalar(net, 0.f, 1), E::kGREATER);  // bool: ends the float chain
  Tensor* i = add_cast(net, cmp, DataType::kINT32)->output(0);
  Tensor* j = bin(net, i, i, E::kSUM);  // integer arithmetic is not fused
  Tensor* f = add_cast(net, j, DataType::kFLOAT)->output(0);
  output(net, act(net, f, A::kRELU));
  auto copy = net.clone();
  EXPECT_EQ(fuse_pointwise(*copy, BuilderConfig()), 0);
  expect_same_outputs(net);
}

TEST(FusePointwise, HalfPrecisionEngine) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{4, 8});
  Tensor* a = bin(net, act(net, x, A::kGELU_ERF), constant(net, Dims{1, 8}, 3), E::kSUM);
  output(net, act(net, a, A::kTANH));
  for (BuilderFlag flag : {BuilderFlag::kFP16, BuilderFlag::kBF16}) {
    BuilderConfig cfg;
    cfg.set_flag(flag);
    auto e = Builder().build(net, cfg);
    auto pws = pointwise_layers(e->network());
    ASSERT_EQ(pws.size(), 1u);
    EXPECT_EQ(pws[0]->output(0)->dtype(), flag == BuilderFlag::kFP16 ? DataType::kHALF : DataType::kBF16);
    double err = rel_l2(run(net, cfg), run(net, false));
    EXPECT_LE(err, 1e-2);
    EXPECT_GT(err, 0.0);
  }
}

TEST(FusePointwise, FusedEngineSurvivesAnEngineFile) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 5});
  output(net, act(net, bin(net, x, x, E::kPROD), A::kSOFTSIGN));  // x * x: one input read in two slots
  auto e = Builder().build(net, BuilderConfig());
  ASSERT_EQ(pointwise_layers(e->network()).size(), 1u);
  EXPECT_EQ(pointwise_layers(e->network())[0]->num_inputs(), 1);
  auto bytes = e->serialize();
  auto back = Engine::deserialize(bytes.data(), bytes.size());
  auto ctx = back->create_execution_context();
  auto xv = random(10, 11);
  std::vector<float> y(10);
  ctx->set_tensor_address("x", xv.data());
  ctx->set_tensor_address("y", y.data());
  ctx->enqueue(nullptr);
  for (int i = 0; i < 10; ++i) EXPECT_FLOAT_EQ(y[i], xv[i] * xv[i] / (1 + xv[i] * xv[i]));
}

TEST(FusePointwise, RunTimeShapes) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{-1, 4});
  Tensor* b = constant(net, Dims{1, 4}, 5);
  output(net, act(net, bin(net, act(net, x, A::kELU), b, E::kSUB), A::kSOFTPLUS));
  auto e = Builder().build(net, BuilderConfig());
  ASSERT_EQ(pointwise_layers(e->network()).size(), 1u);
  for (int64_t rows : {1, 3}) {
    auto ctx = e->create_execution_context();
    ctx->set_input_shape("x", Dims{rows, 4});
    auto xv = random(rows * 4, 7);
    std::vector<float> y(rows * 4);
    ctx->set_tensor_address("x", xv.data());
    ctx->set_tensor_address("y", y.data());
    ctx->enqueue(nullptr);
    const auto& bv = static_cast<const ConstantLayer*>(b->producer())->p.weights;
    for (int64_t i = 0; i < rows * 4; ++i) {
      double v = xv[i] >= 0 ? xv[i] : std::exp(xv[i]) - 1;
      v -= bv.at(i % 4);
      EXPECT_NEAR(y[i], v > 20 ? v : std::log1p(std::exp(v)), 1e-6);
    }
  }
}

// ------------------------------------------------------------------------------------------------
// fuse_gelu

Tensor* gelu_erf_written_out(Network& n, Tensor* x, int variant) {
  const int r = x->dims().nb_dims;
  if (variant == 0) {  // HF: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))
    Tensor* e = un(n, bin(n, x, scalar(n, std::sqrt(2.f), r), E::kDIV), U::kERF);
    return bin(n, bin(n, x, scalar(n, 0.5f, r), E::kPROD), bin(n, scalar(n, 1.f, r), e, E::kSUM), E::kPROD);
  }
  // 0.5 * (x * (erf(x * 0.70710678) + 1))
  Tensor* e = un(n, bin(n, scalar(n, 0.70710678f, r), x, E::kPROD), U::kERF);
  return bin(n, scalar(n, 0.5f, r), bin(n, x, bin(n, e, scalar(n, 1.f, r), E::kSUM), E::kPROD), E::kPROD);
}

Tensor* gelu_tanh_written_out(Network& n, Tensor* x, int variant) {
  const int r = x->dims().nb_dims;
  const float k = std::sqrt(2.f / static_cast<float>(M_PI));
  Tensor* inner;
  if (variant == 0) {  // GPT-2: k * (x + 0.044715 * pow(x, 3))
    Tensor* cube = bin(n, x, scalar(n, 3.f, r), E::kPOW);
    inner = bin(n, scalar(n, k, r), bin(n, x, bin(n, scalar(n, 0.044715f, r), cube, E::kPROD), E::kSUM), E::kPROD);
  } else {  // fast form: x * k * (1 + 0.044715 * x * x)
    Tensor* xx = bin(n, x, x, E::kPROD);
    Tensor* poly = bin(n, scalar(n, 1.f, r), bin(n, scalar(n, 0.044715f, r), xx, E::kPROD), E::kSUM);
    inner = bin(n, bin(n, x, scalar(n, k, r), E::kPROD), poly, E::kPROD);
  }
  Tensor* t = act(n, inner, A::kTANH);
  return bin(n, bin(n, scalar(n, 0.5f, r), x, E::kPROD), bin(n, t, scalar(n, 1.f, r), E::kSUM), E::kPROD);
}

void expect_gelu(const std::function<Tensor*(Network&, Tensor*)>& make, A type) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3, 16});
  output(net, make(net, x));
  expect_same_outputs(net);
  auto copy = net.clone();
  EXPECT_EQ(fuse_gelu(*copy, BuilderConfig()), 1);
  copy->validate();
  EXPECT_EQ(count(*copy, LayerKind::kElementWise) + count(*copy, LayerKind::kUnary), 0);
  ASSERT_EQ(count(*copy, LayerKind::kActivation), 1);
  const Tensor* y = copy->find_io("y");
  ASSERT_EQ(y->producer()->kind(), LayerKind::kActivation);
  EXPECT_EQ(static_cast<const ActivationLayer*>(y->producer())->p.type, type);
  EXPECT_EQ(y->producer()->input(0), copy->input(0));
}

TEST(FuseGelu, ErfForms) {
  for (int v = 0; v < 2; ++v)
    expect_gelu([v](Network& n, Tensor* x) { return gelu_erf_written_out(n, x, v); }, A::kGELU_ERF);
}

TEST(FuseGelu, TanhForms) {
  for (int v = 0; v < 2; ++v)
    expect_gelu([v](Network& n, Tensor* x) { return gelu_tanh_written_out(n, x, v); }, A::kGELU_TANH);
}

TEST(FuseGelu, GeluFeedingMoreWorkStillFuses) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{4, 8});
  output(net, bin(net, gelu_erf_written_out(net, x, 0), scalar(net, 3.f, 2), E::kPROD));
  auto copy = net.clone();
  EXPECT_EQ(fuse_gelu(*copy, BuilderConfig()), 1);
  expect_same_outputs(net);
}

TEST(FuseGelu, NearMissesAreLeftAlone) {
  {  // 0.6 instead of 0.5
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    Tensor* e = un(net, bin(net, x, scalar(net, std::sqrt(2.f), 1), E::kDIV), U::kERF);
    output(net, bin(net, bin(net, x, scalar(net, 0.6f, 1), E::kPROD), bin(net, scalar(net, 1.f, 1), e, E::kSUM),
                    E::kPROD));
    auto copy = net.clone();
    EXPECT_EQ(fuse_gelu(*copy, BuilderConfig()), 0);
  }
  {  // erf of a different tensor
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{8});
    Tensor* e = un(net, bin(net, z, scalar(net, std::sqrt(2.f), 1), E::kDIV), U::kERF);
    output(net, bin(net, bin(net, x, scalar(net, 0.5f, 1), E::kPROD), bin(net, scalar(net, 1.f, 1), e, E::kSUM),
                    E::kPROD));
    auto copy = net.clone();
    EXPECT_EQ(fuse_gelu(*copy, BuilderConfig()), 0);
  }
  {  // the erf is also a network output: it must still be computed
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    Tensor* e = un(net, bin(net, x, scalar(net, std::sqrt(2.f), 1), E::kDIV), U::kERF);
    e->set_name("erf");
    net.mark_output(e);
    output(net, bin(net, bin(net, x, scalar(net, 0.5f, 1), E::kPROD), bin(net, scalar(net, 1.f, 1), e, E::kSUM),
                    E::kPROD));
    auto copy = net.clone();
    EXPECT_EQ(fuse_gelu(*copy, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
  {  // a layer pinned to a precision keeps its pin: no fusion through it
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    auto* erf = add_unary(net, bin(net, x, scalar(net, std::sqrt(2.f), 1), E::kDIV), U::kERF);
    erf->set_precision(DataType::kFLOAT);
    output(net, bin(net, bin(net, x, scalar(net, 0.5f, 1), E::kPROD),
                    bin(net, scalar(net, 1.f, 1), erf->output(0), E::kSUM), E::kPROD));
    auto copy = net.clone();
    EXPECT_EQ(fuse_gelu(*copy, BuilderConfig()), 0);
  }
  {  // tanh form with the cubic coefficient of another approximation
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    Tensor* cube = bin(net, x, scalar(net, 3.f, 1), E::kPOW);
    Tensor* inner = bin(net, scalar(net, 0.7978845608f, 1),
                        bin(net, x, bin(net, scalar(net, 0.05f, 1), cube, E::kPROD), E::kSUM), E::kPROD);
    Tensor* t = act(net, inner, A::kTANH);
    output(net, bin(net, bin(net, scalar(net, 0.5f, 1), x, E::kPROD), bin(net, t, scalar(net, 1.f, 1), E::kSUM),
                    E::kPROD));
    auto copy = net.clone();
    EXPECT_EQ(fuse_gelu(*copy, BuilderConfig()), 0);
  }
}

// ------------------------------------------------------------------------------------------------
// fuse_silu

// The network's "y" is one Activation SILU reading `x` and nothing else is left.
void expect_one_silu(const Network& net, const Tensor* x) {
  ASSERT_EQ(net.num_layers(), 1);
  const Tensor* y = net.find_io("y");
  ASSERT_EQ(y->producer()->kind(), LayerKind::kActivation);
  EXPECT_EQ(static_cast<const ActivationLayer*>(y->producer())->p.type, A::kSILU);
  EXPECT_EQ(y->producer()->input(0), x);
}

TEST(FuseSilu, EitherOperandOrder) {
  for (int order = 0; order < 2; ++order) {
    SCOPED_TRACE(order == 0 ? "x * sigmoid(x)" : "sigmoid(x) * x");
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3, 16});
    Tensor* s = act(net, x, A::kSIGMOID);
    output(net, order == 0 ? bin(net, x, s, E::kPROD) : bin(net, s, x, E::kPROD));
    expect_same_outputs(net);
    auto copy = net.clone();
    EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 1);
    copy->validate();
    expect_one_silu(*copy, copy->input(0));
    EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 0);  // nothing left to match
  }
}

TEST(FuseSilu, ChainedSilusAndReadersOfTheResult) {
  // silu(silu(x)) * 3 + silu(silu(x)): both fuse, and both readers of the second one read the activation.
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{4, 8});
  Tensor* a = bin(net, x, act(net, x, A::kSIGMOID), E::kPROD);
  Tensor* b = bin(net, act(net, a, A::kSIGMOID), a, E::kPROD);
  output(net, bin(net, bin(net, b, scalar(net, 3.f, 2), E::kPROD), b, E::kSUM));
  expect_same_outputs(net);
  auto copy = net.clone();
  EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 2);
  copy->validate();
  EXPECT_EQ(count(*copy, LayerKind::kActivation), 2);
  EXPECT_EQ(count(*copy, LayerKind::kElementWise), 2);  // the * 3 and the sum
  for (int i = 0; i < copy->num_layers(); ++i) {
    const Layer* l = copy->layer(i);
    if (l->kind() == LayerKind::kActivation)
      EXPECT_EQ(static_cast<const ActivationLayer*>(l)->p.type, A::kSILU);
  }
}

TEST(FuseSilu, NetworkOutputKeepsItsNameAndPosition) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
  Tensor* first = act(net, x, A::kTANH);
  first->set_name("first");
  net.mark_output(first);
  output(net, bin(net, x, act(net, x, A::kSIGMOID), E::kPROD));
  auto copy = net.clone();
  EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 1);
  ASSERT_EQ(copy->num_outputs(), 2);
  EXPECT_EQ(copy->output(0)->name(), "first");
  EXPECT_EQ(copy->output(1)->name(), "y");
  EXPECT_EQ(static_cast<const ActivationLayer*>(copy->output(1)->producer())->p.type, A::kSILU);
  expect_same_outputs(net);
}

TEST(FuseSilu, NearMissesAreLeftAlone) {
  {  // the sigmoid is read elsewhere too: it must still be computed
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    Tensor* s = act(net, x, A::kSIGMOID);
    output(net, bin(net, bin(net, x, s, E::kPROD), s, E::kSUM));
    auto copy = net.clone();
    EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
  {  // the sigmoid is a network output
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    Tensor* s = act(net, x, A::kSIGMOID);
    s->set_name("gate");
    net.mark_output(s);
    output(net, bin(net, s, x, E::kPROD));
    auto copy = net.clone();
    EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
  {  // sigmoid(x) times another tensor (a gate, as in GLU or squeeze-and-excitation)
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{8});
    output(net, bin(net, z, act(net, x, A::kSIGMOID), E::kPROD));
    auto copy = net.clone();
    EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 0);
  }
  {  // x times another activation of x, or x plus sigmoid(x)
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    Tensor* t = bin(net, x, act(net, x, A::kTANH), E::kPROD);
    output(net, bin(net, t, act(net, t, A::kSIGMOID), E::kSUM));
    auto copy = net.clone();
    EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 0);
  }
  {  // a layer pinned to a precision keeps its pin: the sigmoid, then the product
    for (int pinned = 0; pinned < 2; ++pinned) {
      Network net;
      Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
      auto* sig = add_activation(net, x, A::kSIGMOID);
      auto* prod = add_elementwise(net, x, sig->output(0), E::kPROD);
      (pinned == 0 ? static_cast<Layer*>(sig) : static_cast<Layer*>(prod))->set_precision(DataType::kFLOAT);
      output(net, prod->output(0));
      auto copy = net.clone();
      EXPECT_EQ(fuse_silu(*copy, BuilderConfig()), 0) << (pinned == 0 ? "sigmoid pinned" : "product pinned");
    }
  }
}

TEST(FuseSilu, BecomesTheConvolutionsFusedActivation) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 3, 8, 8});
  auto* conv = add_convolution_nd(net, x, 4, Dims{3, 3}, Weights::f32(random(4 * 3 * 9, 5)),
                                  Weights::f32(random(4, 6)));
  Tensor* c = conv->output(0);
  output(net, bin(net, c, act(net, c, A::kSIGMOID), E::kPROD));
  expect_same_outputs(net, 1e-5);
  auto e = Builder().build(net, BuilderConfig());
  const Network& opt = e->network();
  ASSERT_EQ(opt.num_layers(), 1);
  ASSERT_EQ(opt.layer(0)->kind(), LayerKind::kConvolution);
  const auto& p = static_cast<const ConvolutionLayer*>(opt.layer(0))->p;
  EXPECT_TRUE(p.has_activation);
  EXPECT_EQ(p.activation.type, A::kSILU);
}

// ------------------------------------------------------------------------------------------------
// fuse_layer_norm

struct LnOptions {
  bool square_as_product = false;
  int rsqrt = 0;  // 0: d / sqrt, 1: d * recip(sqrt), 2: d * pow(., -0.5)
  bool eps = true, gamma = true, beta = true;
  uint32_t axes = 1u << 2;
  uint32_t second_axes = 0;  // 0: same as axes
  bool deviation_twice = false;  // (x - u).pow(2) ... (x - u) / std, as BERT's original LayerNorm
};

Tensor* layer_norm_written_out(Network& n, Tensor* x, const LnOptions& o) {
  const int r = x->dims().nb_dims;
  Tensor* mean = add_reduce(n, x, ReduceOperation::kAVG, o.axes, true)->output(0);
  Tensor* d = bin(n, x, mean, E::kSUB);
  Tensor* sq = o.square_as_product ? bin(n, d, d, E::kPROD) : bin(n, d, scalar(n, 2.f, r), E::kPOW);
  Tensor* var = add_reduce(n, sq, ReduceOperation::kAVG, o.second_axes ? o.second_axes : o.axes, true)->output(0);
  Tensor* ve = o.eps ? bin(n, scalar(n, 1e-5f, r), var, E::kSUM) : var;
  Tensor* y;
  if (o.deviation_twice) d = bin(n, x, mean, E::kSUB);
  if (o.rsqrt == 0)
    y = bin(n, d, un(n, ve, U::kSQRT), E::kDIV);
  else if (o.rsqrt == 1)
    y = bin(n, un(n, un(n, ve, U::kSQRT), U::kRECIP), d, E::kPROD);
  else
    y = bin(n, d, bin(n, ve, scalar(n, -0.5f, r), E::kPOW), E::kPROD);
  Dims cd;
  cd.nb_dims = r;
  for (int i = 0; i < r; ++i) cd.d[i] = (o.axes >> i & 1) ? x->dims().d[i] : 1;
  if (o.gamma) y = bin(n, y, constant(n, cd, 21), E::kPROD);
  if (o.beta) y = bin(n, constant(n, cd, 22), y, E::kSUM);
  return y;
}

void expect_layer_norm(const LnOptions& o) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 5, 12});
  output(net, layer_norm_written_out(net, x, o));
  expect_same_outputs(net, 1e-5);
  auto copy = net.clone();
  EXPECT_EQ(fuse_layer_norm(*copy, BuilderConfig()), 1);
  copy->validate();
  const Tensor* y = copy->find_io("y");
  ASSERT_EQ(y->producer()->kind(), LayerKind::kNormalization);
  const auto* norm = static_cast<const NormalizationLayer*>(y->producer());
  EXPECT_EQ(norm->p.axes, o.axes);
  EXPECT_FLOAT_EQ(norm->p.epsilon, o.eps ? 1e-5f : 0.f);
  EXPECT_EQ(norm->input(0), copy->input(0));
  EXPECT_EQ(count(*copy, LayerKind::kReduce) + count(*copy, LayerKind::kElementWise) + count(*copy, LayerKind::kUnary),
            0);
}

TEST(FuseLayerNorm, DivideBySqrtWithAffine) { expect_layer_norm({}); }

TEST(FuseLayerNorm, ProductSquareAndReciprocal) {
  LnOptions o;
  o.square_as_product = true;
  o.rsqrt = 1;
  o.gamma = false;
  expect_layer_norm(o);
}

TEST(FuseLayerNorm, PowMinusHalfWithoutEpsOrAffine) {
  LnOptions o;
  o.rsqrt = 2;
  o.eps = o.gamma = o.beta = false;
  expect_layer_norm(o);
}

TEST(FuseLayerNorm, DeviationComputedTwice) {
  LnOptions o;
  o.deviation_twice = true;
  expect_layer_norm(o);
  o.rsqrt = 1;
  expect_layer_norm(o);
}

TEST(FuseLayerNorm, TwoTrailingAxes) {
  LnOptions o;
  o.axes = (1u << 1) | (1u << 2);
  expect_layer_norm(o);
}

TEST(FuseLayerNorm, MismatchedAxesOrSharedDeviationAreLeftAlone) {
  {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 5, 12});
    LnOptions o;
    o.second_axes = 1u << 1;
    output(net, layer_norm_written_out(net, x, o));
    auto copy = net.clone();
    EXPECT_EQ(fuse_layer_norm(*copy, BuilderConfig()), 0);
  }
  {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 5, 12});
    Tensor* mean = add_reduce(net, x, ReduceOperation::kAVG, 4, true)->output(0);
    Tensor* d = bin(net, x, mean, E::kSUB);
    Tensor* var = add_reduce(net, bin(net, d, d, E::kPROD), ReduceOperation::kAVG, 4, true)->output(0);
    Tensor* n = bin(net, d, un(net, var, U::kSQRT), E::kDIV);
    output(net, bin(net, n, d, E::kSUM));  // d read a third time, outside the pattern
    auto copy = net.clone();
    EXPECT_EQ(fuse_layer_norm(*copy, BuilderConfig()), 0);
  }
}

// ------------------------------------------------------------------------------------------------
// fuse_softmax

// with_max: 0 none, 1 a MAX reduction, 2 a MAX top-1 (x.max(dim, keepdim=True) as converted).
Tensor* softmax_written_out(Network& n, Tensor* x, int axis, int with_max, bool recip, int sum_axis = -1) {
  Tensor* u = x;
  if (with_max == 1) u = bin(n, x, add_reduce(n, x, ReduceOperation::kMAX, 1u << axis, true)->output(0), E::kSUB);
  if (with_max == 2) u = bin(n, x, add_topk(n, x, TopKOperation::kMAX, 1, 1u << axis)->output(0), E::kSUB);
  Tensor* e = un(n, u, U::kEXP);
  Tensor* s = add_reduce(n, e, ReduceOperation::kSUM, 1u << (sum_axis < 0 ? axis : sum_axis), true)->output(0);
  return recip ? bin(n, un(n, s, U::kRECIP), e, E::kPROD) : bin(n, e, s, E::kDIV);
}

void expect_softmax(int axis, int with_max, bool recip) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 6, 10});
  output(net, softmax_written_out(net, x, axis, with_max, recip));
  expect_same_outputs(net, 1e-6);
  auto copy = net.clone();
  EXPECT_EQ(fuse_softmax(*copy, BuilderConfig()), 1);
  copy->validate();
  ASSERT_EQ(copy->num_layers(), 1);
  const Layer* l = copy->layer(0);
  ASSERT_EQ(l->kind(), LayerKind::kSoftMax);
  EXPECT_EQ(static_cast<const SoftMaxLayer*>(l)->p.axes, 1u << axis);
  EXPECT_EQ(l->input(0), copy->input(0));
}

TEST(FuseSoftmax, WithMaxSubtracted) {
  expect_softmax(2, 1, false);
  expect_softmax(1, 1, true);
}

TEST(FuseSoftmax, WithTopOneMaxSubtracted) {
  expect_softmax(2, 2, false);
  Network net;  // the top-1 indices are also read: the top-k must stay, so no fusion
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 6, 10});
  auto* top = add_topk(net, x, TopKOperation::kMAX, 1, 4);
  Tensor* e = un(net, bin(net, x, top->output(0), E::kSUB), U::kEXP);
  Tensor* s = add_reduce(net, e, ReduceOperation::kSUM, 4, true)->output(0);
  output(net, bin(net, e, s, E::kDIV));
  top->output(1)->set_name("idx");
  net.mark_output(top->output(1));
  auto copy = net.clone();
  EXPECT_EQ(fuse_softmax(*copy, BuilderConfig()), 1);  // as the version without the max, on x - max
  EXPECT_EQ(count(*copy, LayerKind::kTopK), 1);
  EXPECT_EQ(copy->find_io("y")->producer()->input(0)->producer()->kind(), LayerKind::kElementWise);
}

TEST(FuseSoftmax, WithoutMax) {
  expect_softmax(2, 0, false);
  expect_softmax(0, 0, true);
}

TEST(FuseSoftmax, MaxOverAnotherAxisStaysOutside) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 6, 10});
  output(net, softmax_written_out(net, x, 2, 1, false, 1));  // max over axis 2, sum over axis 1
  expect_same_outputs(net);
  auto copy = net.clone();
  EXPECT_EQ(fuse_softmax(*copy, BuilderConfig()), 1);
  const Layer* sm = copy->find_io("y")->producer();
  ASSERT_EQ(sm->kind(), LayerKind::kSoftMax);
  EXPECT_EQ(static_cast<const SoftMaxLayer*>(sm)->p.axes, 2u);
  EXPECT_EQ(sm->input(0)->producer()->kind(), LayerKind::kElementWise);  // softmax(x - max) over axis 1
  EXPECT_EQ(count(*copy, LayerKind::kReduce), 1);
}

// ------------------------------------------------------------------------------------------------
// All passes through the builder: the pattern passes claim their layers before fuse_pointwise.

TEST(FusionPasses, TransformerBlockThroughTheBuilder) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 4, 16});
  Tensor* h = layer_norm_written_out(net, x, LnOptions{});
  h = gelu_tanh_written_out(net, h, 0);
  h = bin(net, h, x, E::kSUM);  // residual
  h = softmax_written_out(net, h, 2, 1, false);
  output(net, act(net, bin(net, h, scalar(net, 4.f, 3), E::kPROD), A::kTANH));
  expect_same_outputs(net, 1e-5);
  auto e = Builder().build(net, BuilderConfig());
  const Network& opt = e->network();
  EXPECT_EQ(count(opt, LayerKind::kNormalization), 1);
  EXPECT_EQ(count(opt, LayerKind::kSoftMax), 1);
  EXPECT_EQ(count(opt, LayerKind::kReduce) + count(opt, LayerKind::kUnary), 0);
  // GELU + residual add fuse into one Pointwise; the scale and tanh after the softmax into another.
  auto pws = pointwise_layers(opt);
  EXPECT_EQ(pws.size(), 2u);
  EXPECT_EQ(count(opt, LayerKind::kActivation) + count(opt, LayerKind::kElementWise), 0);
}

}  // namespace
}  // namespace torch2trt
