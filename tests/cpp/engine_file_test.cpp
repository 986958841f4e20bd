// Engine files: round trip, every truncation, byte flips, versions, foreign data.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>

#include "backends/backend.h"
#include "engine/engine_file.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"
#include "torch2trt/version.h"

namespace torch2trt {
namespace {

// y = gelu(x) * x + leaky_relu(x)
std::vector<uint8_t> sample_engine() {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 8});
  Tensor* g = add_activation(net, x, ActivationType::kGELU_ERF)->output(0);
  Tensor* m = add_elementwise(net, g, x, ElementWiseOperation::kPROD)->output(0);
  auto* lr = add_activation(net, x, ActivationType::kLEAKY_RELU);
  lr->p.alpha = 0.25f;
  Tensor* y = add_elementwise(net, m, lr->output(0), ElementWiseOperation::kSUM)->output(0);
  y->set_name("y");
  net.mark_output(y);
  return Builder().build_serialized(net, BuilderConfig());
}

std::vector<float> run(const Engine& e, const std::vector<float>& x) {
  auto ctx = e.create_execution_context();
  std::vector<float> in = x, out(16, -1.f);
  ctx->set_tensor_address("x", in.data());
  ctx->set_tensor_address("y", out.data());
  ctx->enqueue(nullptr);
  return out;
}

std::vector<float> inputs(int seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-3, 3);
  std::vector<float> x(16);
  for (auto& v : x) v = u(rng);
  return x;
}

void expect_refused(const std::vector<uint8_t>& b, const std::string& needle) {
  try {
    Engine::deserialize(b.data(), b.size());
    ADD_FAILURE() << "accepted a bad engine (expected: " << needle << ")";
  } catch (const EngineFormatError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(needle), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "one line: " << m;
  }
}

void fix_checksum(std::vector<uint8_t>& b) {
  uint64_t c = engine_checksum(b.data(), b.size());
  std::memcpy(b.data() + kEngineChecksumOffset, &c, 8);
}

TEST(EngineFile, RoundTripGivesIdenticalOutputsAndBytes) {
  auto bytes = sample_engine();
  auto e = Engine::deserialize(bytes.data(), bytes.size());
  EXPECT_EQ(e->serialize(), bytes);
  auto x = inputs(1);
  auto y = run(*e, x);
  for (int i = 0; i < 16; ++i) {
    double v = x[i];
    double want = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))) * v + (v >= 0 ? v : 0.25 * v);
    EXPECT_NEAR(y[i], want, 1e-5 * (1 + std::fabs(want)));
  }
  EXPECT_EQ(e->num_io_tensors(), 2);
  EXPECT_EQ(e->io_mode("x"), TensorIOMode::kINPUT);
  EXPECT_EQ(e->io_dims("y"), (Dims{2, 8}));
}

TEST(EngineFile, EveryTruncationIsRefused) {
  auto bytes = sample_engine();
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> t(bytes.begin(), bytes.begin() + n);
    EXPECT_THROW(Engine::deserialize(t.data(), t.size()), EngineFormatError) << "length " << n;
  }
  std::vector<uint8_t> t(bytes.begin(), bytes.end() - 1);
  expect_refused(t, "truncated");
}

TEST(EngineFile, ByteFlipsAreRefused) {
  auto bytes = sample_engine();
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    auto b = bytes;
    size_t pos = rng() % b.size();
    b[pos] ^= static_cast<uint8_t>(1 + rng() % 255);
    EXPECT_THROW(Engine::deserialize(b.data(), b.size()), EngineFormatError) << "flip at " << pos;
  }
}

// With the checksum recomputed, the parser itself meets the corruption: it must refuse or accept a
// still-valid file, never crash or read out of bounds (run under ASan/valgrind in CI-like checks).
TEST(EngineFile, CorruptionBehindAValidChecksumNeverCrashes) {
  auto bytes = sample_engine();
  std::mt19937 rng(11);
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    auto b = bytes;
    int flips = 1 + rng() % 3;
    for (int k = 0; k < flips; ++k) b[kEngineChecksumStart + rng() % (b.size() - kEngineChecksumStart)] ^= 1u << (rng() % 8);
    fix_checksum(b);
    try {
      auto e = Engine::deserialize(b.data(), b.size());
      (void)e;
    } catch (const EngineFormatError&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(EngineFile, NewerFormatSaysWhichVersions) {
  auto b = sample_engine();
  uint32_t v = kEngineFormatVersion + 1;
  std::memcpy(b.data() + 8, &v, 4);
  expect_refused(b, "engine written by format " + std::to_string(v) + "; this torch2trt");
  expect_refused(b, "reads up to " + std::to_string(kEngineFormatVersion));
}

TEST(EngineFile, OlderFormatSaysWhichVersions) {
  // Format 1 stored convolution, pooling and matrix multiply parameters differently; format 2 Attention
  // layers lack packed_qkv.
  for (uint32_t v : {1u, 2u}) {
    auto b = sample_engine();
    std::memcpy(b.data() + 8, &v, 4);
    expect_refused(b, "engine written by format " + std::to_string(v) + ", older than this torch2trt");
    expect_refused(b, "reads (format " + std::to_string(kOldestEngineFormatVersion) + " on)");
    expect_refused(b, "rebuild it with torch2trt.torch2trt");
  }
}

TEST(EngineFile, ForeignDataIsNamed) {
  std::vector<uint8_t> zip = {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0};
  expect_refused(zip, "zip archive");
  std::vector<uint8_t> junk(100, 7);
  expect_refused(junk, "not a torch2trt engine");
  expect_refused({}, "empty");
  auto b = sample_engine();
  b.push_back(0);
  expect_refused(b, "extra bytes");
  auto c = sample_engine();
  c[40] ^= 0;  // reserved bytes are covered by the checksum
  c[100] ^= 0x10;
  expect_refused(c, "checksum");
}

TEST(Runtime, ContextsRunConcurrently) {
  auto bytes = sample_engine();
  auto e = Engine::deserialize(bytes.data(), bytes.size());
  auto x1 = inputs(2), x2 = inputs(3);
  auto want1 = run(*e, x1), want2 = run(*e, x2);
  std::atomic<int> bad{0};
  auto worker = [&](const std::vector<float>& x, const std::vector<float>& want) {
    auto ctx = e->create_execution_context();
    std::vector<float> in = x, out(16);
    ctx->set_tensor_address("x", in.data());
    ctx->set_tensor_address("y", out.data());
    for (int it = 0; it < 2000; ++it) {
      std::fill(out.begin(), out.end(), 0.f);
      ctx->enqueue(nullptr);
      if (out != want) ++bad;
    }
  };
  std::thread t1(worker, x1, want1), t2(worker, x2, want2);
  t1.join();
  t2.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(Runtime, UnboundAndWrongNamesAreErrors) {
  auto bytes = sample_engine();
  auto e = Engine::deserialize(bytes.data(), bytes.size());
  auto ctx = e->create_execution_context();
  EXPECT_THROW(ctx->set_tensor_address("nope", nullptr), InvalidArgument);
  std::vector<float> in(16);
  ctx->set_tensor_address("x", in.data());
  try {
    ctx->enqueue(nullptr);
    FAIL();
  } catch (const RuntimeFailure& err) {
    EXPECT_NE(std::string(err.what()).find("'y'"), std::string::npos) << err.what();
  }
  EXPECT_THROW(ctx->set_input_shape("x", Dims{3, 8}), InvalidArgument);
}

TEST(Runtime, RunTimeDimensions) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{-1, 3});
  Tensor* y = add_activation(net, x, ActivationType::kRELU)->output(0);
  y->set_name("y");
  net.mark_output(y);
  auto e = Builder().build(net, BuilderConfig());
  EXPECT_EQ(e->io_dims("y"), (Dims{-1, 3}));
  auto ctx = e->create_execution_context();
  EXPECT_THROW(ctx->enqueue(nullptr), RuntimeFailure);  // shape not set
  for (int n : {1, 5, 2}) {
    std::vector<float> in(n * 3), out(n * 3, 9.f);
    for (int i = 0; i < n * 3; ++i) in[i] = static_cast<float>(i % 2 ? i : -i);
    ctx->set_input_shape("x", Dims{n, 3});
    EXPECT_EQ(ctx->tensor_shape("y"), (Dims{n, 3}));
    ctx->set_tensor_address("x", in.data());
    ctx->set_tensor_address("y", out.data());
    ctx->enqueue(nullptr);
    for (int i = 0; i < n * 3; ++i) EXPECT_EQ(out[i], std::max(in[i], 0.f));
  }
}

}  // namespace
}  // namespace torch2trt
