// The fuse_matmul_epilogue pass: bias adds, a residual add and an activation after a MatrixMultiply fold
// into its epilogue, and a per-column Scale folds into a constant B. Each case checks the rewritten graph
// and that the outputs did not change (optimization_level 0 against 3); what must not fuse is left alone.
// The fused layer itself runs through the harness in tests/cpp/ops/matmul_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "harness.h"
#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace torch2trt {
int fuse_matmul_epilogue(Network& net, const BuilderConfig& config);
}

namespace t2t_test {
namespace {

using A = ActivationType;
using E = ElementWiseOperation;
using Op = MatrixOperation;

constexpr int64_t kB = 2, kL = 5, kK = 8, kN = 6;  // x (B, L, K) x W^T (N, K) -> (B, L, N)

std::vector<float> random_floats(int64_t n, int seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

Tensor* constant(Network& net, const Dims& d, int seed) {
  return add_constant(net, d, Weights::f32(random_floats(d.volume(), seed)))->output(0);
}

// A Linear without its bias: x (.., K) x W^T, W a (1, N, K) constant (as the converter makes it).
MatrixMultiplyLayer* add_linear(Network& net, Tensor* x, int64_t n, int seed) {
  int64_t k = x->dims().d[x->dims().nb_dims - 1];
  Dims wd;
  wd.nb_dims = x->dims().nb_dims;
  for (int i = 0; i < wd.nb_dims - 2; ++i) wd.d[i] = 1;
  wd.d[wd.nb_dims - 2] = n;
  wd.d[wd.nb_dims - 1] = k;
  return add_matrix_multiply(net, x, Op::kNONE, constant(net, wd, seed), Op::kTRANSPOSE);
}

Tensor* bias_constant(Network& net, int64_t n, int rank, int seed) {
  Dims d;
  d.nb_dims = rank;
  for (int i = 0; i < rank; ++i) d.d[i] = 1;
  d.d[rank - 1] = n;
  return constant(net, d, seed);
}

void name_output(Network& net, Tensor* t) {
  t->set_name("y");
  net.mark_output(t);
}

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

MatrixMultiplyLayer* output_matmul(const Network& net) {
  Layer* l = net.output(0)->producer();
  EXPECT_EQ(l->kind(), LayerKind::kMatrixMultiply);
  return static_cast<MatrixMultiplyLayer*>(l);
}

// Linear -> + bias (rank `bias_rank`) -> + residual z (on the left) -> activation, the output named y.
void build_block(Network& net, int bias_rank, A act) {
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
  Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{kB, kL, kN});
  Tensor* t = add_linear(net, x, kN, 3)->output(0);
  t = add_elementwise(net, t, bias_constant(net, kN, bias_rank, 4), E::kSUM)->output(0);
  t = add_elementwise(net, z, t, E::kSUM)->output(0);
  name_output(net, add_activation(net, t, act)->output(0));
}

TEST(FuseMatmulEpilogue, BiasResidualActivation) {
  for (int bias_rank : {1, 3})
    for (A act : {A::kGELU_ERF, A::kRELU, A::kGELU_TANH}) {
      SCOPED_TRACE("bias rank " + std::to_string(bias_rank) + ", " + activation_type_name(act));
      Network net;
      build_block(net, bias_rank, act);
      expect_same_outputs(net);
      EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 3);
      EXPECT_EQ(count(net, LayerKind::kElementWise), 0);
      EXPECT_EQ(count(net, LayerKind::kActivation), 0);
      auto* mm = output_matmul(net);
      ASSERT_EQ(mm->num_inputs(), 3);
      EXPECT_EQ(mm->input(2)->name(), "z");
      EXPECT_EQ(mm->p.bias.count, kN);
      EXPECT_TRUE(mm->p.has_activation);
      EXPECT_EQ(mm->p.activation.type, act);
      EXPECT_EQ(net.output(0)->name(), "y");
    }
}

// Two bias adds (a uniform one and a per-column one) sum into one bias; the fused layer survives the
// builder's later passes and runs on the CPU with its epilogue (the kernel name lists it).
TEST(FuseMatmulEpilogue, BiasesAccumulateThroughTheBuilder) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kL, kK});
  Tensor* t = add_linear(net, x, kN, 5)->output(0);
  t = add_elementwise(net, t, bias_constant(net, kN, 2, 6), E::kSUM)->output(0);
  t = add_elementwise(net, constant(net, Dims{1, 1}, 7), t, E::kSUM)->output(0);
  name_output(net, add_activation(net, t, A::kSIGMOID)->output(0));
  expect_same_outputs(net);
  auto e = Builder().build(net, BuilderConfig());
  auto ctx = e->create_execution_context();
  bool found = false;
  for (const auto& info : ctx->layer_info()) {
    EXPECT_NE(info.kind, "ElementWise");
    EXPECT_NE(info.kind, "Activation");
    EXPECT_NE(info.kind, "Pointwise");
    if (info.kind == "MatrixMultiply") {
      EXPECT_NE(info.impl.find("+bias+SIGMOID"), std::string::npos) << info.impl;
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

// The transformer feed-forward block: Linear, GELU, Linear, residual. Both matmuls take their epilogues.
TEST(FuseMatmulEpilogue, FeedForwardBlock) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
  Tensor* h = add_linear(net, x, 16, 1)->output(0);
  h = add_elementwise(net, h, bias_constant(net, 16, 3, 2), E::kSUM)->output(0);
  h = add_activation(net, h, A::kGELU_ERF)->output(0);
  Tensor* o = add_linear(net, h, kK, 3)->output(0);
  o = add_elementwise(net, o, bias_constant(net, kK, 3, 4), E::kSUM)->output(0);
  name_output(net, add_elementwise(net, o, x, E::kSUM)->output(0));
  expect_same_outputs(net);
  EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 4);
  EXPECT_EQ(count(net, LayerKind::kMatrixMultiply), 2);
  EXPECT_EQ(count(net, LayerKind::kElementWise) + count(net, LayerKind::kActivation), 0);
  auto* out = output_matmul(net);
  EXPECT_EQ(out->input(2), x);
  EXPECT_FALSE(out->p.has_activation);
  auto* first = static_cast<MatrixMultiplyLayer*>(out->input(0)->producer());
  EXPECT_TRUE(first->p.has_activation);
  EXPECT_EQ(first->p.bias.count, 16);
  EXPECT_EQ(first->num_inputs(), 2);
}

// The sum of two matmuls fuses into the one added later, the other becoming its residual.
TEST(FuseMatmulEpilogue, TwoMatmulsSum) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kL, kK});
  Tensor* a = add_linear(net, x, kN, 7)->output(0);
  Tensor* b = add_linear(net, x, kN, 8)->output(0);
  name_output(net, add_activation(net, add_elementwise(net, a, b, E::kSUM)->output(0), A::kRELU)->output(0));
  expect_same_outputs(net);
  EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 2);
  auto* mm = output_matmul(net);
  EXPECT_EQ(mm->input(2), a);
  EXPECT_TRUE(mm->p.has_activation);
}

TEST(FuseMatmulEpilogue, LeavesAloneWhatMustNotFuse) {
  {  // the matmul output is read twice
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
    Tensor* m = add_linear(net, x, kN, 1)->output(0);
    Tensor* r = add_activation(net, m, A::kRELU)->output(0);
    name_output(net, add_elementwise(net, r, m, E::kPROD)->output(0));
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
  {  // the matmul output is a network output
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
    Tensor* m = add_linear(net, x, kN, 1)->output(0);
    m->set_name("m");
    net.mark_output(m);
    name_output(net, add_activation(net, m, A::kRELU)->output(0));
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 0);
  }
  for (int pin = 0; pin < 3; ++pin) {  // a precision pin on the matmul, on the activation, on the bias constant
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
    auto* mm = add_linear(net, x, kN, 1);
    auto* c = add_constant(net, Dims{1, 1, kN}, Weights::f32(random_floats(kN, 2)));
    Layer* next = pin == 2 ? static_cast<Layer*>(add_elementwise(net, mm->output(0), c->output(0), E::kSUM))
                           : static_cast<Layer*>(add_activation(net, mm->output(0), A::kRELU));
    name_output(net, next->output(0));
    (pin == 0 ? static_cast<Layer*>(mm) : pin == 1 ? next : static_cast<Layer*>(c))->set_precision(DataType::kFLOAT);
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 0) << "pin " << pin;
  }
  {  // a bias along the wrong axis (one value per row): neither a bias nor a residual
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
    Tensor* m = add_linear(net, x, kN, 1)->output(0);
    name_output(net, add_elementwise(net, m, constant(net, Dims{1, kL, 1}, 3), E::kSUM)->output(0));
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
  {  // a constant that grows the output (rank 4 on a rank-3 output), a residual that broadcasts
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
    Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{1, kL, kN});
    Tensor* m1 = add_linear(net, x, kN, 1)->output(0);
    Tensor* s1 = add_elementwise(net, m1, constant(net, Dims{3, 1, 1, kN}, 4), E::kSUM)->output(0);
    Tensor* m2 = add_linear(net, x, kN, 2)->output(0);
    Tensor* s2 = add_elementwise(net, z, m2, E::kSUM)->output(0);
    Tensor* y = add_elementwise(net, s1, add_elementwise(net, s2, s2, E::kPROD)->output(0), E::kSUM)->output(0);
    name_output(net, y);
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
  {  // an add after the activation stays outside; so does a second residual
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
    Tensor* z1 = net.add_input("z1", DataType::kFLOAT, Dims{kB, kL, kN});
    Tensor* z2 = net.add_input("z2", DataType::kFLOAT, Dims{kB, kL, kN});
    Tensor* r = add_activation(net, add_linear(net, x, kN, 1)->output(0), A::kRELU)->output(0);
    Tensor* s = add_elementwise(net, r, bias_constant(net, kN, 1, 9), E::kSUM)->output(0);
    Tensor* m2 = add_linear(net, x, kN, 2)->output(0);
    Tensor* t = add_elementwise(net, add_elementwise(net, m2, z1, E::kSUM)->output(0), z2, E::kSUM)->output(0);
    name_output(net, add_elementwise(net, s, t, E::kPROD)->output(0));
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 2);  // the activation, and z1 into the second
    EXPECT_EQ(count(net, LayerKind::kElementWise), 3);
    expect_same_outputs(net);
  }
  {  // vector operations are left to their own kernels
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
    Tensor* v = net.add_input("v", DataType::kFLOAT, Dims{kB, kK});
    Tensor* m = add_matrix_multiply(net, x, Op::kNONE, v, Op::kVECTOR)->output(0);  // (B, L)
    name_output(net, add_activation(net, m, A::kRELU)->output(0));
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 0);
  }
}

// ---- a per-column Scale (BatchNorm1d after a Linear) folds into B and the bias ----

// x (L, K) -> Linear (W stored as `op1` wants) [+ bias] -> Scale per column -> y.
MatrixMultiplyLayer* build_linear_bn(Network& net, Op op1, bool bias, ScaleMode mode, Tensor** w_out = nullptr) {
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kL, kK});
  Tensor* w = op1 == Op::kTRANSPOSE ? constant(net, Dims{kN, kK}, 11) : constant(net, Dims{kK, kN}, 11);
  if (w_out) *w_out = w;
  auto* mm = add_matrix_multiply(net, x, Op::kNONE, w, op1);
  Tensor* t = mm->output(0);
  if (bias) t = add_elementwise(net, t, bias_constant(net, kN, 2, 12), E::kSUM)->output(0);
  const int64_t c = mode == ScaleMode::kUNIFORM ? 1 : kN;
  std::vector<float> sc = random_floats(c, 13), sh = random_floats(c, 14);
  name_output(net, add_scale_nd(net, t, mode, Weights::f32(sh), Weights::f32(sc), Weights(), 1)->output(0));
  return mm;
}

TEST(FoldScaleIntoMatmul, FoldsIntoWeightsAndBias) {
  for (Op op1 : {Op::kTRANSPOSE, Op::kNONE})
    for (bool bias : {true, false})
      for (ScaleMode mode : {ScaleMode::kCHANNEL, ScaleMode::kUNIFORM, ScaleMode::kELEMENTWISE}) {
        SCOPED_TRACE(std::string("op1 ") + matrix_operation_name(op1) + (bias ? " bias " : " no bias ") +
                     scale_mode_name(mode));
        Network net;
        Tensor* w = nullptr;
        auto* mm = build_linear_bn(net, op1, bias, mode, &w);
        std::vector<float> w0 = static_cast<ConstantLayer*>(w->producer())->p.weights.to_float();
        expect_same_outputs(net);
        EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), bias ? 2 : 1);
        EXPECT_EQ(count(net, LayerKind::kScale), 0);
        EXPECT_EQ(output_matmul(net), mm);
        EXPECT_EQ(mm->p.bias.count, kN);
        EXPECT_EQ(mm->input(1), w);  // B read by this matmul alone: scaled in place
        EXPECT_NE(static_cast<ConstantLayer*>(w->producer())->p.weights.to_float(), w0);
      }
}

// A B shared with another layer keeps its values there: the folded matmul gets its own scaled copy.
TEST(FoldScaleIntoMatmul, SharedWeightsAreCopied) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kL, kK});
  Tensor* x2 = net.add_input("x2", DataType::kFLOAT, Dims{kL, kK});
  Tensor* w = constant(net, Dims{kN, kK}, 11);
  auto* mm = add_matrix_multiply(net, x, Op::kNONE, w, Op::kTRANSPOSE);
  Tensor* bn = add_scale_nd(net, mm->output(0), ScaleMode::kCHANNEL, Weights::f32(random_floats(kN, 1)),
                            Weights::f32(random_floats(kN, 2)), Weights(), 1)->output(0);
  Tensor* other = add_matrix_multiply(net, x2, Op::kNONE, w, Op::kTRANSPOSE)->output(0);
  name_output(net, add_elementwise(net, bn, add_activation(net, other, A::kTANH)->output(0), E::kPROD)->output(0));
  std::vector<float> w0 = static_cast<ConstantLayer*>(w->producer())->p.weights.to_float();
  expect_same_outputs(net);
  EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 2);  // the scale into mm, the tanh into the other
  EXPECT_EQ(count(net, LayerKind::kScale), 0);
  EXPECT_NE(mm->input(1), w);
  EXPECT_EQ(static_cast<ConstantLayer*>(w->producer())->p.weights.to_float(), w0);
  EXPECT_EQ(count(net, LayerKind::kConstant), 2);
  EXPECT_LT(mm->input(1)->producer()->index(), mm->index());  // the copy was sorted before its reader
  net.validate();
}

TEST(FoldScaleIntoMatmul, LeavesAloneWhatMustNotFold) {
  {  // after an activation: the scale would have to apply before it
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kL, kK});
    Tensor* r = add_activation(net, add_linear(net, x, kN, 1)->output(0), A::kRELU)->output(0);
    name_output(net, add_scale_nd(net, r, ScaleMode::kCHANNEL, Weights::f32(random_floats(kN, 1)),
                                  Weights::f32(random_floats(kN, 2)), Weights(), 1)->output(0));
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 1);
    EXPECT_EQ(count(net, LayerKind::kScale), 1);
    expect_same_outputs(net);
  }
  {  // per channel on a non-last axis (BatchNorm1d on (B, C, L)): one value per row, not per column
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kL, kK});
    Tensor* m = add_linear(net, x, kN, 1)->output(0);
    name_output(net, add_scale_nd(net, m, ScaleMode::kCHANNEL, Weights::f32(random_floats(kL, 1)),
                                  Weights::f32(random_floats(kL, 2)), Weights(), 1)->output(0));
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
  {  // a power other than 1; a B computed from the inputs
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kL, kK});
    Tensor* b = net.add_input("b", DataType::kFLOAT, Dims{kK, kN});
    Tensor* m1 = add_linear(net, x, kN, 1)->output(0);
    Tensor* s1 = add_scale_nd(net, m1, ScaleMode::kUNIFORM, Weights::f32({0.5f}), Weights::f32({2.f}),
                              Weights::f32({2.f}), 1)->output(0);
    Tensor* m2 = add_matrix_multiply(net, x, Op::kNONE, b, Op::kNONE)->output(0);
    Tensor* s2 = add_scale_nd(net, m2, ScaleMode::kCHANNEL, Weights::f32(random_floats(kN, 3)), Weights(), Weights(),
                              1)->output(0);
    name_output(net, add_elementwise(net, s1, s2, E::kPROD)->output(0));
    EXPECT_EQ(fuse_matmul_epilogue(net, BuilderConfig()), 0);
    expect_same_outputs(net);
  }
}

// A fused matmul survives an engine round trip (the epilogue fields are serialized).
TEST(FuseMatmulEpilogue, SerializedEngineKeepsEpilogue) {
  Network net;
  build_block(net, 3, A::kGELU_ERF);
  auto e = Builder().build(net, BuilderConfig());
  auto bytes = e->serialize();
  auto e2 = Engine::deserialize(bytes.data(), bytes.size());
  auto run = [&](Engine& eng) {
    auto ctx = eng.create_execution_context();
    std::vector<float> x = random_floats(kB * kL * kK, 1), z = random_floats(kB * kL * kN, 2);
    std::vector<float> y(kB * kL * kN, NAN);
    ctx->set_tensor_address("x", x.data());
    ctx->set_tensor_address("z", z.data());
    ctx->set_tensor_address("y", y.data());
    ctx->enqueue(nullptr);
    return y;
  };
  std::vector<float> a = run(*e), b = run(*e2);
  EXPECT_EQ(a, b);
  for (float v : a) EXPECT_FALSE(std::isnan(v));
  EXPECT_EQ(e2->create_execution_context()->layer_info().size(), e->create_execution_context()->layer_info().size());
}

}  // namespace
}  // namespace t2t_test
