"""TRTModule: construction, input checks, output nesting, saving and loading (also across processes)."""

import collections
import copy
import os
import pickle
import re
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch2trt import TRTModule, trt
from torch2trt import torch2trt as convert

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

Outputs = collections.namedtuple("Outputs", "act both")


class TwoInputs(torch.nn.Module):
    def forward(self, x, y):
        a = F.relu(x)
        return {"sum": a + y, "pair": Outputs(a, (a * y, x - y))}


@pytest.fixture(scope="module")
def converted():
    x, y = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    return convert(TwoInputs(), [x, y]), x, y


def assert_same(out, ref):
    assert type(out) is type(ref)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_nesting_restored(converted):
    m, x, y = converted
    out = m(x, y)
    assert isinstance(out["pair"], Outputs) and isinstance(out["pair"].both, tuple)
    torch.testing.assert_close(out, TwoInputs()(x, y))


def test_input_checks(converted):
    m, x, y = converted
    with pytest.raises(TypeError, match=r"expects 2 inputs \(input_0, input_1\), got 1"):
        m(x)
    with pytest.raises(TypeError, match=r"input 1 \('input_1'\): expected dtype torch.float32, got torch.float16"):
        m(x, y.half())
    with pytest.raises(ValueError, match=r"input 0 \('input_0'\): expected shape \[2, 3, 4\], got \[1, 3, 4\]"):
        m(x[:1], y)
    with pytest.raises(TypeError, match=r"input 0 \('input_0'\): expected a torch.Tensor, got list"):
        m([1, 2], y)
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="expected a tensor on cpu, got one on cuda:0"):
            m(x.cuda(), y)
    with pytest.raises(ValueError, match=r"expected a tensor on cpu, got one on meta"):
        m(x.to("meta"), y)


def test_non_contiguous_inputs(converted):
    m, x, y = converted
    xt = x.transpose(0, 2).contiguous().transpose(0, 2)
    assert not xt.is_contiguous()
    torch.testing.assert_close(m(xt, y), TwoInputs()(x, y))


def test_results_are_fresh_tensors(converted):
    m, x, y = converted
    a, b = m(x, y), m(x, y)
    assert a["sum"].data_ptr() != b["sum"].data_ptr()


def test_construct_from_engine_bytes_and_path(converted, tmp_path):
    m, x, y = converted
    data = m.engine.serialize()
    path = tmp_path / "model.engine"
    path.write_bytes(data)
    for source in (m.engine, data, bytearray(data), str(path), path):
        other = TRTModule(source)
        assert other.input_names == ["input_0", "input_1"]
        assert other.output_names == m.output_names
        # Without the spec the outputs come back flat, as upstream does.
        flat = other(x, y)
        assert isinstance(flat, tuple) and len(flat) == 4
        torch.testing.assert_close(flat[0], m(x, y)["sum"])
    named = TRTModule(data, input_names=["input_0", "input_1"], output_names=m.output_names)
    assert len(named(x, y)) == 4
    with pytest.raises(ValueError, match="input_names \\['a'\\] do not match the engine's inputs"):
        TRTModule(data, input_names=["a"])
    with pytest.raises(TypeError, match="expected an ICudaEngine, engine bytes or a file path, got int"):
        TRTModule(3)
    with pytest.raises(RuntimeError, match="has no engine"):
        TRTModule()(x)


def test_engine_layers(converted):
    m, x, y = converted
    layers = m.engine_layers()
    assert all(isinstance(l.name, str) and isinstance(l.kind, str) and isinstance(l.kernel, str) for l in layers)
    assert layers and len({l.name for l in layers}) == len(layers)
    assert all(l.time_ms is None and l.precision == "FLOAT" for l in layers)
    # The optimized engine may fuse the network's four pointwise layers; it never adds kinds of its own here.
    assert {l.kind for l in layers} <= {"Activation", "ElementWise", "Pointwise"}
    timed = m.engine_layers(x, y, runs=2)
    assert [l.name for l in timed] == [l.name for l in layers]
    assert all(l.time_ms is not None and l.time_ms >= 0 for l in timed)
    assert not m.context.profiling  # switched back off


def test_engine_layers_name_the_kernels_a_run_uses():
    """Before any run, engine_layers() plans the context, so its kernels are those of the runs (a
    convolution's oneDNN or cuDNN kernel, not the default a kernel has before it knows its shapes)."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 1)).eval().to(device)
    x = torch.randn(1, 3, 16, 16, device=device)
    before = [(l.name, l.kernel) for l in convert(model, [x]).engine_layers()]
    m = convert(model, [x])
    m(x)
    assert before == [(l.name, l.kernel) for l in m.engine_layers()]
    assert [(l.name, l.kernel) for l in m.engine_layers(x, runs=1)] == before


def test_layer_info_with_run_time_shapes_not_set():
    builder = trt.Builder(trt.Logger())
    net = builder.create_network()
    x = net.add_input("x", trt.float32, (2, -1))
    y = net.add_activation(x, trt.ActivationType.RELU).get_output(0)
    y.name = "y"
    net.mark_output(y)
    engine = trt.Runtime(trt.Logger()).deserialize_cuda_engine(
        builder.build_serialized_network(net, builder.create_builder_config()))
    ctx = engine.create_execution_context()
    [(_, _, kernel)] = ctx.layer_info()
    assert kernel.startswith("(not planned: ") and "set_input_shape" in kernel, kernel
    ctx.set_input_shape("x", (2, 3))
    assert not any("not planned" in kernel for _, _, kernel in ctx.layer_info())


def test_state_dict_round_trip(converted, tmp_path):
    m, x, y = converted
    path = tmp_path / "m.pth"
    torch.save(m.state_dict(), path)
    state = torch.load(path)  # weights_only=True by default: the state holds only plain types
    assert set(state) == {"engine", "input_names", "output_names", "output_spec", "torch2trt_version", "engine_format_version"}
    assert state["torch2trt_version"] == trt.__version__
    m2 = TRTModule()
    m2.load_state_dict(state)
    assert_same(m2(x, y)["sum"], m(x, y)["sum"])
    assert isinstance(m2(x, y)["pair"], Outputs)


def test_nested_in_another_module(converted, tmp_path):
    m, x, y = converted

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.scale = torch.nn.Parameter(torch.tensor(2.0))

        def forward(self, x, y):
            return self.inner(x, y)["sum"] * self.scale

    w = Wrapper(m)
    path = tmp_path / "w.pth"
    torch.save(w.state_dict(), path)
    state = torch.load(path)
    assert "inner.engine" in state and "scale" in state
    w2 = Wrapper(TRTModule())
    w2.load_state_dict(state)
    assert_same(w2(x, y), w(x, y))


def test_load_reports_missing_and_unexpected_keys(converted):
    m, _, _ = converted
    state = m.state_dict()
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "engine"'):
        TRTModule().load_state_dict({k: v for k, v in state.items() if k != "engine"})
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "extra"'):
        TRTModule().load_state_dict({**state, "extra": 1})


def test_foreign_engine_gives_the_readers_error(converted):
    m, _, _ = converted
    state = m.state_dict()
    data = bytearray(state["engine"].numpy().tobytes())
    data[8] ^= 0xFF  # the format version field
    state["engine"] = torch.frombuffer(data, dtype=torch.uint8)
    state["torch2trt_version"] = "9.9.9"
    with pytest.raises(trt.EngineFormatError) as info:
        TRTModule().load_state_dict(state)
    msg = str(info.value)
    assert msg.startswith(f"engine (saved by torch2trt 9.9.9, loading with {trt.__version__}): ")
    assert "\n" not in msg and "format" in msg
    state["engine"] = torch.zeros(5, dtype=torch.uint8)
    with pytest.raises(trt.EngineFormatError, match="not a torch2trt engine file"):
        TRTModule().load_state_dict(state)


def test_pickle_and_deepcopy(converted):
    m, x, y = converted
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert_same(other(x, y)["sum"], m(x, y)["sum"])
        assert isinstance(other(x, y)["pair"], Outputs)


def run_python(code, cwd, extra_env=None, output="stdout"):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python") + os.pathsep + os.path.dirname(__file__))
    env.update(extra_env or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return getattr(proc, output)


def test_save_and_load_across_processes(tmp_path):
    run_python(
        """
        import torch
        from torch2trt import torch2trt
        from test_module import TwoInputs
        torch.manual_seed(0)
        x, y = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
        m = torch2trt(TwoInputs(), [x, y])
        torch.save(m.state_dict(), "m.pth")
        torch.save({"x": x, "y": y, "out": m(x, y)["sum"]}, "io.pth")
        """,
        tmp_path,
    )
    out = run_python(
        """
        import torch
        from torch2trt import TRTModule
        io = torch.load("io.pth")
        m = TRTModule()
        m.load_state_dict(torch.load("m.pth"))
        out = m(io["x"], io["y"])
        assert type(out["pair"]).__name__ == "Outputs"
        assert torch.equal(out["sum"], io["out"])
        print("ok")
        """,
        tmp_path,
    )
    assert out.strip() == "ok"


@pytest.mark.gpu
def test_tactic_log_lists_every_timed_tactic(tmp_path):
    """T2T_LOG_TACTICS=1: the builder prints each timed layer's key, every tactic's kernel and time, its choice."""
    err = run_python(
        """
        import torch
        from torch2trt import torch2trt
        m = torch.nn.Sequential(torch.nn.Conv2d(16, 32, 1), torch.nn.SiLU()).cuda().eval()
        torch2trt(m, [torch.randn(1, 16, 28, 28, device="cuda")], fp16_mode=True)
        """,
        tmp_path,
        {"T2T_LOG_TACTICS": "1"},
        output="stderr",
    )
    lines = [line for line in err.splitlines() if line.startswith("[torch2trt tactics]")]
    assert any("Convolution" in line and "conv float16 nhwc" in line for line in lines), err
    timed = [line for line in lines if re.search(r"^\[torch2trt tactics\]   -?\d+ \S+: -?[\d.]+ ms$", line)]
    assert len(timed) >= 2, err
    assert any("gemm_mma" in line for line in timed), "the pointwise convolution offers the own GEMM"
    assert any(re.search(r"chose -?\d+$", line) for line in lines), err


@pytest.mark.gpu
def test_cuda_engine_runs_on_its_device():
    x = torch.randn(2, 8, device="cuda")
    m = convert(torch.nn.ReLU(), [x])
    assert m.engine.device_type == trt.DeviceType.GPU
    torch.testing.assert_close(m(x), x.relu())
    with pytest.raises(ValueError, match="expected a tensor on cuda:0, got one on cpu"):
        m(x.cpu())
