// merge_qkv_projections: the q, k and v projections of a BERT-like block (three Linears reading one x,
// reshaped to (B, S, H, D) for a heads-interleaved Attention layer) become one matrix multiply whose
// (B, S, 3, H, D) view feeds a packed_qkv Attention layer; the outputs equal the unmerged network's on every
// backend. Near misses (another input, another reader, a layer in between, unlike epilogues) are left alone.
// The packed layer itself runs through the harness in tests/cpp/ops/attention_test.cpp.
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
int merge_qkv_projections(Network& net, const BuilderConfig& config);
}  // namespace torch2trt

namespace t2t_test {
namespace {

using E = ElementWiseOperation;
using Op = MatrixOperation;

constexpr int64_t kB = 2, kS = 5, kK = 24, kH = 4, kD = 8, kE = kH * kD;  // x (B, S, K) -> (B, S, H, D)

std::vector<float> random_floats(int64_t n, int seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

Tensor* constant(Network& net, const Dims& d, int seed, float scale = 1.f) {
  return add_constant(net, d, Weights::f32(random_floats(d.volume(), seed, scale)))->output(0);
}

struct Spec {
  Op op1 = Op::kTRANSPOSE;  // W stored (1, N, K) as a Linear's weight, or (1, K, N)
  bool bias = true;
  bool mask = true;
  bool seq_first = false;   // x is (S, B, E), permuted to (B, S, E) once per projection (nn.MultiheadAttention)
  bool dynamic_batch = false;
};

// x (B, S, K) -> x Wᵀ + b [+ z] (B, S, E) -> reshape (B, S, H, D): one projection, as a converter writes it.
Tensor* projection(Network& net, Tensor* x, const Spec& s, int seed, Tensor* residual = nullptr) {
  Dims wd = s.op1 == Op::kTRANSPOSE ? Dims{1, kE, kK} : Dims{1, kK, kE};
  Tensor* w = constant(net, wd, seed, 0.3f);
  Tensor* t = add_matrix_multiply(net, x, Op::kNONE, w, s.op1)->output(0);
  if (s.bias) t = add_elementwise(net, t, constant(net, Dims{1, 1, kE}, seed + 1), E::kSUM)->output(0);
  if (residual) t = add_elementwise(net, t, residual, E::kSUM)->output(0);
  auto* r = add_shuffle(net, t);
  r->set_reshape_dims(Dims{s.dynamic_batch ? -1 : kB, kS, kH, kD});
  return r->output(0);
}

Tensor* seq_first_to_batch_first(Network& net, Tensor* x) {
  auto* p = add_shuffle(net, x);
  p->p.first_transpose = {1, 0, 2};
  p->changed([] {});
  return p->output(0);
}

// The block: three projections, Attention (heads interleaved, BERT's (B, 1, 1, S) additive mask), output y.
void build(Network& net, const Spec& s) {
  const int64_t b = s.dynamic_batch ? -1 : kB;
  Tensor* x = net.add_input("x", DataType::kFLOAT, s.seq_first ? Dims{kS, b, kK} : Dims{b, kS, kK});
  Tensor* p[3];
  for (int i = 0; i < 3; ++i) p[i] = projection(net, s.seq_first ? seq_first_to_batch_first(net, x) : x, s, 10 * i);
  Tensor* mask = s.mask ? net.add_input("m", DataType::kFLOAT, Dims{b, 1, 1, kS}) : nullptr;
  AttentionParams ap;
  ap.scale = 1.f / std::sqrt(static_cast<float>(kD));
  ap.heads_interleaved = true;
  Tensor* y = add_attention(net, p[0], p[1], p[2], mask, ap)->output(0);
  y->set_name("y");
  net.mark_output(y);
}

int count(const Network& net, LayerKind k) {
  int n = 0;
  for (int i = 0; i < net.num_layers(); ++i) n += net.layer(i)->kind() == k;
  return n;
}

const AttentionLayer* attention(const Network& net) {
  for (int i = 0; i < net.num_layers(); ++i)
    if (net.layer(i)->kind() == LayerKind::kAttention) return static_cast<const AttentionLayer*>(net.layer(i));
  return nullptr;
}

// Output y of `net` run as it is (optimization level 0) on backend `be`, for batch `batch`.
std::vector<float> run(Backend* be, const Network& net, int64_t batch) {
  BuilderConfig cfg;
  cfg.device = be->device() == DeviceKind::kCUDA ? DeviceType::kGPU : DeviceType::kCPU;
  cfg.optimization_level = 0;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<void*> bufs;
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    Dims d = t->dims();
    for (int j = 0; j < d.nb_dims; ++j)
      if (d.d[j] < 0) d.d[j] = batch;
    if (!t->dims().is_static()) ctx->set_input_shape(t->name(), d);
    std::vector<float> v = random_floats(d.volume(), 40 + i);
    bufs.push_back(be->allocate(v.size() * 4));
    be->upload(bufs.back(), v.data(), v.size() * 4);
    ctx->set_tensor_address(t->name(), bufs.back());
  }
  std::vector<float> y(ctx->tensor_shape("y").volume());
  void* yd = be->allocate(y.size() * 4);
  ctx->set_tensor_address("y", yd);
  ctx->enqueue(nullptr);
  be->synchronize(nullptr);
  be->download(y.data(), yd, y.size() * 4);
  be->release(yd);
  for (void* p : bufs) be->release(p);
  return y;
}

double rel_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) num += (got[i] - want[i]) * (got[i] - want[i]), den += want[i] * want[i];
  return std::sqrt(num / den);
}

// Runs the epilogue fusion then the merge on a copy; returns the merge's count and the rewritten network.
std::unique_ptr<Network> merged(const Network& net, int* merges) {
  auto copy = net.clone();
  fuse_matmul_epilogue(*copy, BuilderConfig());
  *merges = merge_qkv_projections(*copy, BuilderConfig());
  copy->validate();
  return copy;
}

void expect_merged(const Spec& s) {
  Network net;
  build(net, s);
  int merges = 0;
  auto opt = merged(net, &merges);
  ASSERT_EQ(merges, 1);
  EXPECT_EQ(count(*opt, LayerKind::kMatrixMultiply), 1);
  EXPECT_EQ(count(*opt, LayerKind::kElementWise), 0);
  // The (B, S, 3, H, D) view; with seq_first also the one permute of x that all three read.
  EXPECT_EQ(count(*opt, LayerKind::kShuffle), s.seq_first ? 2 : 1);
  EXPECT_EQ(count(*opt, LayerKind::kConstant), 1);
  const AttentionLayer* a = attention(*opt);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->p.packed_qkv);
  EXPECT_EQ(a->input(1), nullptr);
  EXPECT_EQ(a->input(2), nullptr);
  EXPECT_EQ(a->input(0)->dims(), (Dims{s.dynamic_batch ? -1 : kB, kS, 3, kH, kD}));
  EXPECT_EQ(a->num_inputs() > 3 && a->input(3), s.mask);
  auto* mm = static_cast<const MatrixMultiplyLayer*>(a->input(0)->producer()->input(0)->producer());
  ASSERT_EQ(mm->kind(), LayerKind::kMatrixMultiply);
  EXPECT_NE(mm->name().find("+k+v"), std::string::npos) << mm->name();
  EXPECT_EQ(mm->p.bias.count, s.bias ? 3 * kE : 0);
  EXPECT_EQ(opt->output(0)->name(), "y");
  for (Backend* be : available_backends()) {
    SCOPED_TRACE(be->name());
    for (int64_t batch : s.dynamic_batch ? std::vector<int64_t>{1, 3} : std::vector<int64_t>{kB}) {
      auto want = run(be, net, batch), got = run(be, *opt, batch);
      ASSERT_EQ(got.size(), want.size());
      EXPECT_LE(rel_l2(got, want), 1e-5) << "batch " << batch;
    }
  }
}

TEST(MergeQkvProjections, BertBlockWithMask) {
  for (bool bias : {true, false})
    for (bool mask : {true, false}) {
      SCOPED_TRACE(std::string(bias ? "bias" : "no bias") + (mask ? ", mask" : ", no mask"));
      Spec s;
      s.bias = bias;
      s.mask = mask;
      expect_merged(s);
    }
}

// B stored (1, K, N): the constants are joined along their last dim instead of the one before it.
TEST(MergeQkvProjections, UntransposedWeights) {
  Spec s;
  s.op1 = Op::kNONE;
  expect_merged(s);
}

// nn.MultiheadAttention with batch_first=False permutes x once per projection: one value, still merged.
TEST(MergeQkvProjections, EqualPermutesOfOneInput) {
  Spec s;
  s.seq_first = true;
  expect_merged(s);
}

TEST(MergeQkvProjections, DynamicBatch) {
  Spec s;
  s.dynamic_batch = true;
  expect_merged(s);
}

// The whole builder merges the block (after fuse_matmul_epilogue put the biases in) and runs one GEMM.
TEST(MergeQkvProjections, ThroughTheBuilder) {
  Network net;
  build(net, Spec());
  auto e = Builder().build(net, BuilderConfig());
  auto ctx = e->create_execution_context();
  int gemms = 0, attentions = 0;
  for (const auto& info : ctx->layer_info()) {
    gemms += info.kind == "MatrixMultiply";
    attentions += info.kind == "Attention";
    EXPECT_NE(info.kind, "ElementWise");
  }
  EXPECT_EQ(gemms, 1);
  EXPECT_EQ(attentions, 1);
  // The engine file carries packed_qkv: a round trip still runs the packed layer.
  auto bytes = e->serialize();
  auto back = Engine::deserialize(bytes.data(), bytes.size());
  std::vector<float> x = random_floats(kB * kS * kK, 1), m = random_floats(kB * kS, 2), y1(kB * kS * kE), y2(y1.size());
  for (auto* eng : {e.get(), back.get()}) {
    auto c = eng->create_execution_context();
    c->set_tensor_address("x", x.data());
    c->set_tensor_address("m", m.data());
    c->set_tensor_address("y", eng == e.get() ? y1.data() : y2.data());
    c->enqueue(nullptr);
  }
  EXPECT_EQ(y1, y2);
  BuilderConfig plain;
  plain.optimization_level = 0;
  auto unmerged_engine = Builder().build(net, plain);
  auto unmerged = unmerged_engine->create_execution_context();
  std::vector<float> want(y1.size());
  unmerged->set_tensor_address("x", x.data());
  unmerged->set_tensor_address("m", m.data());
  unmerged->set_tensor_address("y", want.data());
  unmerged->enqueue(nullptr);
  EXPECT_LE(rel_l2(y1, want), 1e-5);
}

// Builds the block with `change` applied between the projections and the attention; nothing may merge.
void expect_left_alone(const std::function<void(Network&, Tensor* x, Tensor* (&p)[3])>& change,
                       const Spec& s = Spec()) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{kB, kS, kK});
  Tensor* p[3];
  for (int i = 0; i < 3; ++i) p[i] = projection(net, x, s, 10 * i);
  change(net, x, p);
  AttentionParams ap;
  ap.heads_interleaved = true;
  Tensor* y = add_attention(net, p[0], p[1], p[2], nullptr, ap)->output(0);
  y->set_name("y");
  net.mark_output(y);
  int merges = -1;
  auto opt = merged(net, &merges);
  EXPECT_EQ(merges, 0);
  EXPECT_EQ(count(*opt, LayerKind::kMatrixMultiply), count(net, LayerKind::kMatrixMultiply));
  const AttentionLayer* a = attention(*opt);
  EXPECT_FALSE(a->p.packed_qkv);
  for (int i = 0; i < 3; ++i) EXPECT_NE(a->input(i), nullptr);
}

TEST(MergeQkvProjections, LeavesAloneWhatMustNotMerge) {
  {
    SCOPED_TRACE("k projects another input");
    expect_left_alone([](Network& net, Tensor*, Tensor* (&p)[3]) {
      Tensor* x2 = net.add_input("x2", DataType::kFLOAT, Dims{kB, kS, kK});
      p[1] = projection(net, x2, Spec(), 50);
    });
  }
  {
    SCOPED_TRACE("q's matrix multiply has another reader");
    Spec no_bias;
    no_bias.bias = false;
    expect_left_alone(
        [](Network& net, Tensor*, Tensor* (&p)[3]) {
          Tensor* gemm = p[0]->producer()->input(0);
          Tensor* z = add_activation(net, gemm, ActivationType::kRELU)->output(0);
          z->set_name("z");
          net.mark_output(z);
        },
        no_bias);
  }
  {
    SCOPED_TRACE("k's reshape has another reader");
    expect_left_alone([](Network& net, Tensor*, Tensor* (&p)[3]) {
      Tensor* z = add_activation(net, p[1], ActivationType::kRELU)->output(0);
      z->set_name("z");
      net.mark_output(z);
    });
  }
  {
    SCOPED_TRACE("v's reshape is a network output");
    expect_left_alone([](Network& net, Tensor*, Tensor* (&p)[3]) { net.mark_output(p[2]); });
  }
  {
    SCOPED_TRACE("a scale between q and the attention");
    expect_left_alone([](Network& net, Tensor*, Tensor* (&p)[3]) {
      Tensor* c = add_constant(net, Dims{1, 1, 1, 1}, Weights::f32({0.5f}))->output(0);
      p[0] = add_elementwise(net, p[0], c, E::kPROD)->output(0);
    });
  }
  {
    SCOPED_TRACE("v's projection has no bias");
    expect_left_alone([](Network& net, Tensor* x, Tensor* (&p)[3]) {
      Spec s;
      s.bias = false;
      p[2] = projection(net, x, s, 60);
    });
  }
  {
    SCOPED_TRACE("k's projection has a residual");
    expect_left_alone([](Network& net, Tensor* x, Tensor* (&p)[3]) {
      p[1] = projection(net, x, Spec(), 70, net.add_input("z", DataType::kFLOAT, Dims{kB, kS, kE}));
    });
  }
  {
    SCOPED_TRACE("the heads split another way than the attention reads");
    expect_left_alone([](Network& net, Tensor*, Tensor* (&p)[3]) {
      // (B, S, E) -> (B, S, D, H) -> (B, S, H, D) through a transpose: not a free view of the GEMM rows.
      for (auto*& t : p) {
        auto* r = static_cast<ShuffleLayer*>(t->producer());
        r->set_reshape_dims(Dims{kB, kS, kD, kH});
        auto* s = add_shuffle(net, r->output(0));
        s->p.first_transpose = {0, 1, 3, 2};
        s->changed([] {});
        t = s->output(0);
      }
    });
  }
}

}  // namespace
}  // namespace t2t_test
