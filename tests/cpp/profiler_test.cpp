// Per-layer profiler: ExecutionContext::set_profiling times each layer on every backend built, and
// layer_info() reports the kernels, the dtype each layer writes and those times.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/backend.h"
#include "harness.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {
namespace {

using t2t_test::available_backends;

// x -> softmax -> (* 2 -> tanh), the last two fused into one Pointwise layer.
std::unique_ptr<Network> small_network() {
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("x", DataType::kFLOAT, Dims{4, 64});
  auto* sm = add_softmax(*net, x);
  sm->p.axes = 2;
  sm->changed([] {});
  Tensor* two = add_constant(*net, Dims{1, 1}, Weights::f32({2.f}))->output(0);
  Tensor* m = add_elementwise(*net, sm->output(0), two, ElementWiseOperation::kPROD)->output(0);
  Tensor* y = add_activation(*net, m, ActivationType::kTANH)->output(0);
  y->set_name("y");
  net->mark_output(y);
  return net;
}

TEST(Profiler, TimesEveryLayerOnlyWhenOn) {
  auto net = small_network();
  for (Backend* be : available_backends()) {
    SCOPED_TRACE(be->name());
    for (bool fp16 : {false, true}) {
      BuilderConfig cfg;
      cfg.device = be->device() == DeviceKind::kCUDA ? DeviceType::kGPU : DeviceType::kCPU;
      if (fp16) cfg.set_flag(BuilderFlag::kFP16);
      auto e = Builder().build(*net, cfg);
      auto ctx = e->create_execution_context();
      void* x = be->allocate(4 * 64 * 4);
      void* y = be->allocate(4 * 64 * 4);
      std::vector<float> xv(4 * 64, 0.25f);
      be->upload(x, xv.data(), xv.size() * 4);
      ctx->set_tensor_address("x", x);
      ctx->set_tensor_address("y", y);

      ctx->enqueue(nullptr);
      be->synchronize(nullptr);
      for (auto& info : ctx->layer_info()) EXPECT_EQ(info.time_ms, -1) << info.name;

      ctx->set_profiling(true);
      EXPECT_TRUE(ctx->profiling());
      ctx->enqueue(nullptr);
      ctx->enqueue(nullptr);  // a repeated run must not replay a CUDA graph while profiling
      EXPECT_FALSE(ctx->last_run_replayed());
      be->synchronize(nullptr);
      auto infos = ctx->layer_info();
      const Network& opt = e->network();
      ASSERT_EQ(infos.size(), static_cast<size_t>(opt.num_layers()));
      bool saw_pointwise = false, saw_half = false;
      for (size_t i = 0; i < infos.size(); ++i) {
        EXPECT_GE(infos[i].time_ms, 0.0) << infos[i].name;
        EXPECT_EQ(infos[i].precision, opt.layer(static_cast<int>(i))->output(0)->dtype());
        EXPECT_FALSE(infos[i].impl.empty());
        saw_pointwise = saw_pointwise || infos[i].kind == "Pointwise";
        saw_half = saw_half || infos[i].precision == DataType::kHALF;
      }
      EXPECT_TRUE(saw_pointwise);
      EXPECT_EQ(saw_half, fp16);

      ctx->set_profiling(false);
      ctx->enqueue(nullptr);
      be->synchronize(nullptr);
      std::vector<float> out(4 * 64);
      be->download(out.data(), y, out.size() * 4);
      EXPECT_NEAR(out[0], std::tanh(2.0 / 64), fp16 ? 1e-3 : 1e-6);
      be->release(x);
      be->release(y);
    }
  }
}

}  // namespace
}  // namespace torch2trt
