"""Plugins from Python: a C++ plugin library compiled here, loaded with trt.load_plugin_library, used
through network.add_plugin, stored in engine bytes; and the errors for missing plugins and bad libraries."""

import os
import shutil
import struct
import subprocess

import numpy as np
import pytest
import torch

import torch2trt.trt as trt

INCLUDE = os.path.join(os.path.dirname(__file__), "..", "..", "include")
CXX = shutil.which("c++") or shutil.which("g++")

# Header-only on purpose: it calls no torch2trt function that lives in the library (see docs/plugins.md).
SCALED_ADD = r"""
#include <cstring>
#include "torch2trt/plugin.h"

using namespace torch2trt;

namespace {

float alpha_of(const PluginFields& f) {
  if (f.size() != sizeof(float))
    throw InvalidArgument("py_scaled_add needs 4 field bytes (a float32 alpha), got " + std::to_string(f.size()));
  float a;
  std::memcpy(&a, f.data(), sizeof a);
  return a;
}

int64_t count(const Dims& d) {
  int64_t n = 1;
  for (int i = 0; i < d.nb_dims; ++i) n *= d.d[i];
  return n;
}

class ScaledAdd : public Kernel {
 public:
  explicit ScaledAdd(float a) : a_(a) {}
  void run(const KernelArgs& k) override {
    const float* x = k.in[0].as<float>();
    const float* y = k.in[1].as<float>();
    float* o = k.out[0].as<float>();
    for (int64_t i = 0, n = count(k.out[0].dims); i < n; ++i) o[i] = x[i] + a_ * y[i];
  }
  const char* impl_name() const override { return "py_scaled_add_cpu"; }

 private:
  float a_;
};

void register_all(PluginRegistry& r) {
  PluginCreator c;
  c.name = "py_scaled_add";
  c.version = "1";
  c.infer = [](const PluginFields& f, const std::vector<TensorDesc>& in) {
    alpha_of(f);
    if (in.size() != 2) throw InvalidArgument("py_scaled_add takes 2 inputs, got " + std::to_string(in.size()));
    bool same = in[0].dims.nb_dims == in[1].dims.nb_dims && in[0].dtype == in[1].dtype;
    for (int i = 0; same && i < in[0].dims.nb_dims; ++i) same = in[0].dims.d[i] == in[1].dims.d[i];
    if (!same) throw InvalidArgument("py_scaled_add inputs must have one shape and dtype");
    if (in[0].dtype != DataType::kFLOAT && in[0].dtype != DataType::kHALF)
      throw InvalidArgument("py_scaled_add needs float32 or float16 inputs");
    return std::vector<TensorDesc>{in[0]};
  };
  c.cpu_kernel = [](const PluginFields& f, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&,
                    std::string*) -> std::unique_ptr<Kernel> { return std::make_unique<ScaledAdd>(alpha_of(f)); };
  r.add(c);
}

}  // namespace

T2T_PLUGIN_LIBRARY(register_all)
"""


def compile_library(tmp_dir, name, source):
    src = os.path.join(tmp_dir, name + ".cpp")
    lib = os.path.join(tmp_dir, "lib" + name + ".so")
    with open(src, "w") as f:
        f.write(source)
    subprocess.run([CXX, "-std=c++17", "-O1", "-shared", "-fPIC", "-I", INCLUDE, src, "-o", lib], check=True,
                   capture_output=True)
    return lib


pytestmark = pytest.mark.skipif(CXX is None, reason="needs a C++ compiler to build the test plugin library")


@pytest.fixture(scope="module")
def plugin_lib(tmp_path_factory):
    lib = compile_library(str(tmp_path_factory.mktemp("plugin")), "py_scaled_add", SCALED_ADD)
    assert trt.load_plugin_library(lib) == 1
    yield lib
    trt.deregister_plugin("py_scaled_add")


def build_engine_bytes(shape, alpha_fields, dtype=trt.float32):
    logger = trt.Logger()
    builder = trt.Builder(logger)
    network = builder.create_network()
    a = network.add_input("a", dtype, shape)
    b = network.add_input("b", dtype, shape)
    layer = network.add_plugin([a, b], "py_scaled_add", alpha_fields)
    assert layer.plugin_name == "py_scaled_add" and layer.plugin_version == "1"
    assert layer.fields == bytes(alpha_fields)
    y = layer.get_output(0)
    y.name = "y"
    network.mark_output(y)
    config = builder.create_builder_config()
    config.default_device_type = trt.DeviceType.CPU
    return builder.build_serialized_network(network, config)


def run_engine(data, a, b):
    engine = trt.Runtime(trt.Logger()).deserialize_cuda_engine(data)
    ctx = engine.create_execution_context()
    y = torch.empty_like(a)
    for name, t in (("a", a), ("b", b), ("y", y)):
        ctx.set_tensor_address(name, t.data_ptr())
    assert ctx.execute_async_v3(0)
    return y


def test_plugin_library_builds_serializes_and_runs(plugin_lib):
    assert ("py_scaled_add", "1") in trt.registered_plugins()
    a, b = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    y = run_engine(build_engine_bytes((2, 3, 4), struct.pack("<f", 0.5)), a, b)
    torch.testing.assert_close(y, a + 0.5 * b)
    # numpy arrays work as fields too (their raw bytes), and float16 reaches the kernel as float32.
    ah, bh = a.half(), b.half()
    yh = run_engine(build_engine_bytes((2, 3, 4), np.array([-2.0], dtype=np.float32), trt.float16), ah, bh)
    torch.testing.assert_close(yh.float(), ah.float() - 2 * bh.float(), atol=1e-2, rtol=1e-2)


def test_loading_twice_registers_nothing_new(plugin_lib):
    assert trt.load_plugin_library(plugin_lib) == 0


def test_plugin_errors_at_add_time(plugin_lib):
    network = trt.Builder(trt.Logger()).create_network()
    a = network.add_input("a", trt.float32, (4,))
    b = network.add_input("b", trt.float32, (5,))
    with pytest.raises(ValueError, match=r"plugin 'nope' \(version 1\) is not registered in this process: "
                                         r"load the library that registers it before building/loading"):
        network.add_plugin([a, a], "nope", b"")
    with pytest.raises(ValueError, match=r"version 3\) is not registered"):
        network.add_plugin([a, a], "py_scaled_add", struct.pack("<f", 1), version="3")
    with pytest.raises(ValueError, match="one shape and dtype"):
        network.add_plugin([a, b], "py_scaled_add", struct.pack("<f", 1))
    with pytest.raises(ValueError, match="needs 4 field bytes"):
        network.add_plugin([a, a], "py_scaled_add", b"\x00")
    with pytest.raises(ValueError, match="got a str"):
        network.add_plugin([a, a], "py_scaled_add", "1.0")
    layer = network.add_plugin([a, a], "py_scaled_add", struct.pack("<f", 1))
    with pytest.raises(ValueError, match="needs 4 field bytes"):
        layer.fields = b""
    assert layer.fields == struct.pack("<f", 1)
    assert network.num_layers == 1


def test_engine_with_missing_plugin_is_refused_at_load(plugin_lib):
    data = build_engine_bytes((3,), struct.pack("<f", 2))
    assert trt.deregister_plugin("py_scaled_add")
    try:
        with pytest.raises(trt.EngineFormatError, match=r"plugin 'py_scaled_add' \(version 1\) is not registered in "
                                                        r"this process: load the library that registers it"):
            trt.Runtime(trt.Logger()).deserialize_cuda_engine(data)
    finally:
        assert trt.load_plugin_library(plugin_lib) == 1
    a, b = torch.randn(3), torch.randn(3)
    torch.testing.assert_close(run_engine(data, a, b), a + 2 * b)


def test_bad_plugin_libraries(tmp_path):
    with pytest.raises(ValueError, match="cannot load"):
        trt.load_plugin_library(str(tmp_path / "missing.so"))
    no_entry = compile_library(str(tmp_path), "no_entry", "extern \"C\" int something_else() { return 0; }\n")
    with pytest.raises(ValueError, match="no torch2trt_register_plugins entry point"):
        trt.load_plugin_library(no_entry)
    other_abi = compile_library(str(tmp_path), "other_abi",
                                "extern \"C\" int torch2trt_register_plugins(void*) { return 99; }\n")
    with pytest.raises(ValueError, match="built against plugin ABI 99; this torch2trt has ABI 1"):
        trt.load_plugin_library(other_abi)
    failing = compile_library(str(tmp_path), "failing", r"""
#include <stdexcept>
#include "torch2trt/plugin.h"
static void reg(torch2trt::PluginRegistry&) { throw std::runtime_error("missing license file"); }
T2T_PLUGIN_LIBRARY(reg)
""")
    with pytest.raises(ValueError, match="failed to register its plugins: missing license file"):
        trt.load_plugin_library(failing)
