// CUDA backend: plumbing the per-layer harness does not reach (device memory, streams, device index,
// threads, pointer alignment, capability answers) and a whole small network compared with the CPU
// backend in float32 and float16. Every test that needs a GPU skips without one.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>

#include "backends/backend.h"
#include "harness.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

#ifdef T2T_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace t2t_test {
namespace {

#define T2T_REQUIRE_GPU(be)                      \
  std::string why_##be;                          \
  Backend* be = cuda_backend(0, &why_##be);      \
  if (!be) GTEST_SKIP() << "no GPU: " << why_##be

Weights random_weights(int64_t n, double scale = 0.5) {
  auto v = random_values(n, DataType::kFLOAT, -scale, scale);
  return Weights::f32(std::vector<float>(v.begin(), v.end()));
}

// A small CNN touching most kernel families: convolution with symmetric and asymmetric padding,
// pooling, deconvolution with output padding, a residual sum, group normalization, bilinear resize,
// global average (reduce), matrix multiply with constant weights, softmax and top-k.
// Outputs: "prob" (2, 10) float32 and "top" (2, 3) int32 indices.
void small_cnn(Network& net) {
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3, 16, 16});
  auto* c1 = add_convolution_nd(net, x, 8, Dims{3, 3}, random_weights(8 * 3 * 9), random_weights(8));
  c1->p.pre_padding = c1->p.post_padding = Dims{1, 1};
  net.reinfer();
  Tensor* r1 = add_activation(net, c1->output(0), ActivationType::kRELU)->output(0);
  Tensor* p1 = add_pooling_nd(net, r1, PoolingType::kMAX, Dims{2, 2})->output(0);  // (2, 8, 8, 8)
  auto* c2 = add_convolution_nd(net, p1, 8, Dims{3, 3}, random_weights(8 * 8 * 9), random_weights(8));
  c2->p.stride = Dims{2, 2};
  c2->p.pre_padding = Dims{0, 0};
  c2->p.post_padding = Dims{1, 1};  // asymmetric: cuDNN reads an explicitly padded copy
  net.reinfer();                    // (2, 8, 4, 4)
  auto* d = add_deconvolution_nd(net, c2->output(0), 8, Dims{3, 3}, random_weights(8 * 8 * 9), random_weights(8));
  d->p.stride = Dims{2, 2};
  d->p.pre_padding = d->p.post_padding = Dims{1, 1};
  d->p.output_padding = Dims{1, 1};
  net.reinfer();  // (2, 8, 8, 8)
  Tensor* res = add_elementwise(net, d->output(0), p1, ElementWiseOperation::kSUM)->output(0);
  Tensor* gs = add_constant(net, Dims{1, 8, 1, 1}, random_weights(8, 1.0))->output(0);
  Tensor* gb = add_constant(net, Dims{1, 8, 1, 1}, random_weights(8))->output(0);
  Tensor* gn = add_normalization(net, res, gs, gb, (1u << 2) | (1u << 3), 2)->output(0);
  auto* rs = add_resize(net, gn);
  rs->p.shape = Dims{2, 8, 12, 12};
  rs->p.mode = InterpolationMode::kLINEAR;
  rs->p.coordinate_transformation = ResizeCoordinateTransformation::kHALF_PIXEL;
  net.reinfer();
  Tensor* gap = add_reduce(net, rs->output(0), ReduceOperation::kAVG, (1u << 2) | (1u << 3), false)->output(0);
  Tensor* w = add_constant(net, Dims{8, 10}, random_weights(80, 1.0))->output(0);
  Tensor* fc = add_matrix_multiply(net, gap, MatrixOperation::kNONE, w, MatrixOperation::kNONE)->output(0);
  Tensor* b = add_constant(net, Dims{1, 10}, random_weights(10))->output(0);
  Tensor* logits = add_elementwise(net, fc, b, ElementWiseOperation::kSUM)->output(0);
  auto* sm = add_softmax(net, logits);
  sm->p.axes = 1u << 1;
  net.reinfer();
  sm->output(0)->set_name("prob");
  net.mark_output(sm->output(0));
  auto* tk = add_topk(net, logits, TopKOperation::kMAX, 3, 1u << 1);
  tk->output(1)->set_name("top");
  net.mark_output(tk->output(1));
}

struct Outputs {
  std::vector<float> prob;
  std::vector<int32_t> top;
};

// Runs `engine` on backend `be` with input x, on `stream` (null: the default stream).
Outputs run_engine(const Engine& engine, Backend& be, const std::vector<float>& x, void* stream = nullptr) {
  auto ctx = engine.create_execution_context();
  Outputs o;
  o.prob.resize(20);
  o.top.resize(6);
  void* dx = be.allocate(x.size() * 4);
  void* dp = be.allocate(o.prob.size() * 4);
  void* dt = be.allocate(o.top.size() * 4);
  be.upload(dx, x.data(), x.size() * 4);
  ctx->set_tensor_address("x", dx);
  ctx->set_tensor_address("prob", dp);
  ctx->set_tensor_address("top", dt);
  ctx->enqueue(stream);
  be.synchronize(stream);
  be.download(o.prob.data(), dp, o.prob.size() * 4);
  be.download(o.top.data(), dt, o.top.size() * 4);
  be.release(dx);
  be.release(dp);
  be.release(dt);
  return o;
}

std::unique_ptr<Engine> build(const Network& net, DeviceType dev, int index = 0, bool fp16 = false) {
  BuilderConfig cfg;
  cfg.device = dev;
  cfg.device_index = index;
  if (fp16) cfg.set_flag(BuilderFlag::kFP16);
  auto bytes = Builder().build_serialized(net, cfg);
  return Engine::deserialize(bytes.data(), bytes.size());
}

double rel_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) num += std::pow(got[i] - want[i], 2), den += double(want[i]) * want[i];
  return std::sqrt(num / den);
}

std::vector<float> cnn_input(int seed) {
  std::vector<float> x(2 * 3 * 16 * 16);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.37 * i + seed) * 1.5);
  return x;
}

// Runs everywhere: with no GPU (or no CUDA build) the answer is null and says why, never a crash.
TEST(CudaBackend, UnavailableDeviceIsExplained) {
  std::string why;
  EXPECT_EQ(cuda_backend(-1, &why), nullptr);
  EXPECT_FALSE(why.empty());
  why.clear();
  EXPECT_EQ(cuda_backend(1 << 20, &why), nullptr);
  EXPECT_FALSE(why.empty());
  why.clear();
  if (cuda_backend(0, &why)) return;
  EXPECT_FALSE(why.empty());
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{4});
  Tensor* y = add_activation(net, x, ActivationType::kRELU)->output(0);
  y->set_name("y");
  net.mark_output(y);
  BuilderConfig cfg;
  cfg.device = DeviceType::kGPU;
  try {
    Builder().build(net, cfg);
    ADD_FAILURE() << "built a GPU engine without a usable GPU";
  } catch (const Unsupported& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(CudaBackend, MemoryRoundTrip) {
  T2T_REQUIRE_GPU(be);
  EXPECT_EQ(be->device(), DeviceKind::kCUDA);
  std::vector<uint8_t> a(1000), b(1000, 0);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 7);
  void* d1 = be->allocate(a.size());
  void* d2 = be->allocate(a.size());
  be->upload(d1, a.data(), a.size());
  be->copy(d2, d1, a.size(), nullptr);
  be->synchronize(nullptr);
  be->download(b.data(), d2, b.size());
  EXPECT_EQ(a, b);
  be->release(d1);
  be->release(d2);
  be->release(nullptr);
  EXPECT_EQ(be->allocate(0), nullptr);
}

TEST(CudaBackend, SmallNetworkMatchesCpu) {
  // The CPU half runs everywhere, so the network itself is checked on machines without a GPU too.
  Network net;
  small_cnn(net);
  auto cpu = build(net, DeviceType::kCPU);
  Outputs probe = run_engine(*cpu, cpu_backend(), cnn_input(0));
  double total = 0;
  for (float p : probe.prob) total += p;
  EXPECT_NEAR(total, 2.0, 1e-5);  // two rows of probabilities
  T2T_REQUIRE_GPU(be);
  auto gpu = build(net, DeviceType::kGPU);
  EXPECT_EQ(gpu->target().rfind("cuda:0", 0), 0u) << gpu->target();
  for (int seed : {0, 1}) {
    auto x = cnn_input(seed);
    Outputs want = run_engine(*cpu, cpu_backend(), x), got = run_engine(*gpu, *be, x);
    EXPECT_LE(rel_l2(got.prob, want.prob), 1e-5) << "seed " << seed;
    EXPECT_EQ(got.top, want.top) << "seed " << seed;
  }
  // Every layer ran on a CUDA kernel, none silently elsewhere.
  auto ctx = gpu->create_execution_context();
  for (auto& info : ctx->layer_info()) EXPECT_EQ(info.impl.rfind("cpu", 0), std::string::npos) << info.name;
}

// max_workspace_size bounds the scratch of the libraries' algorithms: cuBLASLt (32 MiB by default) and cuDNN
// get what the limit leaves, and the engine still runs and agrees with the CPU.
TEST(CudaBackend, WorkspaceLimitIsHonoured) {
  T2T_REQUIRE_GPU(be);
  Network net;
  small_cnn(net);
  auto cpu = build(net, DeviceType::kCPU);
  for (bool fp16 : {false, true})
    for (uint64_t limit : {uint64_t(256) << 10, uint64_t(1) << 20}) {
      SCOPED_TRACE(std::string(fp16 ? "fp16" : "fp32") + " limit " + std::to_string(limit));
      BuilderConfig cfg;
      cfg.device = DeviceType::kGPU;
      cfg.workspace_limit = limit;
      if (fp16) cfg.set_flag(BuilderFlag::kFP16);
      auto bytes = Builder().build_serialized(net, cfg);
      auto gpu = Engine::deserialize(bytes.data(), bytes.size());
      auto x = cnn_input(3);
      Outputs want = run_engine(*cpu, cpu_backend(), x), got = run_engine(*gpu, *be, x);
      EXPECT_LE(rel_l2(got.prob, want.prob), fp16 ? 1e-2 : 1e-5);
    }
}

TEST(CudaBackend, HalfPrecisionNetworkIsClose) {
  T2T_REQUIRE_GPU(be);
  Network net;
  small_cnn(net);
  auto cpu = build(net, DeviceType::kCPU);
  auto gpu = build(net, DeviceType::kGPU, 0, /*fp16=*/true);
  auto x = cnn_input(3);
  Outputs want = run_engine(*cpu, cpu_backend(), x), got = run_engine(*gpu, *be, x);
  EXPECT_LE(rel_l2(got.prob, want.prob), 2e-2);
}

#ifdef T2T_WITH_CUDA
TEST(CudaBackend, RunsOnTheGivenStream) {
  T2T_REQUIRE_GPU(be);
  Network net;
  small_cnn(net);
  auto gpu = build(net, DeviceType::kGPU);
  auto x = cnn_input(4);
  Outputs on_default = run_engine(*gpu, *be, x);
  cudaStream_t s = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  Outputs on_stream = run_engine(*gpu, *be, x, s);
  cudaStreamDestroy(s);
  EXPECT_LE(rel_l2(on_stream.prob, on_default.prob), 1e-6);
  EXPECT_EQ(on_stream.top, on_default.top);
}

// The engine's device is made current for every call, whatever the caller's thread has selected.
TEST(CudaBackend, EngineOnSecondDevice) {
  T2T_REQUIRE_GPU(be);
  int count = 0;
  cudaGetDeviceCount(&count);
  if (count < 2) GTEST_SKIP() << "needs 2 GPUs, " << count << " visible";
  std::string why;
  Backend* be1 = cuda_backend(1, &why);
  ASSERT_NE(be1, nullptr) << why;
  Network net;
  small_cnn(net);
  auto cpu = build(net, DeviceType::kCPU);
  auto gpu1 = build(net, DeviceType::kGPU, 1);
  EXPECT_EQ(gpu1->target().rfind("cuda:1", 0), 0u) << gpu1->target();
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  auto x = cnn_input(5);
  Outputs want = run_engine(*cpu, cpu_backend(), x), got = run_engine(*gpu1, *be1, x);
  EXPECT_LE(rel_l2(got.prob, want.prob), 1e-5);
  int current = -1;
  cudaGetDevice(&current);
  EXPECT_EQ(current, 0) << "the caller's device must be restored";
}
#endif

TEST(CudaBackend, ConcurrentContexts) {
  T2T_REQUIRE_GPU(be);
  Network net;
  small_cnn(net);
  auto cpu = build(net, DeviceType::kCPU);
  auto gpu = build(net, DeviceType::kGPU);
  std::vector<std::vector<float>> xs;
  std::vector<Outputs> want;
  for (int i = 0; i < 4; ++i) {
    xs.push_back(cnn_input(10 + i));
    want.push_back(run_engine(*cpu, cpu_backend(), xs.back()));
  }
  std::atomic<int> bad{0};
  auto worker = [&](int t) {
    for (int it = 0; it < 8; ++it) {
      int i = (t + it) % 4;
      Outputs got = run_engine(*gpu, *be, xs[i]);
      if (rel_l2(got.prob, want[i].prob) > 1e-5 || got.top != want[i].top) ++bad;
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(bad.load(), 0);
}

// cuBLASLt algorithms chosen for 16-byte aligned pointers must not be used on a view at an odd offset.
TEST(CudaBackend, MatmulOnUnalignedPointers) {
  T2T_REQUIRE_GPU(be);
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, Dims{3, 5, 7});
  Tensor* b = net.add_input("b", DataType::kFLOAT, Dims{3, 7, 6});
  Tensor* c = add_matrix_multiply(net, a, MatrixOperation::kNONE, b, MatrixOperation::kNONE)->output(0);
  c->set_name("c");
  net.mark_output(c);
  auto gpu = build(net, DeviceType::kGPU);
  auto va = random_values(105, DataType::kFLOAT, -1, 1), vb = random_values(126, DataType::kFLOAT, -1, 1);
  std::vector<float> fa(va.begin(), va.end()), fb(vb.begin(), vb.end()), want(90, 0.f), got(90);
  for (int bt = 0; bt < 3; ++bt)
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 6; ++j)
        for (int k = 0; k < 7; ++k) want[(bt * 5 + i) * 6 + j] += fa[(bt * 5 + i) * 7 + k] * fb[(bt * 7 + k) * 6 + j];
  const size_t shift = 4;  // one float: aligned to 4 bytes, not 16
  auto* da = static_cast<uint8_t*>(be->allocate(fa.size() * 4 + shift));
  auto* db = static_cast<uint8_t*>(be->allocate(fb.size() * 4 + shift));
  auto* dc = static_cast<uint8_t*>(be->allocate(got.size() * 4 + shift));
  be->upload(da + shift, fa.data(), fa.size() * 4);
  be->upload(db + shift, fb.data(), fb.size() * 4);
  auto ctx = gpu->create_execution_context();
  ctx->set_tensor_address("a", da + shift);
  ctx->set_tensor_address("b", db + shift);
  ctx->set_tensor_address("c", dc + shift);
  ctx->enqueue(nullptr);
  be->synchronize(nullptr);
  be->download(got.data(), dc + shift, got.size() * 4);
  EXPECT_LE(rel_l2(got, want), 1e-5);
  be->release(da);
  be->release(db);
  be->release(dc);
}

// A plugin without a CUDA factory is refused by the builder with a reason naming the plugin.
TEST(CudaBackend, PluginWithoutCudaKernelIsRefused) {
  T2T_REQUIRE_GPU(be);
  PluginCreator c;
  c.name = "cuda_test_cpu_only";
  c.infer = [](const PluginFields&, const std::vector<TensorDesc>& in) { return std::vector<TensorDesc>{in[0]}; };
  c.cpu_kernel = [](const PluginFields&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                    std::string* why) -> std::unique_ptr<Kernel> {
    *why = "test plugin: never run";
    return nullptr;
  };
  register_plugin(c);
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{4});
  Tensor* y = add_plugin(net, {x}, "cuda_test_cpu_only", {})->output(0);
  y->set_name("y");
  net.mark_output(y);
  BuilderConfig cfg;
  cfg.device = DeviceType::kGPU;
  try {
    Builder().build(net, cfg);
    ADD_FAILURE() << "built a CUDA engine with a CPU-only plugin";
  } catch (const Unsupported& e) {
    EXPECT_NE(std::string(e.what()).find("has no CUDA kernel"), std::string::npos) << e.what();
  }
  deregister_plugin("cuda_test_cpu_only");
}

}  // namespace
}  // namespace t2t_test
