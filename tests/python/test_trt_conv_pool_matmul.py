"""Convolution, deconvolution, pooling (incl. adaptive) and matrix multiply layers built by hand through
torch2trt.trt, compared with torch.nn.functional / torch.matmul, on both CPU implementations
(oneDNN and the plain C++ loops, forced with T2T_CPU_NO_ONEDNN=1)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torch2trt
import torch2trt.trt as trt
from trt_build import build_and_run

_DT = {torch.float32: trt.float32, torch.float16: trt.float16, torch.bfloat16: trt.bfloat16}


@pytest.fixture(params=["onednn", "loops"])
def cpu_path(request, monkeypatch):
    """Runs a test once per CPU implementation; yields the kernel-name prefix expected."""
    if request.param == "loops":
        monkeypatch.setenv("T2T_CPU_NO_ONEDNN", "1")
    elif not torch2trt._C.WITH_ONEDNN:
        pytest.skip("this build has no oneDNN (CMake did not find it): only the plain loops run")
    else:
        monkeypatch.delenv("T2T_CPU_NO_ONEDNN", raising=False)
    return request.param


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def check(got, want, dtype=torch.float32):
    assert got.shape == want.shape, f"{tuple(got.shape)} != {tuple(want.shape)}"
    assert rel_l2(got, want) <= (1e-5 if dtype == torch.float32 else 1e-2)


def torch_ref(fn, x, *args, **kw):
    """The PyTorch result in float32 from the (possibly half) input, rounded like the engine's output."""
    return fn(x.float(), *args, **kw).to(x.dtype)


# --- convolution -------------------------------------------------------------------------------------

CONV_CASES = [
    # (input shape, out channels, kernel, stride, padding, dilation, groups, bias)
    ((2, 4, 17), 6, (3,), (2,), (1,), (1,), 1, True),
    ((2, 4, 16), 8, (5,), (1,), (4,), (2,), 2, False),
    ((2, 3, 9, 10), 5, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    ((1, 6, 12, 11), 9, (3, 2), (2, 1), (2, 1), (2, 3), 3, True),
    ((2, 8, 10, 10), 8, (3, 3), (2, 2), (1, 1), (1, 1), 8, True),  # depthwise
    ((1, 2, 6, 7, 8), 4, (3, 2, 3), (1, 2, 2), (1, 0, 1), (1, 1, 1), 1, True),
    ((1, 4, 7, 6, 8), 4, (2, 3, 2), (1, 1, 1), (0, 1, 1), (2, 1, 2), 2, False),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{len(c[0]) - 2}d_g{c[6]}")
def test_convolution_matches_torch(case, dtype, cpu_path):
    shape, k, ks, stride, pad, dil, groups, has_bias = case
    x = torch.randn(shape).to(dtype)
    w = torch.randn(k, shape[1] // groups, *ks)
    b = torch.randn(k) if has_bias else None

    def net(n, t):
        # The order TensorRT converters use: add, then stride, padding, dilation, groups.
        layer = n.add_convolution_nd(t, k, ks, w, b)
        layer.stride_nd = stride
        layer.padding_nd = pad
        layer.dilation_nd = dil
        layer.num_groups = groups
        assert layer.num_groups == groups and tuple(layer.stride_nd) == tuple(stride)
        return layer.get_output(0)

    impls = []
    y = build_and_run(net, [x], impls=impls)
    conv = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(shape)]
    check(y, torch_ref(conv, x, w, b, stride, pad, dil, groups), dtype)
    assert impls == [("onednn_conv" if cpu_path == "onednn" else "ref_conv")]


def test_convolution_asymmetric_padding_and_modes(cpu_path):
    x = torch.randn(2, 3, 11, 10)
    w = torch.randn(4, 3, 3, 2)
    b = torch.randn(4)

    def asym(n, t):
        layer = n.add_convolution_nd(t, 4, (3, 2), trt.Weights(w.numpy()), b.numpy())
        layer.stride_nd = (2, 3)
        layer.pre_padding = (1, 0)
        layer.post_padding = (0, 2)
        assert tuple(layer.padding_nd) == (1, 0)  # TensorRT reports the pre padding
        return layer.get_output(0)

    check(build_and_run(asym, [x]), F.conv2d(F.pad(x, (0, 2, 1, 0)), w, b, stride=(2, 3)))

    w4 = torch.randn(4, 3, 4, 3)

    def same(n, t):
        layer = n.add_convolution_nd(t, 4, (4, 3), w4, b)
        layer.padding_mode = trt.PaddingMode.SAME_UPPER
        layer.dilation_nd = (2, 1)
        return layer.get_output(0)

    # torch's padding="same" puts the odd element after, as SAME_UPPER does.
    check(build_and_run(same, [x]), F.conv2d(x, w4, b, padding="same", dilation=(2, 1)))


def test_convolution_legacy_2d_names_and_float16_weights():
    x = torch.randn(1, 3, 8, 8)
    w = torch.randn(2, 3, 3, 3)

    def net(n, t):
        layer = n.add_convolution(t, 2, (3, 3), w.numpy().astype(np.float16))
        layer.stride = (2, 2)
        layer.padding = (1, 1)
        assert tuple(layer.kernel_size) == (3, 3) and tuple(layer.pre_padding) == (1, 1)
        assert layer.kernel.dtype == trt.float16 and len(layer.bias) == 0
        return layer.get_output(0)

    check(build_and_run(net, [x]), F.conv2d(x, w.half().float(), None, 2, 1))
    n, (t,) = _net((1, 3, 8))
    with pytest.raises(ValueError, match="kernel_shape must have 2 extents"):
        n.add_convolution(t, 2, (3,), w[:, :, 0])


def test_convolution_on_tiny_maps_with_later_padding(cpu_path):
    """ResNet's last stage on a 32x32 image: 3x3 convolutions over 2x2 and 1x1 maps, padding set after
    add_convolution_nd, and a depthwise kernel whose groups come last."""
    x = torch.randn(1, 8, 2, 2)
    w1, w2 = torch.randn(8, 8, 3, 3), torch.randn(8, 1, 3, 3)

    def net(n, t):
        a = n.add_convolution_nd(t, 8, (3, 3), w1)
        assert tuple(a.get_output(0).shape) == (1, 8, -1, -1)  # provisional until the padding is set
        a.stride_nd = (2, 2)
        a.padding_nd = (1, 1)
        assert tuple(a.get_output(0).shape) == (1, 8, 1, 1)
        c = n.add_convolution_nd(a.get_output(0), 8, (3, 3), w2)
        c.padding_nd = (1, 1)
        c.num_groups = 8
        return c.get_output(0)

    want = F.conv2d(F.conv2d(x, w1, None, 2, 1), w2, None, 1, 1, 1, 8)
    check(build_and_run(net, [x]), want)


# --- deconvolution -----------------------------------------------------------------------------------

DECONV_CASES = [
    # (input shape, out channels, kernel, stride, padding, output_padding, dilation, groups, bias)
    ((2, 4, 7), 6, (3,), (2,), (1,), (1,), (1,), 1, True),
    ((2, 3, 5, 6), 4, (3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),
    ((1, 4, 5, 4), 6, (4, 3), (2, 3), (1, 0), (1, 2), (1, 1), 1, False),
    ((2, 6, 5, 6), 4, (3, 2), (2, 1), (1, 1), (1, 1), (2, 2), 2, True),
    ((2, 4, 6, 5), 4, (3, 3), (2, 2), (1, 1), (1, 0), (1, 1), 4, True),
    ((1, 2, 3, 4, 5), 4, (2, 3, 3), (2, 1, 2), (0, 1, 1), (1, 0, 0), (1, 1, 1), 1, True),
    ((1, 4, 3, 3, 4), 6, (3, 2, 2), (1, 2, 1), (1, 0, 0), (0, 1, 0), (1, 1, 2), 2, False),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("case", DECONV_CASES, ids=lambda c: f"{len(c[0]) - 2}d_g{c[7]}")
def test_deconvolution_matches_torch(case, dtype, cpu_path):
    shape, k, ks, stride, pad, opad, dil, groups, has_bias = case
    x = torch.randn(shape).to(dtype)
    w = torch.randn(shape[1], k // groups, *ks)
    b = torch.randn(k) if has_bias else None

    def net(n, t):
        layer = n.add_deconvolution_nd(t, k, ks, w, b)
        layer.stride_nd = stride
        layer.padding_nd = pad
        layer.dilation_nd = dil
        layer.output_padding_nd = opad
        layer.num_groups = groups
        return layer.get_output(0)

    impls = []
    y = build_and_run(net, [x], impls=impls)
    deconv = {3: F.conv_transpose1d, 4: F.conv_transpose2d, 5: F.conv_transpose3d}[len(shape)]
    check(y, torch_ref(deconv, x, w, b, stride, pad, opad, groups, dil), dtype)
    assert impls[0].startswith("onednn_" if cpu_path == "onednn" else "ref_")


def test_deconvolution_asymmetric_padding():
    x = torch.randn(1, 3, 5, 4)
    w = torch.randn(3, 2, 3, 3)

    def net(n, t):
        layer = n.add_deconvolution_nd(t, 2, (3, 3), w)
        layer.stride_nd = (2, 2)
        layer.pre_padding = (1, 0)
        layer.post_padding = (0, 2)
        return layer.get_output(0)

    full = F.conv_transpose2d(x, w, None, 2)  # (1, 2, 11, 9): padding crops the full output
    check(build_and_run(net, [x]), full[:, :, 1:, :-2])


# --- pooling -----------------------------------------------------------------------------------------

POOL_CASES = [
    # (torch function, input shape, kwargs)
    (F.max_pool1d, (2, 3, 15), dict(kernel_size=3, stride=2, padding=1)),
    (F.max_pool1d, (2, 3, 16), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    (F.avg_pool1d, (2, 3, 14), dict(kernel_size=4, stride=3, padding=1, ceil_mode=True, count_include_pad=True)),
    (F.max_pool2d, (2, 3, 9, 10), dict(kernel_size=2)),
    (F.max_pool2d, (1, 4, 11, 10), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1))),
    (F.max_pool2d, (2, 2, 12, 11), dict(kernel_size=(3, 2), stride=(1, 2), padding=1, dilation=(2, 3))),
    (F.max_pool2d, (1, 3, 10, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (F.max_pool2d, (1, 2, 6, 7), dict(kernel_size=(3, 2), stride=(3, 2), padding=1, ceil_mode=True)),
    (F.avg_pool2d, (2, 3, 9, 10), dict(kernel_size=3, stride=2, padding=1, count_include_pad=True)),
    (F.avg_pool2d, (2, 3, 9, 10), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (F.avg_pool2d, (1, 3, 10, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=True)),
    (F.avg_pool2d, (1, 3, 10, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (F.avg_pool2d, (3, 8, 8), dict(kernel_size=2)),  # unbatched
    (F.max_pool3d, (1, 2, 6, 7, 8), dict(kernel_size=(2, 3, 2), stride=(2, 2, 1), padding=(1, 1, 0))),
    (F.max_pool3d, (1, 2, 9, 8, 7), dict(kernel_size=2, stride=(2, 1, 2), padding=(1, 0, 1), dilation=(2, 3, 2),
                                         ceil_mode=True)),
    (F.avg_pool3d, (1, 2, 7, 6, 5), dict(kernel_size=(3, 2, 2), stride=2, padding=(1, 0, 1), ceil_mode=True,
                                         count_include_pad=True)),
    (F.avg_pool3d, (1, 2, 7, 6, 5), dict(kernel_size=3, stride=(2, 1, 2), padding=1, count_include_pad=False)),
]


def _nd(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def pool_layer(n, t, fn, nsp, kw):
    """The layer a converter makes for torch's pooling arguments."""
    is_max = fn.__name__.startswith("max")
    ks = _nd(kw["kernel_size"], nsp)
    layer = n.add_pooling_nd(t, trt.PoolingType.MAX if is_max else trt.PoolingType.AVERAGE, ks)
    layer.stride_nd = _nd(kw.get("stride", ks), nsp)
    layer.padding_nd = _nd(kw.get("padding", 0), nsp)
    if kw.get("ceil_mode"):
        layer.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_UP
    if "dilation" in kw:
        layer.dilation_nd = _nd(kw["dilation"], nsp)
    if not is_max:
        layer.average_count_excludes_padding = not kw.get("count_include_pad", True)
    return layer


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[0].__name__}_{len(c[1])}")
def test_pooling_matches_torch(case, dtype, cpu_path):
    fn, shape, kw = case
    x = torch.randn(shape).to(dtype)
    nsp = int(fn.__name__[-2])
    y = build_and_run(lambda n, t: pool_layer(n, t, fn, nsp, kw).get_output(0), [x])
    check(y, torch_ref(fn, x, **kw), dtype)


def test_pooling_blend_and_legacy_names(cpu_path):
    x = torch.randn(2, 3, 9, 8)

    def net(n, t):
        layer = n.add_pooling(t, trt.PoolingType.MAX_AVERAGE_BLEND, (3, 3))
        layer.stride = (2, 2)
        layer.padding = (1, 1)
        layer.blend_factor = 0.3
        assert tuple(layer.window_size) == (3, 3) and layer.average_count_excludes_padding
        return layer.get_output(0)

    want = 0.7 * F.max_pool2d(x, 3, 2, 1) + 0.3 * F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    check(build_and_run(net, [x]), want)


ADAPTIVE_CASES = [
    (F.adaptive_avg_pool1d, (2, 3, 10), (4,)),
    (F.adaptive_max_pool1d, (2, 3, 5), (7,)),
    (F.adaptive_avg_pool2d, (2, 3, 8, 6), (4, 3)),
    (F.adaptive_avg_pool2d, (2, 5, 7, 7), (1, 1)),
    (F.adaptive_max_pool2d, (2, 3, 10, 9), (3, 4)),
    (F.adaptive_avg_pool2d, (1, 3, 11, 13), (5, 3)),
    (F.adaptive_avg_pool3d, (1, 2, 5, 7, 6), (2, 3, 4)),
    (F.adaptive_max_pool3d, (1, 2, 4, 6, 6), (2, 3, 2)),
    (F.adaptive_max_pool3d, (2, 5, 9, 7), (4, 3, 5)),  # unbatched
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=lambda c: f"{c[0].__name__}_{'x'.join(map(str, c[2]))}")
def test_adaptive_pooling_matches_torch(case, dtype, cpu_path):
    fn, shape, out = case
    x = torch.randn(shape).to(dtype)
    kind = trt.PoolingType.MAX if "max" in fn.__name__ else trt.PoolingType.AVERAGE

    def net(n, t):
        layer = n.add_adaptive_pooling_nd(t, kind, out)
        assert layer.is_adaptive and tuple(layer.output_size_nd) == out
        return layer.get_output(0)

    check(build_and_run(net, [x]), torch_ref(fn, x, out), dtype)


def test_pooling_runtime_shapes(cpu_path):
    x = torch.randn(2, 3, 13, 11)

    def net(n, t):
        return pool_layer(n, t, F.avg_pool2d, 2, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)).get_output(0)

    y = build_and_run(net, [x], shapes=[(-1, 3, -1, -1)])
    check(y, F.avg_pool2d(x, 3, 2, 1, ceil_mode=True))


# --- matrix multiply ---------------------------------------------------------------------------------

M = trt.MatrixOperation
MATMUL_CASES = [
    # (shape a, op0, shape b, op1, torch expression)
    ((7, 5), M.NONE, (5, 9), M.NONE, lambda a, b: a @ b),
    ((5, 7), M.TRANSPOSE, (5, 9), M.NONE, lambda a, b: a.mT @ b),
    ((7, 5), M.NONE, (9, 5), M.TRANSPOSE, lambda a, b: a @ b.mT),
    ((5, 7), M.TRANSPOSE, (9, 5), M.TRANSPOSE, lambda a, b: a.mT @ b.mT),
    ((4, 6, 8), M.NONE, (4, 8, 3), M.NONE, torch.matmul),
    ((2, 3, 6, 5), M.NONE, (1, 1, 5, 4), M.NONE, torch.matmul),
    ((2, 1, 6, 5), M.NONE, (1, 3, 5, 4), M.NONE, torch.matmul),
    ((3, 1, 5, 6), M.TRANSPOSE, (1, 2, 4, 5), M.TRANSPOSE, lambda a, b: a.mT @ b.mT),
    ((3, 7), M.VECTOR, (3, 7, 4), M.NONE, lambda a, b: (a.unsqueeze(-2) @ b).squeeze(-2)),
    ((3, 6, 7), M.NONE, (3, 7), M.VECTOR, lambda a, b: (a @ b.unsqueeze(-1)).squeeze(-1)),
    ((4, 9), M.VECTOR, (4, 9), M.VECTOR, lambda a, b: (a * b).sum(-1)),
    ((9,), M.VECTOR, (9, 5), M.NONE, torch.matmul),
    ((2, 8, 16), M.NONE, (1, 12, 16), M.TRANSPOSE, lambda a, b: a @ b.mT),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("case", MATMUL_CASES, ids=lambda c: f"{c[0]}{c[1].name}x{c[2]}{c[3].name}")
def test_matrix_multiply_matches_torch(case, dtype, cpu_path):
    sa, op0, sb, op1, expr = case
    a, b = torch.randn(sa).to(dtype), torch.randn(sb).to(dtype)

    def net(n, ta, tb):
        layer = n.add_matrix_multiply(ta, op0, tb, op1)
        assert layer.op0 == op0 and layer.get_operation(1) == op1
        return layer.get_output(0)

    impls = []
    y = build_and_run(net, [a, b], impls=impls)
    check(y, expr(a.float(), b.float()).to(dtype), dtype)
    assert impls == [("onednn_matmul" if cpu_path == "onednn" else "ref_matmul")]


def test_matrix_multiply_runtime_shapes_and_set_operation(cpu_path):
    a, b = torch.randn(3, 7, 4), torch.randn(1, 5, 4)

    def net(n, ta, tb):
        layer = n.add_matrix_multiply(ta, M.NONE, tb, M.TRANSPOSE)
        assert tuple(layer.get_output(0).shape) == (-1, -1, 5)
        with pytest.raises(ValueError, match="reduction lengths differ"):
            layer.set_operation(1, M.NONE)  # k would be 4 against 5
        assert layer.op1 == M.TRANSPOSE
        return layer.get_output(0)

    y = build_and_run(net, [a, b], shapes=[(-1, -1, 4), (1, 5, 4)])
    check(y, a @ b.mT)


# --- errors ------------------------------------------------------------------------------------------

def _net(*shapes, dtype=trt.float32):
    n = trt.Builder().create_network()
    return n, [n.add_input(f"x{i}", dtype, s) for i, s in enumerate(shapes)]


def test_errors_name_the_argument():
    n, (x,) = _net((1, 4, 8, 8))
    w = np.ones((6, 4, 3, 3), np.float32)
    with pytest.raises(trt.InvalidArgumentError, match=r"kernel: expected .*216.* got 100"):
        n.add_convolution_nd(x, 6, (3, 3), np.ones(100, np.float32))
    with pytest.raises(ValueError, match=r"bias: expected num_output_maps = 6 values, got 5"):
        n.add_convolution_nd(x, 6, (3, 3), w, np.ones(5, np.float32))
    layer = n.add_convolution_nd(x, 6, (3, 3), w)
    with pytest.raises(ValueError, match=r"num_groups: input channels 4 .* not divisible by num_groups 3"):
        layer.num_groups = 3
    assert layer.num_groups == 1  # the rejected value is undone
    with pytest.raises(ValueError, match=r"stride: entries must be >= 1"):
        layer.stride_nd = (0, 1)
    with pytest.raises(ValueError, match=r"dilation: has 3 entries"):
        layer.dilation_nd = (1, 1, 1)
    with pytest.raises(ValueError, match="kernel"):
        layer.kernel = np.ones(7, np.float32)
    assert layer.kernel.size == 216 and tuple(layer.get_output(0).shape) == (1, 6, 6, 6)
    with pytest.raises(ValueError, match=r"input: .*needs a float tensor, got int32"):
        _n, (xi,) = _net((1, 4, 8, 8), dtype=trt.int32)
        _n.add_convolution_nd(xi, 6, (3, 3), w)

    d = n.add_deconvolution_nd(x, 2, (3, 3), np.ones((4, 2, 3, 3), np.float32))
    d.stride_nd = (2, 2)
    with pytest.raises(ValueError, match="output_padding: must be smaller than the stride or the dilation"):
        d.output_padding_nd = (2, 0)
    assert tuple(d.output_padding_nd) == (0, 0)

    p = n.add_pooling_nd(x, trt.PoolingType.AVERAGE, (2, 2))
    with pytest.raises(ValueError, match="dilation: only MAX pooling supports dilation"):
        p.dilation_nd = (2, 2)
    with pytest.raises(ValueError, match="blend_factor"):
        p.blend_factor = 2.0
    with pytest.raises(ValueError, match="pre_padding: must be smaller than the dilated window"):
        p.padding_nd = (2, 2)
    a = n.add_adaptive_pooling_nd(x, trt.PoolingType.MAX, (3, 3))
    with pytest.raises(ValueError, match="stride: adaptive pooling derives its windows from output_size"):
        a.stride_nd = (1, 1)

    m, (a0, b0) = _net((2, 3, 4), (2, 5, 6))
    with pytest.raises(ValueError, match=r"input0/input1: reduction lengths differ: input0 \(2, 3, 4\)"):
        m.add_matrix_multiply(a0, M.NONE, b0, M.NONE)
    m, (a0, b0) = _net((2, 3, 4), (4, 6))
    with pytest.raises(ValueError, match="input1: inputs must have the same number of batch dimensions"):
        m.add_matrix_multiply(a0, M.NONE, b0, M.NONE)
    with pytest.raises(ValueError, match="operand index must be 0 or 1"):
        m.add_matrix_multiply(a0, M.NONE, a0, M.TRANSPOSE).set_operation(2, M.NONE)


def test_invalid_provisional_layer_is_reported_at_build():
    logger = trt.Logger()
    builder = trt.Builder(logger)
    n, (x,) = _net((1, 4, 2, 2))
    conv = n.add_convolution_nd(x, 4, (3, 3), np.ones((4, 4, 3, 3), np.float32))
    conv.name = "too_small"
    y = conv.get_output(0)
    y.name = "y"
    n.mark_output(y)
    config = builder.create_builder_config()
    config.default_device_type = trt.DeviceType.CPU
    with pytest.raises(ValueError, match=r"too_small.*input: spatial dimension 0 of input \(1, 4, 2, 2\)"):
        builder.build_serialized_network(n, config)
    conv.padding_nd = (1, 1)
    assert builder.build_serialized_network(n, config)


def test_empty_tensors(cpu_path):
    """A zero batch gives an empty output; a zero reduction length gives zeros (as torch.matmul)."""
    x, w = torch.randn(0, 3, 8, 8), torch.randn(4, 3, 3, 3)

    def conv(n, t):
        layer = n.add_convolution_nd(t, 4, (3, 3), w)
        layer.padding_nd = (1, 1)
        return layer.get_output(0)

    assert build_and_run(conv, [x]).shape == (0, 4, 8, 8)
    assert build_and_run(lambda n, t: n.add_pooling_nd(t, trt.PoolingType.MAX, (2, 2)).get_output(0), [x]).shape == (
        0, 3, 4, 4)
    a, b = torch.randn(2, 3, 0), torch.randn(2, 0, 5)
    y = build_and_run(lambda n, ta, tb: n.add_matrix_multiply(ta, M.NONE, tb, M.NONE).get_output(0), [a, b])
    assert torch.equal(y, torch.matmul(a, b))
