// fuse_attention: every spelling of attention the converters write (scale on q, on the scores or on both,
// additive and bool masks, causal constants, K transposed in several ways, heads transposes, the empty-row
// select of torch's sdpa) becomes one Attention layer whose outputs equal the unfused network's; near
// misses and shared intermediates are left alone.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "backends/backend.h"
#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {

int fuse_attention(Network& net, const BuilderConfig& config);

namespace {

using E = ElementWiseOperation;
using MO = MatrixOperation;

constexpr int64_t B = 2, H = 3, S = 10, D = 8;

// Input bytes by dtype: float32 uniform in [-2, 2], bool true with probability 0.7 (float masks too are
// inputs named "m"; they get values in [-2, 2]).
std::vector<uint8_t> fill(const Tensor* t, int seed) {
  std::mt19937 rng(seed);
  int64_t n = t->dims().volume();
  std::vector<uint8_t> b(n * dtype_size(t->dtype()));
  if (t->dtype() == DataType::kBOOL) {
    std::bernoulli_distribution u(0.7);
    for (auto& x : b) x = u(rng);
  } else {
    std::uniform_real_distribution<float> u(-2, 2);
    for (int64_t i = 0; i < n; ++i) {
      float v = u(rng);
      std::memcpy(&b[i * 4], &v, 4);
    }
  }
  return b;
}

// Output "y" of `net` built with `cfg` (float32 outputs; the others are bound and dropped).
std::vector<float> run(const Network& net, const BuilderConfig& cfg) {
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<std::vector<uint8_t>> in;
  for (int i = 0; i < net.num_inputs(); ++i) {
    in.push_back(fill(net.input(i), 31 + i));
    ctx->set_tensor_address(net.input(i)->name(), in.back().data());
  }
  std::vector<std::vector<float>> out;
  out.reserve(net.num_outputs());
  for (int i = 0; i < net.num_outputs(); ++i) {
    out.emplace_back(e->io_dims(net.output(i)->name()).volume(), -7.f);
    ctx->set_tensor_address(net.output(i)->name(), out.back().data());
  }
  ctx->enqueue(nullptr);
  for (int i = 0; i < net.num_outputs(); ++i)
    if (net.output(i)->name() == "y") return out[i];
  return {};
}

// Relative L2 error; NaN where both have NaN counts as equal, NaN on one side only as infinitely wrong.
double rel_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i]) || std::isnan(want[i])) {
      if (std::isnan(got[i]) != std::isnan(want[i])) return INFINITY;
      continue;
    }
    num += (got[i] - want[i]) * (got[i] - want[i]), den += want[i] * want[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

// The optimized build (level 3) gives the unfused network's outputs (level 0).
void expect_same_outputs(const Network& net, double tol = 1e-5, uint32_t flags = 0) {
  BuilderConfig plain, optimized;
  plain.optimization_level = 0;
  optimized.flags = flags;
  auto want = run(net, plain), got = run(net, optimized);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_LE(rel_l2(got, want), tol);
}

int count(const Network& n, LayerKind k) {
  int c = 0;
  for (int i = 0; i < n.num_layers(); ++i) c += n.layer(i)->kind() == k;
  return c;
}

const AttentionLayer* attention(const Network& n) {
  for (int i = 0; i < n.num_layers(); ++i)
    if (n.layer(i)->kind() == LayerKind::kAttention) return static_cast<const AttentionLayer*>(n.layer(i));
  return nullptr;
}

Tensor* bin(Network& n, Tensor* a, Tensor* b, E op) { return add_elementwise(n, a, b, op)->output(0); }
Tensor* scalar(Network& n, float v) { return add_constant(n, Dims{1, 1, 1, 1}, Weights::f32({v}))->output(0); }
Tensor* swap(Network& n, Tensor* t, std::vector<int32_t> perm) {
  auto* s = add_shuffle(n, t);
  s->p.first_transpose = perm;
  s->changed([] {});
  return s->output(0);
}
const std::vector<int32_t> kHeads = {0, 2, 1, 3}, kLast = {0, 1, 3, 2};

Tensor* softmax_last(Network& n, Tensor* x) {
  auto* sm = add_softmax(n, x);
  sm->p.axes = 1u << 3;
  sm->changed([] {});
  return sm->output(0);
}

// An (S, S) causal pattern as a (1, 1, S, S) constant: bool (true: may attend) or float (0 / -inf).
Tensor* causal_constant(Network& n, bool as_bool) {
  std::vector<uint8_t> b(S * S);
  std::vector<float> f(S * S);
  for (int64_t i = 0; i < S; ++i)
    for (int64_t j = 0; j < S; ++j) b[i * S + j] = j <= i, f[i * S + j] = j <= i ? 0.f : -INFINITY;
  Weights w = as_bool ? Weights(DataType::kBOOL, b.data(), S * S) : Weights::f32(f);
  return add_constant(n, Dims{1, 1, S, S}, w)->output(0);
}

struct Spec {
  enum Scale { kOnQuery, kOnScoresProd, kOnScoresDiv, kOnBoth } scale = kOnQuery;
  enum Mask { kNone, kAdd, kAddFirst, kBoolAllowed, kBoolBlocked, kCausalBool, kCausalFloat } mask = kNone;
  enum Key { kTransposeOp, kInputTransposed, kShuffleTransposed } key = kTransposeOp;
  bool interleaved = false;  // q, k, v are (B, S, H, D) inputs swapped to (B, H, S, D)
  bool swap_output = true;   // with interleaved: the output is swapped back to (B, S, H, D)
  bool zero_rows = false;    // select(max(x) == -inf, 0, softmax(x)), as the sdpa converter writes
};

// softmax(scale * q kᵀ + mask) v written out as the converters do; returns the network's output.
Tensor* build(Network& n, const Spec& s) {
  const float c = 1.f / std::sqrt(static_cast<float>(D));
  auto input = [&](const char* name, Dims d) {
    Tensor* t = n.add_input(name, DataType::kFLOAT, s.interleaved ? Dims{d.d[0], d.d[2], d.d[1], d.d[3]} : d);
    return s.interleaved ? swap(n, t, kHeads) : t;
  };
  Tensor* q = input("q", Dims{B, H, S, D});
  Tensor* k = s.key == Spec::kInputTransposed ? n.add_input("k", DataType::kFLOAT, Dims{B, H, D, S}) : input("k", Dims{B, H, S, D});
  Tensor* v = input("v", Dims{B, H, S, D});
  if (s.scale == Spec::kOnQuery) q = bin(n, q, scalar(n, c), E::kPROD);
  if (s.scale == Spec::kOnBoth) {
    q = bin(n, scalar(n, std::sqrt(c)), q, E::kPROD);
    k = bin(n, k, scalar(n, 1 / std::sqrt(c)), E::kDIV);
  }
  if (s.key == Spec::kShuffleTransposed) k = swap(n, k, kLast);
  MO op1 = s.key == Spec::kTransposeOp ? MO::kTRANSPOSE : MO::kNONE;
  Tensor* x = add_matrix_multiply(n, q, MO::kNONE, k, op1)->output(0);
  if (s.scale == Spec::kOnScoresProd) x = bin(n, x, scalar(n, c), E::kPROD);
  if (s.scale == Spec::kOnScoresDiv) x = bin(n, x, scalar(n, 1 / c), E::kDIV);
  Tensor* ninf = scalar(n, -INFINITY);
  switch (s.mask) {
    case Spec::kNone: break;
    case Spec::kAdd: x = bin(n, x, n.add_input("m", DataType::kFLOAT, Dims{B, 1, 1, S}), E::kSUM); break;
    case Spec::kAddFirst: x = bin(n, n.add_input("m", DataType::kFLOAT, Dims{1, 1, S, S}), x, E::kSUM); break;
    case Spec::kBoolAllowed:
      x = add_select(n, n.add_input("m", DataType::kBOOL, Dims{B, 1, S, S}), x, ninf)->output(0);
      break;
    case Spec::kBoolBlocked:  // masked_fill(blocked, -inf)
      x = add_select(n, n.add_input("m", DataType::kBOOL, Dims{B, 1, S, S}), ninf, x)->output(0);
      break;
    case Spec::kCausalBool: x = add_select(n, causal_constant(n, true), x, ninf)->output(0); break;
    case Spec::kCausalFloat: x = bin(n, x, causal_constant(n, false), E::kSUM); break;
  }
  Tensor* w = softmax_last(n, x);
  if (s.zero_rows) {
    Tensor* mx = add_reduce(n, x, ReduceOperation::kMAX, 1u << 3, true)->output(0);
    Tensor* empty = bin(n, mx, scalar(n, -INFINITY), E::kEQUAL);
    w = add_select(n, empty, scalar(n, 0.f), w)->output(0);
  }
  Tensor* y = add_matrix_multiply(n, w, MO::kNONE, v, MO::kNONE)->output(0);
  if (s.interleaved && s.swap_output) y = swap(n, y, kHeads);
  y->set_name("y");
  n.mark_output(y);
  return y;
}

// The spec fuses into exactly one Attention layer with the expected parameters, and the outputs agree.
void expect_fused(const Spec& s) {
  Network net;
  build(net, s);
  expect_same_outputs(net);
  auto copy = net.clone();
  ASSERT_EQ(fuse_attention(*copy, BuilderConfig()), 1);
  copy->validate();
  EXPECT_EQ(count(*copy, LayerKind::kAttention), 1);
  EXPECT_EQ(count(*copy, LayerKind::kSoftMax), 0);
  EXPECT_EQ(count(*copy, LayerKind::kMatrixMultiply), 0);
  EXPECT_EQ(count(*copy, LayerKind::kSelect), 0);
  EXPECT_EQ(count(*copy, LayerKind::kElementWise), 0);
  const AttentionLayer* a = attention(*copy);
  EXPECT_NEAR(a->p.scale, 1 / std::sqrt(static_cast<double>(D)), 1e-6);
  const bool causal = s.mask == Spec::kCausalBool || s.mask == Spec::kCausalFloat;
  EXPECT_EQ(a->p.causal, causal);
  EXPECT_EQ(a->p.heads_interleaved, s.interleaved);
  EXPECT_EQ(a->p.zero_empty_rows, s.zero_rows);
  const bool mask = s.mask != Spec::kNone && !causal;
  ASSERT_EQ(a->num_inputs(), mask ? 4 : 3);
  if (mask && s.mask != Spec::kBoolBlocked) EXPECT_EQ(a->input(3), copy->find_io("m"));
  if (s.mask == Spec::kBoolBlocked) EXPECT_EQ(a->input(3)->producer()->kind(), LayerKind::kUnary);  // NOT(m)
  if (s.interleaved) {  // reads the inputs before the heads swaps
    EXPECT_EQ(a->input(0), copy->find_io("q"));
    EXPECT_EQ(a->input(2), copy->find_io("v"));
    EXPECT_EQ(count(*copy, LayerKind::kShuffle), s.swap_output ? 0 : 1);
  }
  if (s.key == Spec::kInputTransposed) EXPECT_EQ(a->input(1)->producer()->kind(), LayerKind::kShuffle);
  else if (!s.interleaved) EXPECT_EQ(a->input(1), copy->find_io("k"));
}

TEST(FuseAttention, ScaleOnQueryScoresOrBoth) {
  for (auto sc : {Spec::kOnQuery, Spec::kOnScoresProd, Spec::kOnScoresDiv, Spec::kOnBoth}) {
    SCOPED_TRACE(sc);
    Spec s;
    s.scale = sc;
    expect_fused(s);
  }
}

TEST(FuseAttention, Masks) {
  for (auto m : {Spec::kAdd, Spec::kAddFirst, Spec::kBoolAllowed, Spec::kBoolBlocked, Spec::kCausalBool,
                 Spec::kCausalFloat}) {
    for (bool zero : {false, true}) {
      SCOPED_TRACE(std::to_string(m) + (zero ? " zero rows" : ""));
      Spec s;
      s.mask = m;
      s.zero_rows = zero;
      expect_fused(s);
    }
  }
}

TEST(FuseAttention, KeyAlreadyTransposed) {
  for (auto k : {Spec::kInputTransposed, Spec::kShuffleTransposed}) {
    SCOPED_TRACE(k);
    Spec s;
    s.key = k;
    s.scale = Spec::kOnBoth;  // the key's scale sits above its transpose
    expect_fused(s);
  }
}

TEST(FuseAttention, HeadsTransposesAreAbsorbed) {
  for (bool swap_out : {true, false})
    for (auto k : {Spec::kTransposeOp, Spec::kShuffleTransposed}) {
      SCOPED_TRACE(std::string(swap_out ? "output swapped" : "output kept") + " key " + std::to_string(k));
      Spec s;
      s.interleaved = true;
      s.swap_output = swap_out;
      s.key = k;
      s.mask = Spec::kBoolAllowed;
      s.zero_rows = true;
      expect_fused(s);
    }
}

TEST(FuseAttention, FullyMaskedRowsStayNanWithoutTheZeroSelect) {
  // An all-false bool mask input: every row empty. NaN unfused, NaN fused; zeros with the zero select.
  for (bool zero : {false, true}) {
    Spec s;
    s.mask = Spec::kBoolAllowed;
    s.zero_rows = zero;
    Network net;
    build(net, s);
    BuilderConfig plain, optimized;
    plain.optimization_level = 0;
    auto e0 = Builder().build(net, plain), e3 = Builder().build(net, optimized);
    std::vector<float> q(B * H * S * D, 0.5f);
    std::vector<uint8_t> m(B * S * S, 0);
    std::vector<float> y0(B * H * S * D), y3(B * H * S * D);
    for (auto [e, y] : {std::pair<Engine*, std::vector<float>*>{e0.get(), &y0}, {e3.get(), &y3}}) {
      auto ctx = e->create_execution_context();
      for (const char* name : {"q", "k", "v"}) ctx->set_tensor_address(name, q.data());
      ctx->set_tensor_address("m", m.data());
      ctx->set_tensor_address("y", y->data());
      ctx->enqueue(nullptr);
    }
    EXPECT_EQ(e3->network().num_layers(), 1);
    for (size_t i = 0; i < y3.size(); ++i) {
      ASSERT_EQ(std::isnan(y0[i]), !zero) << i;
      ASSERT_EQ(std::isnan(y3[i]), !zero) << i;
      if (zero) ASSERT_EQ(y3[i], 0.f);
    }
  }
}

TEST(FuseAttention, HalfPrecisionBuild) {
  Spec s;
  s.mask = Spec::kAdd;
  Network net;
  build(net, s);
  expect_same_outputs(net, 1e-2, 1u << static_cast<int>(BuilderFlag::kFP16));
  BuilderConfig cfg;
  cfg.set_flag(BuilderFlag::kFP16);
  auto e = Builder().build(net, cfg);
  const AttentionLayer* a = attention(e->network());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->output(0)->dtype(), DataType::kHALF);
}

// A network in which the pass must not fuse (checked on a copy); the outputs stay right.
void expect_not_fused(Network& net) {
  auto copy = net.clone();
  EXPECT_EQ(fuse_attention(*copy, BuilderConfig()), 0);
  EXPECT_EQ(count(*copy, LayerKind::kAttention), 0);
}

TEST(FuseAttention, SharedIntermediatesStopIt) {
  {  // the scores are also a network output
    Network net;
    Tensor* y = build(net, Spec());
    Tensor* scores = y->producer()->input(0)->producer()->input(0);
    scores->set_name("scores");
    net.mark_output(scores);
    expect_not_fused(net);
  }
  {  // the weights are read by another layer
    Network net;
    Tensor* y = build(net, Spec());
    Tensor* w = y->producer()->input(0);
    Tensor* z = add_reduce(net, w, ReduceOperation::kSUM, 1u << 3, true)->output(0);
    z->set_name("z");
    net.mark_output(z);
    expect_not_fused(net);
  }
  {  // the scaled query is read elsewhere
    Network net;
    Tensor* y = build(net, Spec());
    Tensor* qs = y->producer()->input(0)->producer()->input(0)->producer()->input(0);
    ASSERT_EQ(qs->producer()->kind(), LayerKind::kElementWise);
    qs->set_name("qs");
    net.mark_output(qs);
    expect_not_fused(net);
  }
}

TEST(FuseAttention, PrecisionPinStopsIt) {
  Network net;
  Tensor* y = build(net, Spec());
  y->producer()->input(0)->producer()->set_precision(DataType::kFLOAT);  // the softmax
  expect_not_fused(net);
}

TEST(FuseAttention, NearMissesAreLeftAlone) {
  {  // softmax over the queries, not the keys
    Network net;
    Tensor* q = net.add_input("q", DataType::kFLOAT, Dims{B, H, S, D});
    Tensor* x = add_matrix_multiply(net, q, MO::kNONE, q, MO::kTRANSPOSE)->output(0);
    auto* sm = add_softmax(net, x);
    sm->p.axes = 1u << 2;
    sm->changed([] {});
    Tensor* y = add_matrix_multiply(net, sm->output(0), MO::kNONE, q, MO::kNONE)->output(0);
    y->set_name("y");
    net.mark_output(y);
    expect_not_fused(net);
  }
  {  // log_softmax
    Network net;
    Tensor* q = net.add_input("q", DataType::kFLOAT, Dims{B, H, S, D});
    Tensor* x = add_matrix_multiply(net, q, MO::kNONE, q, MO::kTRANSPOSE)->output(0);
    auto* sm = add_softmax(net, x);
    sm->p.axes = 1u << 3;
    sm->p.log = true;
    sm->changed([] {});
    Tensor* y = add_matrix_multiply(net, sm->output(0), MO::kNONE, q, MO::kNONE)->output(0);
    y->set_name("y");
    net.mark_output(y);
    expect_not_fused(net);
  }
  {  // weights transposed in the product; a mask that grows the scores; a fill value other than -inf; the
     // scores added to themselves (the "mask" would be computed inside the match)
    for (int variant = 0; variant < 4; ++variant) {
      Network net;
      Tensor* q = net.add_input("q", DataType::kFLOAT, Dims{1, H, S, D});
      Tensor* x = add_matrix_multiply(net, q, MO::kNONE, q, MO::kTRANSPOSE)->output(0);
      if (variant == 1) x = bin(net, x, net.add_input("m", DataType::kFLOAT, Dims{B, 1, S, S}), E::kSUM);
      if (variant == 2)
        x = add_select(net, net.add_input("m", DataType::kBOOL, Dims{1, 1, S, S}), x, scalar(net, -1e9f))->output(0);
      if (variant == 3) x = bin(net, x, x, E::kSUM);
      Tensor* w = softmax_last(net, x);
      Tensor* y = add_matrix_multiply(net, w, variant == 0 ? MO::kTRANSPOSE : MO::kNONE, q, MO::kNONE)->output(0);
      y->set_name("y");
      net.mark_output(y);
      SCOPED_TRACE(variant);
      expect_not_fused(net);
    }
  }
}

TEST(FuseAttention, SharedHeadsTransposeKeepsTheLayout) {
  // k's heads swap is also read elsewhere: the layer fuses in (B, H, S, D) and the swap stays.
  Spec s;
  s.interleaved = true;
  Network net;
  Tensor* y = build(net, s);
  (void)y;
  Tensor* kt = nullptr;
  for (int i = 0; i < net.num_layers(); ++i)
    if (net.layer(i)->kind() == LayerKind::kShuffle && net.layer(i)->input(0) == net.find_io("k"))
      kt = net.layer(i)->output(0);
  ASSERT_NE(kt, nullptr);
  kt->set_name("kt");
  net.mark_output(kt);
  expect_same_outputs(net);
  auto copy = net.clone();
  ASSERT_EQ(fuse_attention(*copy, BuilderConfig()), 1);
  const AttentionLayer* a = attention(*copy);
  EXPECT_FALSE(a->p.heads_interleaved);
  EXPECT_EQ(a->input(1), copy->find_io("kt"));
}

TEST(FuseAttention, OnlyWhereTheTargetHasAKernel) {
  // A GPU target: fused when the CUDA backend exists and takes the head size, never for D = 256 (over the
  // CUDA kernel's limit), and never without a CUDA backend.
  for (int64_t d : {int64_t{64}, int64_t{256}}) {
    Network net;
    Tensor* q = net.add_input("q", DataType::kFLOAT, Dims{1, 2, 16, d});
    Tensor* x = add_matrix_multiply(net, q, MO::kNONE, q, MO::kTRANSPOSE)->output(0);
    Tensor* y = add_matrix_multiply(net, softmax_last(net, x), MO::kNONE, q, MO::kNONE)->output(0);
    y->set_name("y");
    net.mark_output(y);
    BuilderConfig gpu;
    gpu.device = DeviceType::kGPU;
    std::string why;
    const bool cuda = cuda_backend(0, &why) != nullptr;
    auto copy = net.clone();
    EXPECT_EQ(fuse_attention(*copy, gpu), cuda && d <= 128 ? 1 : 0) << "D = " << d;
    auto cpu = net.clone();
    EXPECT_EQ(fuse_attention(*cpu, BuilderConfig()), 1) << "the CPU kernel takes any head size";
  }
}

TEST(FuseAttention, FusedEngineSurvivesAnEngineFile) {
  Spec s;
  s.interleaved = true;
  s.mask = Spec::kAdd;
  Network net;
  build(net, s);
  auto bytes = Builder().build_serialized(net, BuilderConfig());
  auto e = Engine::deserialize(bytes.data(), bytes.size());
  const AttentionLayer* a = attention(e->network());
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->p.heads_interleaved);
  EXPECT_NEAR(a->p.scale, 1 / std::sqrt(static_cast<double>(D)), 1e-6);
}

}  // namespace
}  // namespace torch2trt
