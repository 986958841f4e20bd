// Runtime memory plan: constants are read in place from the kernel's memory and reshapes share their
// input's memory (neither runs), except where the tensor is a network output, which must be written to
// the caller's memory. Checked on every backend built, with the builder passes off so the layers stay.
#include <gtest/gtest.h>

#include <numeric>

#include "backends/backend.h"
#include "harness.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {
namespace {

using t2t_test::available_backends;

ShuffleLayer* reshape(Network& net, Tensor* x, Dims d) {
  auto* s = add_shuffle(net, x);
  s->p.has_reshape = true;
  s->p.reshape_dims = d;
  s->changed([] {});
  return s;
}

// x (2,3,4) -> reshape (6,4) -> + c (1,4) -> transpose of unit axes (6,1,4)->(1,6,4) -> y
//           -> reshape (24) is also an output (r), c is also an output (k).
struct Outputs {
  std::vector<float> y, r, k;
  std::vector<ExecutionContext::LayerInfo> info;
};

Outputs run_network(Backend* be, const std::vector<float>& xv, const std::vector<float>& cv) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3, 4});
  Tensor* x2 = reshape(net, x, Dims{6, 4})->output(0);
  auto* cl = add_constant(net, Dims{1, 4}, Weights::f32(cv));
  cl->set_name("c");
  Tensor* s = add_elementwise(net, x2, cl->output(0), ElementWiseOperation::kSUM)->output(0);
  Tensor* s3 = reshape(net, s, Dims{6, 1, 4})->output(0);
  auto* t = add_shuffle(net, s3);
  t->p.first_transpose = {1, 0, 2};
  t->set_name("unit_transpose");
  t->changed([] {});
  Tensor* y = add_activation(net, t->output(0), ActivationType::kRELU)->output(0);
  y->set_name("y");
  net.mark_output(y);
  Tensor* r = reshape(net, x2, Dims{24})->output(0);
  r->set_name("r");
  net.mark_output(r);
  cl->output(0)->set_name("k");
  net.mark_output(cl->output(0));

  BuilderConfig cfg;
  cfg.device = be->device() == DeviceKind::kCUDA ? DeviceType::kGPU : DeviceType::kCPU;
  cfg.optimization_level = 0;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  void* xd = be->allocate(24 * 4);
  void* yd = be->allocate(24 * 4);
  void* rd = be->allocate(24 * 4);
  void* kd = be->allocate(4 * 4);
  be->upload(xd, xv.data(), 24 * 4);
  ctx->set_tensor_address("x", xd);
  ctx->set_tensor_address("y", yd);
  ctx->set_tensor_address("r", rd);
  ctx->set_tensor_address("k", kd);
  ctx->set_profiling(true);
  Outputs o;
  for (int rep = 0; rep < 2; ++rep) ctx->enqueue(nullptr);
  be->synchronize(nullptr);
  o.y.resize(24), o.r.resize(24), o.k.resize(4);
  be->download(o.y.data(), yd, 24 * 4);
  be->download(o.r.data(), rd, 24 * 4);
  be->download(o.k.data(), kd, 4 * 4);
  o.info = ctx->layer_info();
  for (void* p : {xd, yd, rd, kd}) be->release(p);
  return o;
}

TEST(RuntimeMemory, ConstantsAndReshapesRunInPlace) {
  std::vector<float> xv(24), cv = {1.f, -2.f, 0.5f, -100.f};
  std::iota(xv.begin(), xv.end(), -10.f);
  for (Backend* be : available_backends()) {
    SCOPED_TRACE(be->name());
    Outputs o = run_network(be, xv, cv);
    for (int i = 0; i < 24; ++i) {
      EXPECT_FLOAT_EQ(o.y[i], std::max(0.f, xv[i] + cv[i % 4])) << i;
      EXPECT_FLOAT_EQ(o.r[i], xv[i]) << i;
    }
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(o.k[i], cv[i]);
    // Layers that ran have a time; bound constants and aliases report 0 (they never run). The reshape
    // into the network output r and the constant k (an output too) must run to fill the caller's memory.
    int skipped = 0;
    for (auto& info : o.info) {
      if (info.time_ms == 0.0) ++skipped;
      if (info.kind == std::string("ElementWise") || info.kind == std::string("Activation"))
        EXPECT_NE(info.time_ms, 0.0) << info.name;
    }
    // Skipped: the reshape of x, the reshape of s, the unit-axis transpose (3); the constant is an output.
    EXPECT_EQ(skipped, 3);
  }
}

TEST(RuntimeMemory, BoundConstantFeedsSeveralReaders) {
  // A constant read by two layers and never copied: both see its values after other layers reuse the arena.
  for (Backend* be : available_backends()) {
    SCOPED_TRACE(be->name());
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
    std::vector<float> cv(8);
    std::iota(cv.begin(), cv.end(), 1.f);
    Tensor* c = add_constant(net, Dims{8}, Weights::f32(cv))->output(0);
    Tensor* a = add_elementwise(net, x, c, ElementWiseOperation::kSUM)->output(0);
    Tensor* b = add_activation(net, a, ActivationType::kRELU)->output(0);
    Tensor* y = add_elementwise(net, b, c, ElementWiseOperation::kPROD)->output(0);
    y->set_name("y");
    net.mark_output(y);
    BuilderConfig cfg;
    cfg.device = be->device() == DeviceKind::kCUDA ? DeviceType::kGPU : DeviceType::kCPU;
    cfg.optimization_level = 0;
    auto e = Builder().build(net, cfg);
    auto ctx = e->create_execution_context();
    std::vector<float> xv = {-5, -4, -3, -2, -1, 0, 1, 2}, yv(8);
    void* xd = be->allocate(32);
    void* yd = be->allocate(32);
    be->upload(xd, xv.data(), 32);
    ctx->set_tensor_address("x", xd);
    ctx->set_tensor_address("y", yd);
    for (int rep = 0; rep < 3; ++rep) ctx->enqueue(nullptr);  // third run replays a CUDA graph
    be->synchronize(nullptr);
    be->download(yv.data(), yd, 32);
    for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(yv[i], std::max(0.f, xv[i] + cv[i]) * cv[i]) << i;
    be->release(xd);
    be->release(yd);
  }
}

TEST(RuntimeMemory, GraphReplayFollowsTheCallersAddresses) {
  // y = relu(x + 1) * 2. The graph captured at addresses A reads A's live contents; runs at B replay the
  // staging graph, then (B repeated) a graph captured for B; A again takes the staging graph.
  Backend* gpu = nullptr;
  for (Backend* be : available_backends())
    if (be->device() == DeviceKind::kCUDA) gpu = be;
  if (!gpu) GTEST_SKIP() << "no CUDA device";
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{8});
  Tensor* one = add_constant(net, Dims{1}, Weights::f32({1.f}))->output(0);
  Tensor* two = add_constant(net, Dims{1}, Weights::f32({2.f}))->output(0);
  Tensor* a = add_elementwise(net, x, one, ElementWiseOperation::kSUM)->output(0);
  Tensor* r = add_activation(net, a, ActivationType::kRELU)->output(0);
  Tensor* y = add_elementwise(net, r, two, ElementWiseOperation::kPROD)->output(0);
  y->set_name("y");
  net.mark_output(y);
  BuilderConfig cfg;
  cfg.device = DeviceType::kGPU;
  cfg.optimization_level = 0;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  void* xa = gpu->allocate(32);
  void* ya = gpu->allocate(32);
  void* xb = gpu->allocate(32);
  void* yb = gpu->allocate(32);
  auto run = [&](void* xd, void* yd, float base, bool replay, const char* what) {
    SCOPED_TRACE(what);
    std::vector<float> xv(8), yv(8);
    for (int i = 0; i < 8; ++i) xv[i] = base + static_cast<float>(i) - 4.f;
    gpu->upload(xd, xv.data(), 32);
    ctx->set_tensor_address("x", xd);
    ctx->set_tensor_address("y", yd);
    ctx->enqueue(nullptr);
    EXPECT_EQ(ctx->last_run_replayed(), replay);
    gpu->synchronize(nullptr);
    gpu->download(yv.data(), yd, 32);
    for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(yv[i], std::max(0.f, xv[i] + 1.f) * 2.f) << i;
  };
  run(xa, ya, 0.f, false, "first run at A: direct");
  run(xa, ya, 1.f, true, "second run at A: captured for A");
  run(xa, ya, 2.f, true, "A with new contents");
  run(xb, yb, 3.f, true, "B: staging graph");
  run(xb, yb, 4.f, true, "B again: captured for B");
  run(xb, yb, 5.f, true, "B replay");
  run(xa, ya, 6.f, true, "back at A: staging graph");
  for (void* p : {xa, ya, xb, yb}) gpu->release(p);
}

}  // namespace
}  // namespace torch2trt
