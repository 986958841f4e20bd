// fuse_squeeze_excite: a global average pooling and two 1x1 convolutions become one SqueezeExcite layer; near
// misses stay as they are; the outputs do not change (optimization_level 0 against 3).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {

int fuse_convolution_epilogue(Network& net, const BuilderConfig& config);
int fuse_squeeze_excite(Network& net, const BuilderConfig& config);

namespace {

std::vector<float> random(int64_t n, int seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

std::vector<float> run(const Network& net, int level) {
  BuilderConfig cfg;
  cfg.optimization_level = level;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<float> x = random(net.input(0)->dims().volume(), 7, -2, 2);
  std::vector<float> y(e->io_dims("y").volume(), NAN);
  ctx->set_tensor_address(net.input(0)->name(), x.data());
  ctx->set_tensor_address("y", y.data());
  std::vector<std::vector<float>> others;  // other outputs: written, not compared
  others.reserve(net.num_outputs());
  for (int i = 0; i < net.num_outputs(); ++i) {
    const std::string& name = net.output(i)->name();
    if (name == "y") continue;
    others.emplace_back(e->io_dims(name).volume());
    ctx->set_tensor_address(name, others.back().data());
  }
  ctx->enqueue(nullptr);
  return y;
}

void expect_same_outputs(const Network& net) {
  std::vector<float> a = run(net, 0), b = run(net, 3);
  ASSERT_EQ(a.size(), b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(std::isfinite(b[i]));
    num += (a[i] - b[i]) * (a[i] - b[i]), den += a[i] * a[i];
  }
  EXPECT_LE(std::sqrt(num / den), 1e-6);
}

int count(const Network& n, LayerKind k) {
  int c = 0;
  for (int i = 0; i < n.num_layers(); ++i) c += n.layer(i)->kind() == k;
  return c;
}

// Passes as the builder runs them up to this one.
int fuse(Network& net) {
  fuse_convolution_epilogue(net, BuilderConfig());
  const int n = fuse_squeeze_excite(net, BuilderConfig());
  net.validate();
  return n;
}

ConvolutionLayer* conv1x1(Network& n, Tensor* x, int64_t k, int seed, bool bias = true) {
  const int64_t c = x->dims().d[1];
  Dims ks;
  ks.nb_dims = x->dims().nb_dims - 2;
  for (int i = 0; i < ks.nb_dims; ++i) ks.d[i] = 1;
  return add_convolution_nd(n, x, k, ks, Weights::f32(random(k * c, seed)),
                            bias ? Weights::f32(random(k, seed + 1)) : Weights());
}

struct Gate {
  PoolingLayer* pool;
  ConvolutionLayer* squeeze;
  ConvolutionLayer* excite;
  Tensor* y;
};

// x * sigmoid(conv(silu(conv(avgpool(x))))), as torchvision's SqueezeExcitation.
Gate se_block(Network& n, Tensor* x, int64_t s, bool adaptive = true) {
  Gate g;
  const Dims& d = x->dims();
  Dims ones, window;
  ones.nb_dims = window.nb_dims = d.nb_dims - 2;
  for (int i = 0; i < ones.nb_dims; ++i) ones.d[i] = 1, window.d[i] = d.d[i + 2];
  g.pool = adaptive ? add_adaptive_pooling_nd(n, x, PoolingType::kAVERAGE, ones)
                    : add_pooling_nd(n, x, PoolingType::kAVERAGE, window);
  g.squeeze = conv1x1(n, g.pool->output(0), s, 3);
  Tensor* h = add_activation(n, g.squeeze->output(0), ActivationType::kSILU)->output(0);
  g.excite = conv1x1(n, h, d.d[1], 5);
  Tensor* gate = add_activation(n, g.excite->output(0), ActivationType::kSIGMOID)->output(0);
  g.y = add_elementwise(n, x, gate, ElementWiseOperation::kPROD)->output(0);
  return g;
}

void output(Network& n, Tensor* y) {
  y->set_name("y");
  n.mark_output(y);
}

TEST(FuseSqueezeExcite, TorchvisionGateBecomesOneLayer) {
  for (bool adaptive : {true, false}) {
    SCOPED_TRACE(adaptive ? "adaptive pooling" : "windowed pooling");
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 24, 7, 7});
    output(net, se_block(net, x, 6, adaptive).y);
    expect_same_outputs(net);
    auto copy = net.clone();
    EXPECT_EQ(fuse(*copy), 1);
    EXPECT_EQ(count(*copy, LayerKind::kSqueezeExcite), 1);
    EXPECT_EQ(count(*copy, LayerKind::kPooling), 0);
    EXPECT_EQ(count(*copy, LayerKind::kConvolution), 0);
    const SqueezeExciteLayer* se = nullptr;
    for (int i = 0; i < copy->num_layers(); ++i)
      if (copy->layer(i)->kind() == LayerKind::kSqueezeExcite) se = static_cast<const SqueezeExciteLayer*>(copy->layer(i));
    ASSERT_NE(se, nullptr);
    EXPECT_EQ(se->p.squeeze_channels, 6);
    EXPECT_TRUE(se->p.has_act1 && se->p.act1.type == ActivationType::kSILU);
    EXPECT_TRUE(se->p.has_act2 && se->p.act2.type == ActivationType::kSIGMOID);
    EXPECT_TRUE(se->p.apply_to_input);  // the product x * gate joined
    EXPECT_EQ(count(*copy, LayerKind::kElementWise), 0);
    EXPECT_EQ(se->output(0)->dims(), (Dims{2, 24, 7, 7}));
    EXPECT_EQ(se->output(0)->name(), "y");
    EXPECT_EQ(fuse_squeeze_excite(*copy, BuilderConfig()), 0);  // nothing left to match
  }
}

TEST(FuseSqueezeExcite, GateReadTwiceStaysAGate) {
  // x * gate + gate: the product cannot join (the gate is read again), the gate alone fuses.
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 24, 7, 7});
  Gate g = se_block(net, x, 6);
  Tensor* gate = g.y->producer()->input(1);
  output(net, add_elementwise(net, g.y, gate, ElementWiseOperation::kSUM)->output(0));
  expect_same_outputs(net);
  auto copy = net.clone();
  EXPECT_EQ(fuse(*copy), 1);
  EXPECT_EQ(count(*copy, LayerKind::kElementWise), 2);
  for (int i = 0; i < copy->num_layers(); ++i)
    if (copy->layer(i)->kind() == LayerKind::kSqueezeExcite) {
      EXPECT_FALSE(static_cast<const SqueezeExciteLayer*>(copy->layer(i))->p.apply_to_input);
      EXPECT_EQ(copy->layer(i)->output(0)->dims(), (Dims{2, 24, 1, 1}));
    }
}

// timm's squeeze: x.mean((2, 3), keepdim=True), a Reduce AVG over the spatial axes.
TEST(FuseSqueezeExcite, SpatialMeanSqueeze) {
  for (uint32_t axes : {12u, 14u, 4u}) {  // (2, 3): fuses; (1, 2, 3) and (2) alone: not a per-channel mean
    SCOPED_TRACE("axes " + std::to_string(axes));
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 16, 5, 6});
    Tensor* m = add_reduce(net, x, ReduceOperation::kAVG, axes, true)->output(0);
    auto* sq = conv1x1(net, m, 4, 3);
    if (axes != 12u) {  // the other means do not give (N, C, 1, 1): reduce them on to it for valid convolutions
      output(net, sq->output(0));
      auto copy = net.clone();
      EXPECT_EQ(fuse(*copy), 0);
      continue;
    }
    Tensor* h = add_activation(net, sq->output(0), ActivationType::kRELU)->output(0);
    Tensor* gate = add_activation(net, conv1x1(net, h, 16, 5)->output(0), ActivationType::kHARD_SIGMOID)->output(0);
    output(net, add_elementwise(net, gate, x, ElementWiseOperation::kPROD)->output(0));  // gate first
    expect_same_outputs(net);
    auto copy = net.clone();
    EXPECT_EQ(fuse(*copy), 1);
    EXPECT_EQ(count(*copy, LayerKind::kReduce), 0);
    EXPECT_EQ(count(*copy, LayerKind::kElementWise), 0);
  }
}

Tensor* reshape(Network& n, Tensor* t, const Dims& d, std::vector<int32_t> perm = {}) {
  auto* s = add_shuffle(n, t);
  s->p.has_reshape = true;
  s->p.reshape_dims = d;
  s->p.first_transpose = perm;
  s->changed([] {});
  return s->output(0);
}

// A Linear layer as the converters write it (a (out, in) constant read TRANSPOSE), or its (in, out) form read as
// is; bias and activation as fuse_matmul_epilogue leaves them.
Tensor* linear(Network& n, Tensor* a, int64_t out, int seed, bool transposed, ActivationType act) {
  const int64_t in = a->dims().d[1];
  Tensor* b = add_constant(n, transposed ? Dims{out, in} : Dims{in, out}, Weights::f32(random(out * in, seed)))->output(0);
  auto* mm = add_matrix_multiply(n, a, MatrixOperation::kNONE, b, transposed ? MatrixOperation::kTRANSPOSE : MatrixOperation::kNONE);
  mm->p.bias = Weights::f32(random(out, seed + 1));
  mm->p.has_activation = true;
  mm->p.activation.type = act;
  mm->changed([] {});
  return mm->output(0);
}

// SENet's block: x * sigmoid(fc2(relu(fc1(avgpool(x).view(N, C))))).view(N, C, 1, 1).
TEST(FuseSqueezeExcite, SENetLinearForm) {
  for (bool transposed : {true, false}) {
    SCOPED_TRACE(transposed ? "(out, in) weights read TRANSPOSE" : "(in, out) weights");
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{3, 32, 6, 6});
    Tensor* p = add_adaptive_pooling_nd(net, x, PoolingType::kAVERAGE, Dims{1, 1})->output(0);
    Tensor* h = linear(net, reshape(net, p, Dims{3, 32}), 8, 3, transposed, ActivationType::kRELU);
    Tensor* gate = reshape(net, linear(net, h, 32, 5, transposed, ActivationType::kSIGMOID), Dims{3, 32, 1, 1});
    output(net, add_elementwise(net, x, gate, ElementWiseOperation::kPROD)->output(0));
    expect_same_outputs(net);
    auto copy = net.clone();
    EXPECT_EQ(fuse(*copy), 1);
    EXPECT_EQ(count(*copy, LayerKind::kMatrixMultiply), 0);
    EXPECT_EQ(count(*copy, LayerKind::kShuffle), 0);
    EXPECT_EQ(count(*copy, LayerKind::kSqueezeExcite), 1);
  }
  {  // a reshape that transposes is not a view of the channels
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{3, 32, 6, 6});
    Tensor* p = add_adaptive_pooling_nd(net, x, PoolingType::kAVERAGE, Dims{1, 1})->output(0);
    Tensor* h = linear(net, reshape(net, p, Dims{3, 32}, {1, 0, 2, 3}), 8, 3, true, ActivationType::kRELU);
    Tensor* gate = reshape(net, linear(net, h, 32, 5, true, ActivationType::kSIGMOID), Dims{3, 32, 1, 1});
    output(net, add_elementwise(net, x, gate, ElementWiseOperation::kPROD)->output(0));
    auto copy = net.clone();
    EXPECT_EQ(fuse(*copy), 0);
    expect_same_outputs(net);
  }
}

TEST(FuseSqueezeExcite, OneAndThreeSpatialDims) {
  for (Dims d : {Dims{2, 16, 30}, Dims{1, 16, 3, 4, 5}}) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, d);
    output(net, se_block(net, x, 4).y);
    auto copy = net.clone();
    EXPECT_EQ(fuse(*copy), 1) << d.str();
    expect_same_outputs(net);
  }
}

TEST(FuseSqueezeExcite, NearMissesAreLeftAlone) {
  auto expect_unfused = [](Network& net, const char* why) {
    SCOPED_TRACE(why);
    auto copy = net.clone();
    EXPECT_EQ(fuse(*copy), 0);
    EXPECT_EQ(count(*copy, LayerKind::kSqueezeExcite), 0);
    expect_same_outputs(net);
  };
  {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 16, 6, 6});
    Gate g = se_block(net, x, 4);
    g.pool->p.type = PoolingType::kMAX;
    g.pool->changed([] {});
    output(net, g.y);
    expect_unfused(net, "max pooling");
  }
  {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 16, 6, 6});
    auto* pool = add_pooling_nd(net, x, PoolingType::kAVERAGE, Dims{3, 3});  // to 2 x 2
    output(net, conv1x1(net, conv1x1(net, pool->output(0), 4, 3)->output(0), 16, 5)->output(0));
    expect_unfused(net, "pooling to 2 x 2");
  }
  {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 16, 6, 6});
    Gate g = se_block(net, x, 4);
    output(net, g.y);
    Tensor* h = g.squeeze->output(0);
    h->set_name("hidden");
    net.mark_output(h);
    expect_unfused(net, "hidden values are a network output");
  }
  {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 16, 6, 6});
    Gate g = se_block(net, x, 4);
    g.squeeze->set_precision(DataType::kFLOAT);
    output(net, g.y);
    expect_unfused(net, "a precision pin");
  }
  {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 16, 6, 6});
    auto* pool = add_adaptive_pooling_nd(net, x, PoolingType::kAVERAGE, Dims{1, 1});
    // Two groups: not a fully connected layer.
    auto* sq = add_convolution_nd(net, pool->output(0), 4, Dims{1, 1}, Weights::f32(random(4 * 8, 3)), Weights());
    sq->p.num_groups = 2;
    sq->changed([] {});
    auto* ex = conv1x1(net, sq->output(0), 16, 5);
    output(net, add_elementwise(net, x, ex->output(0), ElementWiseOperation::kPROD)->output(0));
    expect_unfused(net, "grouped convolution");
  }
}

}  // namespace
}  // namespace torch2trt
