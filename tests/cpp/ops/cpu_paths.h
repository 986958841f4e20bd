// Test helpers for the layer families with two CPU implementations (oneDNN and plain C++ loops):
// run a case on each, find which implementation a layer got, check error messages.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "harness.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace t2t_test {

/// The CPU implementations to test: oneDNN (when built in) and the plain loops (forced with T2T_CPU_NO_ONEDNN).
inline std::vector<bool> cpu_paths() {
#ifdef T2T_WITH_ONEDNN
  return {false, true};
#else
  return {true};
#endif
}

/// Forces the plain C++ kernels while alive (when `on`), restoring the environment afterwards.
class ForceReference {
 public:
  explicit ForceReference(bool on) : on_(on) {
    if (on_) setenv("T2T_CPU_NO_ONEDNN", "1", 1);
  }
  ~ForceReference() {
    if (on_) unsetenv("T2T_CPU_NO_ONEDNN");
  }
  ForceReference(const ForceReference&) = delete;
  ForceReference& operator=(const ForceReference&) = delete;

 private:
  bool on_;
};

/// Runs check_op once per CPU path, naming the path in the variant.
inline void check_op_all_paths(LayerKind kind, OpCase c) {
  std::string base = c.variant;
  for (bool ref : cpu_paths()) {
    ForceReference f(ref);
    c.variant = base + (ref ? " [loops]" : " [onednn]");
    check_op(kind, c);
  }
}

/// Builds `net` for the CPU, runs it once on zeros and returns the implementation name of layer `index`.
inline std::string cpu_impl_of(Network& net, int index) {
  auto bytes = Builder().build_serialized(net, BuilderConfig());
  auto engine = Engine::deserialize(bytes.data(), bytes.size());
  auto ctx = engine->create_execution_context();
  std::vector<std::vector<float>> bufs;
  for (int i = 0; i < net.num_inputs(); ++i) {
    bufs.emplace_back(static_cast<size_t>(net.input(i)->dims().volume()), 0.f);
    ctx->set_tensor_address(net.input(i)->name(), bufs.back().data());
  }
  for (int i = 0; i < net.num_outputs(); ++i) {
    bufs.emplace_back(static_cast<size_t>(net.output(i)->dims().volume()), 0.f);
    ctx->set_tensor_address(net.output(i)->name(), bufs.back().data());
  }
  ctx->enqueue(nullptr);
  return ctx->layer_info().at(index).impl;
}

/// Expects `f` to throw InvalidArgument whose message contains every needle.
template <class F>
void expect_invalid(F&& f, std::initializer_list<const char*> needles) {
  try {
    f();
    ADD_FAILURE() << "no error raised (expected one mentioning " << *needles.begin() << ")";
  } catch (const InvalidArgument& e) {
    std::string m = e.what();
    for (const char* n : needles) EXPECT_NE(m.find(n), std::string::npos) << "missing '" << n << "' in: " << m;
  }
}

}  // namespace t2t_test
