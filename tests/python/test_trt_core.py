"""torch2trt.trt core: networks built by hand with TensorRT's names, compared with PyTorch;
engine bytes, errors and threads."""

import threading

import numpy as np
import pytest
import torch

import torch2trt.trt as trt


def build(fn, inputs, config_fn=None):
    """Builds a network with fn(network, *input_tensors) -> outputs; returns an engine."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network()
    tensors = [network.add_input(f"x{i}", trt.float32 if x.dtype == torch.float32 else _dt(x), tuple(x.shape))
               for i, x in enumerate(inputs)]
    outs = fn(network, *tensors)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    for i, o in enumerate(outs):
        o.name = f"y{i}"
        network.mark_output(o)
    config = builder.create_builder_config()
    config.default_device_type = trt.DeviceType.CPU
    if config_fn:
        config_fn(config)
    data = builder.build_serialized_network(network, config)
    return trt.Runtime(logger).deserialize_cuda_engine(data)


def _dt(x):
    return {torch.float16: trt.float16, torch.int32: trt.int32, torch.int64: trt.int64, torch.bool: trt.bool}[x.dtype]


def run(engine, inputs, context=None):
    ctx = context or engine.create_execution_context()
    outs = []
    for i, x in enumerate(inputs):
        ctx.set_tensor_address(f"x{i}", x.contiguous().data_ptr())
    for i in range(engine.num_io_tensors - len(inputs)):
        name = f"y{i}"
        shape = ctx.get_tensor_shape(name)
        dtype = {trt.float32: torch.float32, trt.bool: torch.bool, trt.float16: torch.float16}[engine.get_tensor_dtype(name)]
        y = torch.empty(tuple(shape), dtype=dtype)
        ctx.set_tensor_address(name, y.data_ptr())
        outs.append(y)
    assert ctx.execute_async_v3(0)
    return outs


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


@pytest.mark.parametrize("name,torch_fn,setup", [
    ("RELU", torch.relu, None),
    ("SIGMOID", torch.sigmoid, None),
    ("TANH", torch.tanh, None),
    ("LEAKY_RELU", lambda x: torch.nn.functional.leaky_relu(x, 0.3), lambda l: setattr(l, "alpha", 0.3)),
    ("ELU", torch.nn.functional.elu, None),
    ("SELU", torch.nn.functional.selu, None),
    ("SOFTSIGN", torch.nn.functional.softsign, None),
    ("SOFTPLUS", lambda x: torch.nn.functional.softplus(x, beta=2, threshold=3),
     lambda l: (setattr(l, "alpha", 2.0), setattr(l, "beta", 3.0))),
    ("CLIP", lambda x: torch.clamp(x, -0.5, 0.7), lambda l: (setattr(l, "alpha", -0.5), setattr(l, "beta", 0.7))),
    ("HARD_SIGMOID", torch.nn.functional.hardsigmoid, lambda l: (setattr(l, "alpha", 1 / 6), setattr(l, "beta", 0.5))),
    ("GELU_ERF", torch.nn.functional.gelu, None),
    ("GELU_TANH", lambda x: torch.nn.functional.gelu(x, approximate="tanh"), None),
])
def test_activation_matches_torch(name, torch_fn, setup):
    x = torch.randn(2, 3, 5, 7) * 3

    def net(n, t):
        layer = n.add_activation(input=t, type=getattr(trt.ActivationType, name))
        if setup:
            setup(layer)
        return layer.get_output(0)

    (y,) = run(build(net, [x]), [x])
    assert rel_l2(y, torch_fn(x)) <= 1e-5


@pytest.mark.parametrize("op,fn", [
    ("SUM", torch.add), ("SUB", torch.sub), ("PROD", torch.mul), ("DIV", torch.div),
    ("MAX", torch.maximum), ("MIN", torch.minimum), ("FLOOR_DIV", torch.floor_divide),
])
def test_elementwise_broadcast_matches_torch(op, fn):
    a, b = torch.randn(4, 1, 6), torch.randn(5, 1) + 3
    (y,) = run(build(lambda n, p, q: n.add_elementwise(p, q, getattr(trt.ElementWiseOperation, op)).get_output(0),
                     [a, b]), [a, b])
    assert y.shape == fn(a, b).shape
    assert rel_l2(y, fn(a, b)) <= 1e-5


def test_comparison_gives_bool():
    a, b = torch.randn(3, 4), torch.randn(3, 4)
    (y,) = run(build(lambda n, p, q: n.add_elementwise(p, q, trt.ElementWiseOperation.GREATER).get_output(0),
                     [a, b]), [a, b])
    assert y.dtype == torch.bool and torch.equal(y, a > b)


def test_layer_attributes_and_validation():
    logger = trt.Logger()
    network = trt.Builder(logger).create_network()
    x = network.add_input("x", trt.float32, (2, 3))
    layer = network.add_activation(x, trt.ActivationType.RELU)
    assert layer.type == trt.ActivationType.RELU and layer.num_outputs == 1
    softplus = network.add_activation(x, trt.ActivationType.SOFTPLUS)
    assert softplus.alpha == 1.0 and softplus.beta == 20.0  # TensorRT's defaults
    with pytest.raises(ValueError, match="alpha"):
        softplus.alpha = 0.0  # a zero beta divides by zero: refused, old value kept
    assert softplus.alpha == 1.0
    i = network.add_input("i", trt.int32, (2, 3))
    with pytest.raises(trt.InvalidArgumentError, match="int32"):
        network.add_activation(i, trt.ActivationType.RELU)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        network.add_elementwise(x, network.add_input("z", trt.float32, (4,)), trt.ElementWiseOperation.SUM)


def test_engine_bytes_round_trip_and_errors():
    x = torch.randn(3, 8)
    engine = build(lambda n, t: n.add_activation(t, trt.ActivationType.TANH).get_output(0), [x])
    data = engine.serialize()
    again = trt.Runtime(trt.Logger()).deserialize_cuda_engine(bytearray(data))
    assert again.serialize() == data
    assert again.get_tensor_shape("y0") == (3, 8) and again.get_tensor_mode("x0") == trt.TensorIOMode.INPUT
    assert torch.equal(run(again, [x])[0], run(engine, [x])[0])
    runtime = trt.Runtime(trt.Logger())
    with pytest.raises(trt.EngineFormatError, match="truncated"):
        runtime.deserialize_cuda_engine(data[:-10])
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0xFF
    with pytest.raises(trt.EngineFormatError, match="checksum"):
        runtime.deserialize_cuda_engine(bytes(flipped))
    with pytest.raises(trt.EngineFormatError, match="str"):
        runtime.deserialize_cuda_engine("model.engine")


def test_two_threads_two_contexts():
    x1, x2 = torch.randn(64, 64), torch.randn(64, 64)
    engine = build(lambda n, t: n.add_activation(t, trt.ActivationType.GELU_ERF).get_output(0), [x1])
    want = [torch.nn.functional.gelu(x1), torch.nn.functional.gelu(x2)]
    errors = []

    def work(x, w):
        ctx = engine.create_execution_context()
        for _ in range(200):
            (y,) = run(engine, [x], ctx)
            if rel_l2(y, w) > 1e-5:
                errors.append(rel_l2(y, w))

    threads = [threading.Thread(target=work, args=(x1, want[0])), threading.Thread(target=work, args=(x2, want[1]))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors


def test_weights_accepts_numpy_and_torch():
    w = trt.Weights(np.arange(6, dtype=np.float64))
    assert w.dtype == trt.float32 and w.size == 6
    t = torch.nn.Parameter(torch.ones(4, dtype=torch.float16))
    assert trt.Weights(t).dtype == trt.float16
    assert trt.Weights(torch.ones(3, dtype=torch.bfloat16)).dtype == trt.bfloat16
    with pytest.raises(ValueError, match="complex"):
        trt.Weights(np.ones(2, dtype=np.complex64))


def test_int8_build_is_refused_clearly():
    x = torch.randn(2, 2)
    with pytest.raises(NotImplementedError, match="int8"):
        build(lambda n, t: n.add_activation(t, trt.ActivationType.RELU).get_output(0), [x],
              lambda c: c.set_flag(trt.BuilderFlag.INT8))
