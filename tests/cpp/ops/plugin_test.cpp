#include <gtest/gtest.h>

#include <cstring>

#include "harness.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/plugin.h"
#include "torch2trt/runtime.h"

namespace t2t_test {
namespace {

// "scaled_add": y = a + alpha * b, with alpha a float32 stored in the fields.
float alpha_of(const PluginFields& f) {
  if (f.size() != sizeof(float))
    throw InvalidArgument("scaled_add needs 4 field bytes (a float32 alpha), got " + std::to_string(f.size()));
  float a;
  std::memcpy(&a, f.data(), sizeof a);
  return a;
}

PluginFields fields_of(float alpha) {
  PluginFields f(sizeof alpha);
  std::memcpy(f.data(), &alpha, sizeof alpha);
  return f;
}

class ScaledAddKernel : public Kernel {
 public:
  explicit ScaledAddKernel(float alpha) : alpha_(alpha) {}
  void run(const KernelArgs& a) override {
    const float* x = a.in[0].as<float>();
    const float* y = a.in[1].as<float>();
    float* o = a.out[0].as<float>();
    for (int64_t i = 0, n = a.out[0].numel(); i < n; ++i) o[i] = x[i] + alpha_ * y[i];
  }

 private:
  float alpha_;
};

PluginCreator scaled_add_creator() {
  PluginCreator c;
  c.name = "scaled_add";
  c.version = "1";
  c.infer = [](const PluginFields& f, const std::vector<TensorDesc>& in) {
    alpha_of(f);
    if (in.size() != 2) throw InvalidArgument("scaled_add takes 2 inputs, got " + std::to_string(in.size()));
    if (in[0].dims != in[1].dims)
      throw InvalidArgument("scaled_add inputs differ in shape: " + in[0].dims.str() + " vs " + in[1].dims.str());
    if (!is_floating(in[0].dtype) || in[1].dtype != in[0].dtype)
      throw InvalidArgument("scaled_add needs two float tensors of one dtype");
    return std::vector<TensorDesc>{in[0]};
  };
  c.cpu_kernel = [](const PluginFields& f, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                    std::string*) -> std::unique_ptr<Kernel> { return std::make_unique<ScaledAddKernel>(alpha_of(f)); };
  return c;
}

class Plugin : public ::testing::Test {
 protected:
  void SetUp() override { register_plugin(scaled_add_creator()); }
};

TEST_F(Plugin, ScaledAddBuildsSerializesAndRuns) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    for (float alpha : {0.5f, -2.f}) {
      OpCase c;
      c.variant = "scaled_add_" + std::to_string(alpha);
      c.inputs = {{dt, Dims{2, 3, 5}}, {dt, Dims{2, 3, 5}}};
      c.build = [alpha](Network& n, const std::vector<Tensor*>& in) {
        auto* l = add_plugin(n, in, "scaled_add", fields_of(alpha));
        return std::vector<Tensor*>{l->output(0)};
      };
      c.reference = [alpha](const std::vector<HostTensor>& in) {
        HostTensor y = in[0];
        for (size_t i = 0; i < y.v.size(); ++i) y.v[i] = in[0].v[i] + static_cast<double>(alpha) * in[1].v[i];
        return std::vector<HostTensor>{y};
      };
      check_op(LayerKind::kPlugin, c);
    }
  }
}

TEST_F(Plugin, RegistryRules) {
  EXPECT_FALSE(register_plugin(scaled_add_creator()));  // already there: the first one stays
  auto found = find_plugin("scaled_add");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->version, "1");
  EXPECT_FALSE(find_plugin("scaled_add", "2"));
  auto names = registered_plugins();
  EXPECT_NE(std::find(names.begin(), names.end(), std::make_pair(std::string("scaled_add"), std::string("1"))),
            names.end());
  PluginCreator bad;
  EXPECT_THROW(register_plugin(bad), InvalidArgument);  // no name
  bad.name = "incomplete";
  EXPECT_THROW(register_plugin(bad), InvalidArgument);  // no shape rule
  bad.infer = scaled_add_creator().infer;
  EXPECT_THROW(register_plugin(bad), InvalidArgument);  // no kernel factory
  EXPECT_FALSE(deregister_plugin("never_registered"));
}

TEST_F(Plugin, UnregisteredPluginIsRefusedAtAddTime) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{4});
  for (auto [name, version] : {std::make_pair("no_such_plugin", "1"), std::make_pair("scaled_add", "2")}) {
    try {
      add_plugin(n, {x, x}, name, fields_of(1.f), version);
      ADD_FAILURE() << "expected InvalidArgument";
    } catch (const InvalidArgument& e) {
      std::string want = std::string("plugin '") + name + "' (version " + version +
                         ") is not registered in this process: load the library that registers it before building/loading";
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(n.num_layers(), 0);
}

TEST_F(Plugin, ShapeRuleErrorsNameThePlugin) {
  Network n;
  auto* a = n.add_input("a", DataType::kFLOAT, Dims{2, 3});
  auto* b = n.add_input("b", DataType::kFLOAT, Dims{3, 2});
  auto* i = n.add_input("i", DataType::kINT32, Dims{2, 3});
  auto msg = [&](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "no error";
  };
  std::string m = msg([&] { add_plugin(n, {a, b}, "scaled_add", fields_of(1.f)); });
  EXPECT_NE(m.find("plugin 'scaled_add' (version 1): scaled_add inputs differ in shape: (2, 3) vs (3, 2)"),
            std::string::npos) << m;
  EXPECT_NE(msg([&] { add_plugin(n, {a, a}, "scaled_add", PluginFields{1, 2}); }).find("needs 4 field bytes"),
            std::string::npos);
  EXPECT_NE(msg([&] { add_plugin(n, {a, i}, "scaled_add", fields_of(1.f)); }).find("two float tensors"),
            std::string::npos);
  // A rule must compute every output extent once its inputs are concrete.
  PluginCreator vague = scaled_add_creator();
  vague.name = "vague";
  vague.infer = [](const PluginFields&, const std::vector<TensorDesc>& in) {
    TensorDesc d = in[0];
    d.dims.d[0] = -1;
    return std::vector<TensorDesc>{d};
  };
  register_plugin(vague);
  EXPECT_NE(msg([&] { add_plugin(n, {a}, "vague", {}); }).find("it must compute every extent"), std::string::npos);
  deregister_plugin("vague");
  // Changing the fields re-runs the rule and restores the old bytes when the new ones are refused.
  auto* l = add_plugin(n, {a, a}, "scaled_add", fields_of(3.f));
  PluginFields old = l->p.fields;
  l->p.fields = {9};
  EXPECT_NE(msg([&] { l->changed([&] { l->p.fields = old; }); }).find("needs 4 field bytes"), std::string::npos);
  EXPECT_EQ(l->p.fields, old);
}

TEST_F(Plugin, DynamicShapesReachTheRuleAndTheKernel) {
  Network n;
  auto* a = n.add_input("a", DataType::kFLOAT, Dims{-1, 3});
  auto* b = n.add_input("b", DataType::kFLOAT, Dims{-1, 3});
  auto* l = add_plugin(n, {a, b}, "scaled_add", fields_of(2.f));
  EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 3}));
  l->output(0)->set_name("y");
  n.mark_output(l->output(0));
  BuilderConfig cfg;
  cfg.device = DeviceType::kCPU;
  auto bytes = Builder().build_serialized(n, cfg);
  auto engine = Runtime().deserialize(bytes.data(), bytes.size());
  auto ctx = engine->create_execution_context();
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, y = {1, 1, 1, 2, 2, 2}, out(6, -1);
  ctx->set_input_shape("a", Dims{2, 3});
  ctx->set_input_shape("b", Dims{2, 3});
  ctx->set_tensor_address("a", x.data());
  ctx->set_tensor_address("b", y.data());
  ctx->set_tensor_address("y", out.data());
  ctx->enqueue(nullptr);
  EXPECT_EQ(out, (std::vector<float>{3, 4, 5, 8, 9, 10}));
}

TEST_F(Plugin, EngineWithUnregisteredPluginIsRefusedAtLoad) {
  PluginCreator temp = scaled_add_creator();
  temp.name = "temporary_plugin";
  temp.version = "7";
  ASSERT_TRUE(register_plugin(temp));
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{4});
  auto* l = add_plugin(n, {x, x}, "temporary_plugin", fields_of(1.f), "7");
  n.mark_output(l->output(0));
  BuilderConfig cfg;
  cfg.device = DeviceType::kCPU;
  auto bytes = Builder().build_serialized(n, cfg);
  ASSERT_TRUE(deregister_plugin("temporary_plugin", "7"));
  try {
    Runtime().deserialize(bytes.data(), bytes.size());
    ADD_FAILURE() << "expected EngineFormatError";
  } catch (const EngineFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("plugin 'temporary_plugin' (version 7) is not registered in this process: "
                                         "load the library that registers it before building/loading"),
              std::string::npos)
        << e.what();
  }
  // Registered again, the same bytes load and run.
  ASSERT_TRUE(register_plugin(temp));
  EXPECT_NO_THROW(Runtime().deserialize(bytes.data(), bytes.size())->create_execution_context());
  deregister_plugin("temporary_plugin", "7");
}

TEST_F(Plugin, KernelProblemsBecomeClearErrors) {
  PluginCreator picky = scaled_add_creator();
  picky.name = "picky";
  picky.cpu_kernel = [](const PluginFields&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                        std::string* why) -> std::unique_ptr<Kernel> {
    *why = "only runs on Tuesdays";
    return nullptr;
  };
  register_plugin(picky);
  PluginCreator gpu_only = scaled_add_creator();
  gpu_only.name = "gpu_only";
  gpu_only.cuda_kernel = gpu_only.cpu_kernel;
  gpu_only.cpu_kernel = nullptr;
  register_plugin(gpu_only);
  struct Throws : Kernel {
    void run(const KernelArgs&) override { throw std::runtime_error("out of coffee"); }
  };
  PluginCreator thrower = scaled_add_creator();
  thrower.name = "thrower";
  thrower.cpu_kernel = [](const PluginFields&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                          std::string*) -> std::unique_ptr<Kernel> { return std::make_unique<Throws>(); };
  register_plugin(thrower);

  auto build = [](const std::string& name) {
    Network n;
    auto* x = n.add_input("x", DataType::kFLOAT, Dims{4});
    auto* l = add_plugin(n, {x, x}, name, fields_of(1.f));
    l->output(0)->set_name("y");
    n.mark_output(l->output(0));
    BuilderConfig cfg;
    cfg.device = DeviceType::kCPU;
    return Builder().build(n, cfg);
  };
  auto expect_unsupported = [&](const std::string& name, const std::string& needle) {
    try {
      build(name);
      ADD_FAILURE() << name << ": expected Unsupported";
    } catch (const Unsupported& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_unsupported("picky", "plugin 'picky' (version 1) declined on CPU: only runs on Tuesdays");
  expect_unsupported("gpu_only", "plugin 'gpu_only' (version 1) has no CPU kernel");

  auto engine = build("thrower");
  auto ctx = engine->create_execution_context();
  std::vector<float> x(4, 1.f), y(4);
  ctx->set_tensor_address("x", x.data());
  ctx->set_tensor_address("y", y.data());
  try {
    ctx->enqueue(nullptr);
    ADD_FAILURE() << "expected RuntimeFailure";
  } catch (const RuntimeFailure& e) {
    EXPECT_NE(std::string(e.what()).find("plugin 'thrower' (version 1) failed in run: out of coffee"), std::string::npos)
        << e.what();
  }
  for (const char* name : {"picky", "gpu_only", "thrower"}) deregister_plugin(name);
}

TEST(PluginLibrary, LoadErrorsSayWhatIsWrong) {
  try {
    load_plugin_library("/nonexistent/libnothing.so");
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("cannot load '/nonexistent/libnothing.so'"), std::string::npos) << e.what();
  }
  try {
    load_plugin_library("libm.so.6");  // a real library without the entry point
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("no torch2trt_register_plugins entry point"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace t2t_test
