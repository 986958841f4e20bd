"""Builder fusions seen from Python: a network written out op by op (GELU, layer norm, softmax, a
pointwise tail) builds into fused layers whose outputs match PyTorch, and the execution context's
per-layer profile (context.profiling, context.layer_profile()) reports kernels, precision and times."""

import math

import pytest
import torch
import torch.nn.functional as F

import torch2trt.trt as trt

E, U, A = trt.ElementWiseOperation, trt.UnaryOperation, trt.ActivationType


def scalar(network, value, rank):
    return network.add_constant((1,) * rank, torch.tensor([value], dtype=torch.float32)).get_output(0)


def binary(network, a, b, op):
    return network.add_elementwise(a, b, op).get_output(0)


def written_out(network, x, gamma, beta):
    """layer_norm(x) -> gelu (erf form) -> softmax over the last dim -> tanh(2 * s + 0.5)."""
    r = len(x.shape)
    mean = network.add_reduce(x, trt.ReduceOperation.AVG, 1 << (r - 1), True).get_output(0)
    d = binary(network, x, mean, E.SUB)
    var = network.add_reduce(binary(network, d, scalar(network, 2.0, r), E.POW), trt.ReduceOperation.AVG,
                             1 << (r - 1), True).get_output(0)
    std = network.add_unary(binary(network, var, scalar(network, 1e-5, r), E.SUM), U.SQRT).get_output(0)
    n = binary(network, d, std, E.DIV)
    n = binary(network, binary(network, n, network.add_constant(gamma.shape, gamma).get_output(0), E.PROD),
               network.add_constant(beta.shape, beta).get_output(0), E.SUM)
    erf = network.add_unary(binary(network, n, scalar(network, math.sqrt(2.0), r), E.DIV), U.ERF).get_output(0)
    g = binary(network, binary(network, n, scalar(network, 0.5, r), E.PROD),
               binary(network, scalar(network, 1.0, r), erf, E.SUM), E.PROD)
    m = network.add_reduce(g, trt.ReduceOperation.MAX, 1 << (r - 1), True).get_output(0)
    e = network.add_unary(binary(network, g, m, E.SUB), U.EXP).get_output(0)
    s = binary(network, e, network.add_reduce(e, trt.ReduceOperation.SUM, 1 << (r - 1), True).get_output(0), E.DIV)
    t = binary(network, binary(network, s, scalar(network, 2.0, r), E.PROD), scalar(network, 0.5, r), E.SUM)
    return network.add_activation(t, A.TANH).get_output(0)


def reference(x, gamma, beta):
    n = F.layer_norm(x, x.shape[-1:], gamma.reshape(-1), beta.reshape(-1), eps=1e-5)
    return torch.tanh(2 * torch.softmax(F.gelu(n), dim=-1) + 0.5)


@pytest.fixture
def engine_and_inputs():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 16)
    gamma, beta = torch.randn(1, 1, 16), torch.randn(1, 1, 16)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network()
    y = written_out(network, network.add_input("x", trt.float32, tuple(x.shape)), gamma, beta)
    y.name = "y"
    network.mark_output(y)
    config = builder.create_builder_config()
    config.default_device_type = trt.DeviceType.CPU
    engine = trt.Runtime(logger).deserialize_cuda_engine(builder.build_serialized_network(network, config))
    return engine, x, gamma, beta


def run(ctx, x):
    y = torch.full(x.shape, float("nan"))
    ctx.set_tensor_address("x", x.data_ptr())
    ctx.set_tensor_address("y", y.data_ptr())
    assert ctx.execute_async_v3(0)
    return y


def test_written_out_ops_fuse_and_match_torch(engine_and_inputs):
    engine, x, gamma, beta = engine_and_inputs
    ctx = engine.create_execution_context()
    torch.testing.assert_close(run(ctx, x), reference(x, gamma, beta), rtol=1e-5, atol=1e-5)
    kinds = [kind for _, kind, _ in ctx.layer_info()]
    # Constants for gamma and beta, then one layer per fused pattern and the pointwise tail.
    assert [k for k in kinds if k != "Constant"] == ["Normalization", "Activation", "SoftMax", "Pointwise"]


def test_layer_profile_reports_kernels_precision_and_times(engine_and_inputs):
    engine, x, _, _ = engine_and_inputs
    ctx = engine.create_execution_context()
    run(ctx, x)
    assert not ctx.profiling
    before = ctx.layer_profile()
    assert all(p["time_ms"] is None for p in before)
    ctx.profiling = True
    run(ctx, x)
    profile = ctx.layer_profile()
    assert [(p["name"], p["kind"], p["kernel"]) for p in profile] == [tuple(i) for i in ctx.layer_info()]
    for p in profile:
        assert isinstance(p["time_ms"], float) and p["time_ms"] >= 0, p
        assert p["precision"] == trt.float32
    (pw,) = [p for p in profile if p["kind"] == "Pointwise"]
    assert pw["kernel"] == "cpu_pointwise"
    assert pw["program"].splitlines() == [
        "r1 = 2.000000", "r2 = PROD(r0, r1)", "r3 = 0.500000", "r4 = SUM(r2, r3)",
        "r5 = TANH(r4, alpha=0.000000, beta=0.000000)", "out = r5"]
    assert "program" not in [p for p in profile if p["kind"] != "Pointwise"][0]
