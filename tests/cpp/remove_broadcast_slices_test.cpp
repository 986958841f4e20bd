// remove_broadcast_slices: a Slice that only broadcasts, read only by ElementWise layers, goes; outputs unchanged.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {

int remove_broadcast_slices(Network& net, const BuilderConfig& config);

namespace {

std::vector<float> run(const Network& net, int level) {
  BuilderConfig cfg;
  cfg.optimization_level = level;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<std::vector<float>> in;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int i = 0; i < net.num_inputs(); ++i) {
    in.emplace_back(net.input(i)->dims().volume());
    for (auto& v : in.back()) v = u(rng);
    ctx->set_tensor_address(net.input(i)->name(), in.back().data());
  }
  std::vector<float> y(e->io_dims("y").volume(), NAN);
  ctx->set_tensor_address("y", y.data());
  ctx->enqueue(nullptr);
  return y;
}

int slices(const Network& n) {
  int c = 0;
  for (int i = 0; i < n.num_layers(); ++i) c += n.layer(i)->kind() == LayerKind::kSlice;
  return c;
}

// x (2, 8, 5, 5) * expand(g (2, 8, 1, 1)), the expansion written as the converters write it.
Tensor* expanded(Network& net, Tensor* g, const Dims& to, SampleMode mode, const Dims& stride) {
  auto* s = add_slice(net, g, Dims{0, 0, 0, 0}, to, stride);
  s->p.mode = mode;
  s->changed([] {});
  return s->output(0);
}

TEST(RemoveBroadcastSlices, ExpandBeforeAProductGoes) {
  for (SampleMode mode : {SampleMode::kWRAP, SampleMode::kSTRICT_BOUNDS}) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 8, 5, 5});
    Tensor* g = net.add_input("g", DataType::kFLOAT, Dims{2, 8, 1, 1});
    const Dims stride = mode == SampleMode::kWRAP ? Dims{1, 1, 1, 1} : Dims{1, 1, 0, 0};
    Tensor* y = add_elementwise(net, x, expanded(net, g, Dims{2, 8, 5, 5}, mode, stride), ElementWiseOperation::kPROD)->output(0);
    y->set_name("y");
    net.mark_output(y);
    auto copy = net.clone();
    EXPECT_EQ(remove_broadcast_slices(*copy, BuilderConfig()), 1);
    copy->validate();
    EXPECT_EQ(slices(*copy), 0);
    const std::vector<float> a = run(net, 0), b = run(net, 3);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]);
  }
}

TEST(RemoveBroadcastSlices, NearMissesStay) {
  {  // both operands expanded: the product would shrink
    Network net;
    Tensor* g = net.add_input("g", DataType::kFLOAT, Dims{2, 8, 1, 1});
    Tensor* e = expanded(net, g, Dims{2, 8, 5, 5}, SampleMode::kWRAP, Dims{1, 1, 1, 1});
    Tensor* y = add_elementwise(net, e, e, ElementWiseOperation::kPROD)->output(0);
    y->set_name("y");
    net.mark_output(y);
    auto copy = net.clone();
    EXPECT_EQ(remove_broadcast_slices(*copy, BuilderConfig()), 0);
  }
  {  // a real slice (start 1) and a tiling (extent 2 repeated) are not broadcasts
    Network net;
    Tensor* g = net.add_input("g", DataType::kFLOAT, Dims{2, 8, 2, 1});
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 8, 4, 5});
    Tensor* t = expanded(net, g, Dims{2, 8, 4, 5}, SampleMode::kWRAP, Dims{1, 1, 1, 1});
    Tensor* y = add_elementwise(net, x, t, ElementWiseOperation::kSUM)->output(0);
    y->set_name("y");
    net.mark_output(y);
    auto copy = net.clone();
    EXPECT_EQ(remove_broadcast_slices(*copy, BuilderConfig()), 0);
    const std::vector<float> a = run(net, 0), b = run(net, 3);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]);
  }
  {  // read by a layer that does not broadcast (an activation), or a network output
    Network net;
    Tensor* g = net.add_input("g", DataType::kFLOAT, Dims{2, 8, 1, 1});
    Tensor* e = expanded(net, g, Dims{2, 8, 5, 5}, SampleMode::kWRAP, Dims{1, 1, 1, 1});
    Tensor* y = add_activation(net, e, ActivationType::kRELU)->output(0);
    y->set_name("y");
    net.mark_output(y);
    auto copy = net.clone();
    EXPECT_EQ(remove_broadcast_slices(*copy, BuilderConfig()), 0);
  }
}

}  // namespace
}  // namespace torch2trt
