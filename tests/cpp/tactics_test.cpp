// Tactic selection: the timing cache's file format (round trip, every corruption refused), and on a GPU
// the builder timing cuDNN's algorithms, recording its choices, reusing them from the cache, and running
// whatever tactic a cache names correctly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backends/backend.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {
namespace {

TEST(TimingCache, RoundTripAndCombine) {
  TimingCache c;
  c.put("conv a@gpu", {3, 0.25});
  c.put("conv b@gpu", {-1, 1.5});
  auto bytes = c.serialize();
  auto d = TimingCache::deserialize(bytes.data(), bytes.size());
  ASSERT_EQ(d->size(), 2u);
  TimingCache::Entry e;
  ASSERT_TRUE(d->find("conv a@gpu", &e));
  EXPECT_EQ(e.tactic, 3);
  EXPECT_DOUBLE_EQ(e.ms, 0.25);
  EXPECT_FALSE(d->find("conv c@gpu", &e));
  EXPECT_EQ(d->devices(), std::vector<std::string>{"gpu"});
  TimingCache other;
  other.put("conv a@gpu", {7, 0.1});  // this cache's own entry wins
  other.put("conv c@gpu", {1, 0.5});
  d->combine(other);
  EXPECT_EQ(d->size(), 3u);
  ASSERT_TRUE(d->find("conv a@gpu", &e));
  EXPECT_EQ(e.tactic, 3);
}

TEST(TimingCache, CorruptionIsRefusedWithAMessage) {
  TimingCache c;
  c.put("k1", {2, 0.5});
  c.put("k2", {4, 0.75});
  auto bytes = c.serialize();
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      TimingCache::deserialize(bytes.data(), n);
      ADD_FAILURE() << "accepted a cache truncated to " << n << " bytes";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("timing cache"), std::string::npos) << e.what();
    }
  }
  auto extra = bytes;
  extra.push_back(0);
  EXPECT_THROW(TimingCache::deserialize(extra.data(), extra.size()), InvalidArgument);
  auto magic = bytes;
  magic[0] = 'X';
  try {
    TimingCache::deserialize(magic.data(), magic.size());
    ADD_FAILURE() << "accepted wrong magic";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("not a torch2trt timing cache"), std::string::npos) << e.what();
  }
  auto ver = bytes;
  ver[8] = 99;
  try {
    TimingCache::deserialize(ver.data(), ver.size());
    ADD_FAILURE() << "accepted version 99";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("version 99"), std::string::npos) << e.what();
  }
  // Random byte flips never crash (they may still parse when they only change a time or a key byte).
  std::mt19937 rng(5);
  for (int i = 0; i < 500; ++i) {
    auto b = bytes;
    b[rng() % b.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    try {
      TimingCache::deserialize(b.data(), b.size());
    } catch (const InvalidArgument&) {
    }
  }
}

// A half-precision 3x3 convolution on the GPU (dense 32 -> 64 channels, or depthwise over 32): several
// cuDNN algorithms (and for depthwise our own kernel) can run it.
std::unique_ptr<Network> conv_net(bool depthwise = false) {
  const int64_t k = depthwise ? 32 : 64;
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("x", DataType::kFLOAT, Dims::from({8, 32, 28, 28}));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  std::vector<float> w(depthwise ? 32 * 9 : 64 * 32 * 9), b(k);
  for (auto& v : w) v = u(rng);
  for (auto& v : b) v = u(rng);
  auto* c = add_convolution_nd(*net, x, k, Dims::from({3, 3}), Weights::f32(w), Weights::f32(b));
  c->p.pre_padding = c->p.post_padding = Dims::from({1, 1});
  if (depthwise) c->p.num_groups = 32;
  c->changed([] {});
  Tensor* y = add_activation(*net, c->output(0), ActivationType::kRELU)->output(0);
  y->set_name("y");
  net->mark_output(y);
  return net;
}

std::vector<float> run(const Engine& e, Backend& be, const std::vector<float>& xv, size_t ny) {
  auto ctx = e.create_execution_context();
  void* x = be.allocate(xv.size() * 4);
  void* y = be.allocate(ny * 4);
  be.upload(x, xv.data(), xv.size() * 4);
  ctx->set_tensor_address("x", x);
  ctx->set_tensor_address("y", y);
  ctx->enqueue(nullptr);
  be.synchronize(nullptr);
  std::vector<float> r(ny);
  be.download(r.data(), y, ny * 4);
  be.release(x);
  be.release(y);
  return r;
}

int conv_tactic(const Engine& e) {
  for (int i = 0; i < e.network().num_layers(); ++i)
    if (e.network().layer(i)->kind() == LayerKind::kConvolution) return static_cast<int>(e.network().layer(i)->tactic());
  return -2;
}

void check_gpu_tactics(bool depthwise) {
  std::string why;
  Backend* be = cuda_backend(0, &why);
  if (!be) GTEST_SKIP() << why;
  auto net = conv_net(depthwise);
  BuilderConfig cfg;
  cfg.device = DeviceType::kGPU;
  cfg.set_flag(BuilderFlag::kFP16);
  cfg.timing_cache = std::make_shared<TimingCache>();
  auto e1 = Builder().build(*net, cfg);
  ASSERT_GE(cfg.timing_cache->size(), 1u) << "no layer offered several tactics";
  const int t1 = conv_tactic(*e1);
  EXPECT_GE(t1, 0);
  // Second build: the cache answers (no new entries), the same tactic is chosen, and it survives the file.
  const size_t entries = cfg.timing_cache->size();
  auto e2 = Builder().build(*net, cfg);
  EXPECT_EQ(cfg.timing_cache->size(), entries);
  EXPECT_EQ(conv_tactic(*e2), t1);
  auto bytes = e2->serialize();
  auto e3 = Engine::deserialize(bytes.data(), bytes.size());
  EXPECT_EQ(conv_tactic(*e3), t1);

  // Whatever tactic a cache names (every key rewritten to each algorithm id, and a bogus one), the engine
  // computes the same result as the heuristic's choice.
  std::vector<float> xv(8 * 32 * 28 * 28);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : xv) v = u(rng);
  const size_t ny = 8 * (depthwise ? 32 : 64) * 28 * 28;
  auto ref = run(*e1, *be, xv, ny);
  {
    // The chosen tactic keeps CUDA-graph replay working (an uncapturable one would turn it off).
    auto ctx = e1->create_execution_context();
    void* x = be->allocate(xv.size() * 4);
    void* y = be->allocate(ny * 4);
    ctx->set_tensor_address("x", x);
    ctx->set_tensor_address("y", y);
    for (int i = 0; i < 3; ++i) ctx->enqueue(nullptr);
    be->synchronize(nullptr);
    EXPECT_TRUE(ctx->last_run_replayed()) << ctx->graph_status();
    be->release(x);
    be->release(y);
  }
  auto e1_bytes = e1->serialize();
  for (int64_t forced : {int64_t(0), int64_t(1), int64_t(2), int64_t(5), int64_t(6), int64_t(7), int64_t(1000),
                         int64_t(1) << 20}) {
    SCOPED_TRACE(forced);
    // The runtime hands a layer's tactic to its kernel: an id the kernel cannot run falls back.
    auto e5 = Engine::deserialize(e1_bytes.data(), e1_bytes.size());
    for (int i = 0; i < e5->network().num_layers(); ++i) {
      Layer* l = e5->network().layer(i);
      if (l->kind() == LayerKind::kConvolution) l->set_tactic(forced);
    }
    auto got = run(*e5, *be, xv, ny);
    double num = 0, den = 0;
    for (size_t i = 0; i < ny; ++i) num += (got[i] - ref[i]) * (got[i] - ref[i]), den += ref[i] * ref[i];
    EXPECT_LT(std::sqrt(num / den), 1e-2);
  }
}


TEST(Tactics, GpuBuildTimesRecordsAndReuses) { check_gpu_tactics(false); }

// Depthwise: our own kernel (tactic 1 << 20, the default) and cuDNN's algorithms compete.
TEST(Tactics, GpuDepthwiseOwnKernelAndCudnnCompete) { check_gpu_tactics(true); }

}  // namespace
}  // namespace torch2trt
