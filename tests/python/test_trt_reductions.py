"""Unary, scale, softmax, reduce, cumulative-sum and top-k layers built by hand through
torch2trt.trt and compared with PyTorch."""

import numpy as np
import pytest
import torch
import torch2trt.trt as trt
from trt_build import build_and_run

_DT = {torch.float32: trt.float32, torch.float16: trt.float16, torch.bfloat16: trt.bfloat16,
       torch.int32: trt.int32, torch.int64: trt.int64, torch.int8: trt.int8, torch.bool: trt.bool}


def rel_l2(a, b):
    a, b = a.double(), b.double()
    both_nan = torch.isnan(a) & torch.isnan(b)
    a, b = torch.where(both_nan, 0, a), torch.where(both_nan, 0, b)
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def tol(dtype):
    return 1e-5 if dtype == torch.float32 else 1e-2


FLOATS = [torch.float32, torch.float16, torch.bfloat16]

# ---------------------------------------------------------------------------------------------
# Unary

U = trt.UnaryOperation
UNARY = [  # (op, torch function, input range)
    (U.EXP, torch.exp, (-4, 4)), (U.LOG, torch.log, (0.05, 6)), (U.SQRT, torch.sqrt, (0, 6)),
    (U.RECIP, torch.reciprocal, (0.25, 4)), (U.ABS, torch.abs, (-4, 4)), (U.NEG, torch.neg, (-4, 4)),
    (U.SIN, torch.sin, (-4, 4)), (U.COS, torch.cos, (-4, 4)), (U.TAN, torch.tan, (-1.2, 1.2)),
    (U.SINH, torch.sinh, (-3, 3)), (U.COSH, torch.cosh, (-3, 3)), (U.ASIN, torch.asin, (-0.99, 0.99)),
    (U.ACOS, torch.acos, (-0.99, 0.99)), (U.ATAN, torch.atan, (-4, 4)), (U.ASINH, torch.asinh, (-4, 4)),
    (U.ACOSH, torch.acosh, (1, 6)), (U.ATANH, torch.atanh, (-0.95, 0.95)), (U.CEIL, torch.ceil, (-4, 4)),
    (U.FLOOR, torch.floor, (-4, 4)), (U.ERF, torch.erf, (-3, 3)), (U.SIGN, torch.sign, (-4, 4)),
    (U.ROUND, torch.round, (-4, 4)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op,fn,rng", UNARY, ids=[str(u[0]).split(".")[-1] for u in UNARY])
def test_unary_float(op, fn, rng, dtype):
    torch.manual_seed(0)
    x = (torch.rand(2, 3, 17) * (rng[1] - rng[0]) + rng[0]).to(dtype)
    layer_holder = []

    def build(net, t):
        layer = net.add_unary(t, op)
        layer_holder.append(layer)
        return layer.get_output(0)

    y = build_and_run(build, [x])
    assert layer_holder[0].op == op
    want = fn(x.double()).to(dtype)  # float64 math on the rounded input, rounded to the output type
    assert y.dtype == dtype
    assert rel_l2(y, want) <= tol(dtype)


def test_round_is_half_to_even():
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.7, -3.2])
    y = build_and_run(lambda net, t: net.add_unary(t, U.ROUND).get_output(0), [x])
    assert torch.equal(y, torch.round(x))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_isinf_isnan_sign_special_values(dtype):
    x = torch.tensor([float("inf"), -float("inf"), float("nan"), 0.0, -0.0, 1.5, -2.0], dtype=dtype)
    isinf, isnan, sign = build_and_run(
        lambda net, t: [net.add_unary(t, U.ISINF).get_output(0), net.add_unary(t, U.ISNAN).get_output(0),
                        net.add_unary(t, U.SIGN).get_output(0)], [x])
    assert isinf.dtype == torch.bool and torch.equal(isinf, torch.isinf(x))
    assert torch.equal(isnan, torch.isnan(x))
    assert torch.equal(sign, torch.sign(x))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.int8])
@pytest.mark.parametrize("op,fn", [(U.ABS, torch.abs), (U.NEG, torch.neg), (U.SIGN, torch.sign)])
def test_unary_int(op, fn, dtype):
    info = torch.iinfo(dtype)
    x = torch.cat([torch.randint(-100, 100, (30,), dtype=dtype), torch.tensor([info.min, info.max, 0], dtype=dtype)])
    y = build_and_run(lambda net, t: net.add_unary(t, op).get_output(0), [x])
    assert y.dtype == dtype and torch.equal(y, fn(x))


def test_unary_not():
    x = torch.rand(4, 5) > 0.5
    y = build_and_run(lambda net, t: net.add_unary(t, U.NOT).get_output(0), [x])
    assert torch.equal(y, torch.logical_not(x))


def test_unary_errors_name_the_argument():
    net = trt.Builder(trt.Logger()).create_network()
    i = net.add_input("i", trt.int32, (4,))
    f = net.add_input("f", trt.float32, (4,))
    with pytest.raises(ValueError, match=r"add_unary: .*input: EXP needs a float tensor, got int32"):
        net.add_unary(i, U.EXP)
    with pytest.raises(ValueError, match="input: NOT needs a bool tensor, got float32"):
        net.add_unary(f, U.NOT)
    layer = net.add_unary(i, U.ABS)
    with pytest.raises(ValueError, match="SQRT needs a float tensor"):
        layer.op = U.SQRT
    assert layer.op == U.ABS
    assert layer.get_output(0).dtype == trt.int32


# ---------------------------------------------------------------------------------------------
# Scale


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", [trt.ScaleMode.UNIFORM, trt.ScaleMode.CHANNEL, trt.ScaleMode.ELEMENTWISE])
@pytest.mark.parametrize("axis", [None, 0, 2])
def test_scale(mode, axis, dtype):
    torch.manual_seed(1)
    shape = (2, 3, 4, 5)
    a = 1 if axis is None else axis
    wshape = {trt.ScaleMode.UNIFORM: (1,), trt.ScaleMode.CHANNEL: (shape[a],),
              trt.ScaleMode.ELEMENTWISE: shape[a:]}[mode]
    shift = torch.rand(wshape)
    scale = torch.rand(wshape) + 0.5
    power = torch.rand(wshape) * 1.5 + 0.5
    x = (torch.rand(shape) * 1.5 + 0.5).to(dtype)

    def build(net, t):
        # numpy, torch and trt.Weights are all accepted as weights.
        if axis is None:
            layer = net.add_scale(t, mode, shift=shift.numpy(), scale=scale, power=trt.Weights(power.numpy()))
        else:
            layer = net.add_scale_nd(t, mode, shift.numpy(), scale, power.numpy(), axis)
        assert layer.mode == mode and layer.channel_axis == a
        assert layer.scale.size == scale.numel()
        return layer.get_output(0)

    y = build_and_run(build, [x])
    view = (-1,) + (1,) * (len(shape) - a - 1) if mode == trt.ScaleMode.CHANNEL else wshape
    xd = x.double()
    want = (xd * scale.double().reshape(view) + shift.double().reshape(view)) ** power.double().reshape(view)
    assert rel_l2(y, want) <= tol(dtype)


def test_scale_partial_weights_like_batchnorm():
    bn = torch.nn.BatchNorm2d(8).eval()
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-1, 1)
    x = torch.randn(2, 8, 6, 6)
    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    b = bn.bias.detach() - bn.running_mean * s
    y = build_and_run(lambda net, t: net.add_scale(t, trt.ScaleMode.CHANNEL, shift=b, scale=s).get_output(0), [x])
    with torch.no_grad():
        assert rel_l2(y, bn(x)) <= 1e-5


def test_scale_errors_name_the_argument():
    net = trt.Builder(trt.Logger()).create_network()
    x = net.add_input("x", trt.float32, (2, 3, 4))
    with pytest.raises(ValueError, match=r"shift: CHANNEL mode .* \(2, 3, 4\), which is 3; got 4 values"):
        net.add_scale(x, trt.ScaleMode.CHANNEL, shift=np.ones(4, np.float32))
    with pytest.raises(ValueError, match="channel_axis: 3 is not a dimension"):
        net.add_scale_nd(x, trt.ScaleMode.CHANNEL, None, np.ones(3, np.float32), None, 3)
    with pytest.raises(ValueError, match="scale: weights must be float32, float16 or bfloat16, got int32"):
        net.add_scale(x, trt.ScaleMode.UNIFORM, scale=np.ones(1, np.int32))
    layer = net.add_scale(x, trt.ScaleMode.CHANNEL, scale=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="power: CHANNEL mode"):
        layer.power = np.ones(5, np.float32)
    assert layer.power.size == 0
    layer.power = np.full(3, 2.0, np.float32)
    assert layer.power.size == 3
    with pytest.raises(ValueError, match="scale: ELEMENTWISE mode"):
        layer.mode = trt.ScaleMode.ELEMENTWISE
    assert layer.mode == trt.ScaleMode.CHANNEL


# ---------------------------------------------------------------------------------------------
# SoftMax


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, 3])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(dim, log, dtype):
    torch.manual_seed(2)
    x = (torch.randn(2, 3, 4, 5) * 4).to(dtype)

    def build(net, t):
        layer = net.add_softmax(t)
        layer.axes = 1 << dim
        layer.log = log
        return layer.get_output(0)

    y = build_and_run(build, [x])
    fn = torch.log_softmax if log else torch.softmax
    assert rel_l2(y, fn(x.double(), dim)) <= tol(dtype)


def test_softmax_default_axes_follow_tensorrt():
    net = trt.Builder(trt.Logger()).create_network()
    for shape, axes in [((5,), 1), ((2, 5), 1), ((2, 3, 4), 1), ((2, 3, 4, 5), 2), ((1, 2, 3, 4, 5), 4)]:
        t = net.add_input(f"x{len(shape)}", trt.float32, shape)
        layer = net.add_softmax(t)
        assert layer.axes == axes and layer.log is False


def test_log_softmax_is_stable_for_large_inputs():
    x = torch.tensor([[1000.0, 0.0, -1000.0, 999.0], [-5000.0, 20.0, 1.0, 2.0]])

    def build(net, t):
        layer = net.add_softmax(t)
        layer.axes = 2
        layer.log = True
        return layer.get_output(0)

    y = build_and_run(build, [x])
    assert torch.isfinite(y).all()
    assert rel_l2(y, torch.log_softmax(x.double(), 1)) <= 1e-6


def test_softmax_errors_name_the_argument():
    net = trt.Builder(trt.Logger()).create_network()
    x = net.add_input("x", trt.float32, (2, 3))
    i = net.add_input("i", trt.int32, (2, 3))
    with pytest.raises(ValueError, match="add_softmax: .*input: softmax needs a float tensor, got int32"):
        net.add_softmax(i)
    layer = net.add_softmax(x)
    for bad, msg in [(0, "no axis selected"), (3, "exactly one is allowed"), (4, "selects a dimension >= 2")]:
        with pytest.raises(ValueError, match="axes: .*" + msg):
            layer.axes = bad
        assert layer.axes == 1


# ---------------------------------------------------------------------------------------------
# Reduce

R = trt.ReduceOperation
TORCH_REDUCE = {
    R.SUM: lambda x, d, k: torch.sum(x, d, keepdim=k),
    R.PROD: lambda x, d, k: _prod(x, d, k),
    R.MAX: lambda x, d, k: torch.amax(x, d, keepdim=k),
    R.MIN: lambda x, d, k: torch.amin(x, d, keepdim=k),
    R.AVG: lambda x, d, k: torch.mean(x, d, keepdim=k),
}


def _prod(x, dims, keep):
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, d, keepdim=True)
    return x if keep else x.squeeze(dims)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", list(TORCH_REDUCE), ids=lambda o: str(o).split(".")[-1])
@pytest.mark.parametrize("dims", [(0,), (1,), (3,), (1, 2), (0, 2), (0, 1, 2, 3)])
@pytest.mark.parametrize("keep", [False, True])
def test_reduce_float(op, dims, keep, dtype):
    torch.manual_seed(3)
    x = torch.rand(2, 3, 4, 5) * 0.6 + 0.7 if op == R.PROD else torch.randn(2, 3, 4, 5) * 3
    x = x.to(dtype)
    axes = sum(1 << d for d in dims)

    def build(net, t):
        layer = net.add_reduce(t, op, axes, keep)
        assert (layer.op, layer.axes, layer.keep_dims) == (op, axes, keep)
        return layer.get_output(0)

    y = build_and_run(build, [x])
    want = TORCH_REDUCE[op](x.double(), dims, keep)
    assert y.shape == want.shape and y.dtype == dtype
    assert rel_l2(y, want) <= tol(dtype)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
@pytest.mark.parametrize("op", [R.SUM, R.PROD, R.MAX, R.MIN], ids=lambda o: str(o).split(".")[-1])
def test_reduce_int(op, dtype):
    x = torch.randint(-3, 4, (3, 4, 5), dtype=dtype) if op == R.PROD else torch.randint(-1000, 1000, (3, 4, 5), dtype=dtype)
    for dims in [(1,), (0, 2)]:
        y = build_and_run(lambda net, t: net.add_reduce(t, op, sum(1 << d for d in dims), False).get_output(0), [x])
        assert y.dtype == dtype and torch.equal(y, TORCH_REDUCE[op](x, dims, False).to(dtype))


def test_reduce_large_sum_is_accurate():
    torch.manual_seed(4)
    x = torch.rand(1 << 22) + 100.0  # a float32 running sum would drift far beyond 1e-5 here
    y = build_and_run(lambda net, t: net.add_reduce(t, R.SUM, 1, False).get_output(0), [x])
    assert rel_l2(y, x.double().sum()) <= 1e-7
    y = build_and_run(lambda net, t: net.add_reduce(t, R.AVG, 1, True).get_output(0), [x.reshape(4, -1)])
    assert rel_l2(y, x.double().reshape(4, -1).mean(0, keepdim=True)) <= 1e-7


def test_reduce_with_run_time_batch():
    x = torch.randn(5, 4, 3)
    y = build_and_run(lambda net, t: net.add_reduce(t, R.MAX, 2, False).get_output(0), [x], shapes=[(-1, 4, 3)])
    assert torch.equal(y, torch.amax(x, 1))


def test_reduce_errors_name_the_argument():
    net = trt.Builder(trt.Logger()).create_network()
    x = net.add_input("x", trt.float32, (2, 3))
    i = net.add_input("i", trt.int32, (2, 3))
    with pytest.raises(ValueError, match="add_reduce: .*axes: no axis selected"):
        net.add_reduce(x, R.SUM, 0, False)
    with pytest.raises(ValueError, match="axes: bitmask 4 selects a dimension >= 2"):
        net.add_reduce(x, R.SUM, 4, False)
    with pytest.raises(ValueError, match="input: AVG needs a float tensor, got int32"):
        net.add_reduce(i, R.AVG, 1, False)
    layer = net.add_reduce(i, R.SUM, 1, False)
    with pytest.raises(ValueError, match="AVG needs a float tensor"):
        layer.op = R.AVG
    assert layer.op == R.SUM
    layer.keep_dims = True
    assert layer.get_output(0).shape == (1, 3)


# ---------------------------------------------------------------------------------------------
# Cumulative sum


@pytest.mark.parametrize("dtype", FLOATS + [torch.int32, torch.int64])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum(axis, exclusive, reverse, dtype):
    torch.manual_seed(5)
    x = (torch.randn(3, 4, 5) * 3).to(dtype) if dtype.is_floating_point else torch.randint(-50, 50, (3, 4, 5), dtype=dtype)

    def build(net, t):
        layer = net.add_cumulative(t, axis, trt.CumulativeOperation.SUM, exclusive, reverse)
        assert (layer.axis, layer.exclusive, layer.reverse) == (axis, exclusive, reverse)
        assert layer.op == trt.CumulativeOperation.SUM
        return layer.get_output(0)

    y = build_and_run(build, [x])
    xd = x.double()
    if reverse:
        xd = xd.flip(axis)
    want = torch.cumsum(xd, axis)
    if exclusive:
        want = want - xd
    if reverse:
        want = want.flip(axis)
    assert y.dtype == dtype
    if dtype.is_floating_point:
        assert rel_l2(y, want) <= tol(dtype)
    else:
        assert torch.equal(y, want.to(dtype))


def test_cumsum_long_axis_is_accurate():
    x = torch.rand(2, 200000)
    y = build_and_run(lambda net, t: net.add_cumulative(t, 1, trt.CumulativeOperation.SUM, False, False).get_output(0),
                      [x])
    assert rel_l2(y, torch.cumsum(x.double(), 1)) <= 1e-7


def test_cumsum_axis_as_constant_tensor_like_tensorrt():
    x = torch.randn(3, 4)

    def build(net, t):
        axis = net.add_constant((), np.array([1], dtype=np.int32)).get_output(0)
        return net.add_cumulative(t, axis, trt.CumulativeOperation.SUM, False, False).get_output(0)

    y = build_and_run(build, [x])
    assert rel_l2(y, torch.cumsum(x.double(), 1)) <= 1e-6


def test_cumsum_errors_name_the_argument():
    net = trt.Builder(trt.Logger()).create_network()
    x = net.add_input("x", trt.float32, (2, 3))
    with pytest.raises(ValueError, match=r"add_cumulative: .*axis: 2 is out of range .* \(valid: -2..1\)"):
        net.add_cumulative(x, 2, trt.CumulativeOperation.SUM, False, False)
    b = net.add_input("b", trt.bool, (2, 3))
    with pytest.raises(ValueError, match="input: cumulative sum does not accept bool"):
        net.add_cumulative(b, 0, trt.CumulativeOperation.SUM, False, False)
    with pytest.raises(ValueError, match="axis: tensor 'x' .* comes from a network input"):
        net.add_cumulative(x, x, trt.CumulativeOperation.SUM, False, False)
    with pytest.raises(ValueError, match="axis: expected an int or an ITensor"):
        net.add_cumulative(x, 1.5, trt.CumulativeOperation.SUM, False, False)
    layer = net.add_cumulative(x, 0, trt.CumulativeOperation.SUM, False, False)
    with pytest.raises(ValueError, match="axis: -3 is out of range"):
        layer.axis = -3
    assert layer.axis == 0


# ---------------------------------------------------------------------------------------------
# TopK


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32, torch.int64])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim,k", [(0, 2), (1, 1), (1, 6), (2, 3)])
def test_topk(dim, k, largest, dtype):
    torch.manual_seed(6)
    # Distinct values, so PyTorch's indices are unambiguous.
    x = torch.randperm(4 * 6 * 9).reshape(4, 6, 9).to(dtype)
    op = trt.TopKOperation.MAX if largest else trt.TopKOperation.MIN

    def build(net, t):
        layer = net.add_topk(t, op, k, 1 << dim)
        assert (layer.op, layer.k, layer.axes) == (op, k, 1 << dim)
        return [layer.get_output(0), layer.get_output(1)]

    values, indices = build_and_run(build, [x])
    want = torch.topk(x, k, dim, largest=largest, sorted=True)
    assert values.dtype == dtype and indices.dtype == torch.int32
    assert torch.equal(values, want.values)
    assert torch.equal(indices.long(), want.indices)


def test_topk_random_floats_and_ties():
    x = torch.randn(3, 1000)
    values, indices = build_and_run(
        lambda net, t: [net.add_topk(t, trt.TopKOperation.MAX, 10, 2).get_output(i) for i in (0, 1)], [x])
    want = torch.topk(x, 10, 1)
    assert torch.equal(values, want.values)
    assert torch.equal(torch.gather(x, 1, indices.long()), values)
    ties = torch.tensor([2.0, 5.0, 2.0, 5.0, 1.0, 5.0])
    values, indices = build_and_run(
        lambda net, t: [net.add_topk(t, trt.TopKOperation.MIN, 4, 1).get_output(i) for i in (0, 1)], [ties])
    assert values.tolist() == [1.0, 2.0, 2.0, 5.0] and indices.tolist() == [4, 0, 2, 1]


def test_topk_k_checked_against_run_time_extent():
    logger = trt.Logger()
    builder = trt.Builder(logger)
    net = builder.create_network()
    x = net.add_input("x", trt.float32, (2, -1))
    layer = net.add_topk(x, trt.TopKOperation.MAX, 3, 2)
    assert layer.get_output(0).shape == (2, 3)
    layer.get_output(0).name = "v"
    net.mark_output(layer.get_output(0))
    engine = trt.Runtime(logger).deserialize_cuda_engine(builder.build_serialized_network(net, builder.create_builder_config()))
    ctx = engine.create_execution_context()
    ctx.set_input_shape("x", (2, 2))
    with pytest.raises(RuntimeError, match="k: 3 exceeds the extent 2 of axis 1"):
        ctx.get_tensor_shape("v")


def test_topk_errors_name_the_argument():
    net = trt.Builder(trt.Logger()).create_network()
    x = net.add_input("x", trt.float32, (2, 5))
    with pytest.raises(ValueError, match=r"add_topk: .*k: 6 exceeds the extent 5 of axis 1 of the input of shape \(2, 5\)"):
        net.add_topk(x, trt.TopKOperation.MAX, 6, 2)
    with pytest.raises(ValueError, match="axes: bitmask 3 selects 2 dimensions"):
        net.add_topk(x, trt.TopKOperation.MAX, 1, 3)
    b = net.add_input("b", trt.bool, (2, 5))
    with pytest.raises(ValueError, match="input: top-k does not accept bool"):
        net.add_topk(b, trt.TopKOperation.MAX, 1, 1)
    layer = net.add_topk(x, trt.TopKOperation.MAX, 2, 2)
    with pytest.raises(ValueError, match="k: must be at least 1, got 0"):
        layer.k = 0
    assert layer.k == 2
    layer.axes = 1
    assert layer.get_output(1).shape == (2, 5)
