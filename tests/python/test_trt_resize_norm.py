"""Resize and normalization layers built by hand through torch2trt.trt, compared with PyTorch
(F.interpolate in every mode, F.layer_norm, F.instance_norm, F.group_norm)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import torch2trt.trt as trt

_DT = {torch.float32: trt.float32, torch.float16: trt.float16, torch.int32: trt.int32, torch.int64: trt.int64,
       torch.bool: trt.bool, torch.int8: trt.int8}
_TORCH_DT = {v: k for k, v in _DT.items()}


def build_and_run(fn, inputs):
    """Builds fn(network, *input_tensors) -> output tensor into a CPU engine (through engine bytes)
    and runs it on `inputs`; returns the output as a torch tensor."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network()
    tensors = [network.add_input(f"x{i}", _DT[x.dtype], tuple(x.shape)) for i, x in enumerate(inputs)]
    out = fn(network, *tensors)
    out.name = "y"
    network.mark_output(out)
    config = builder.create_builder_config()
    config.default_device_type = trt.DeviceType.CPU
    engine = trt.Runtime(logger).deserialize_cuda_engine(builder.build_serialized_network(network, config))
    ctx = engine.create_execution_context()
    inputs = [x.contiguous() for x in inputs]
    for i, x in enumerate(inputs):
        ctx.set_tensor_address(f"x{i}", x.data_ptr())
    y = torch.empty(tuple(ctx.get_tensor_shape("y")), dtype=_TORCH_DT[engine.get_tensor_dtype("y")])
    ctx.set_tensor_address("y", y.data_ptr())
    assert ctx.execute_async_v3(0)
    return y


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


# ---------------------------------------------------------------------------------------------
# Resize


def add_interpolate(network, x, in_shape, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None):
    """What an F.interpolate converter does: maps torch's arguments onto IResizeLayer."""
    layer = network.add_resize(x)
    spatial = len(in_shape) - 2
    if mode == "nearest":
        layer.resize_mode = trt.ResizeMode.NEAREST
        layer.coordinate_transformation = trt.ResizeCoordinateTransformation.ASYMMETRIC
        layer.nearest_rounding = trt.ResizeRoundMode.FLOOR
    elif mode == "nearest-exact":
        layer.resize_mode = trt.ResizeMode.NEAREST
        layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
        layer.nearest_rounding = trt.ResizeRoundMode.HALF_UP
    else:
        layer.resize_mode = trt.ResizeMode.CUBIC if mode == "bicubic" else trt.ResizeMode.LINEAR
        layer.coordinate_transformation = (trt.ResizeCoordinateTransformation.ALIGN_CORNERS if align_corners
                                           else trt.ResizeCoordinateTransformation.HALF_PIXEL)
        layer.cubic_coeff = -0.75
    if size is not None:
        size = [size] * spatial if isinstance(size, int) else list(size)
        layer.shape = list(in_shape[:2]) + size
    else:
        sf = [scale_factor] * spatial if not isinstance(scale_factor, (list, tuple)) else list(scale_factor)
        out = [math.floor(n * s) for n, s in zip(in_shape[2:], sf)]
        if recompute_scale_factor:
            layer.shape = list(in_shape[:2]) + out  # torch then maps with in/out
        else:
            if mode in ("linear", "bilinear", "trilinear"):
                # torch's linear kernels leave a dim alone when its extent does not change.
                sf = [1.0 if o == n else s for o, n, s in zip(out, in_shape[2:], sf)]
            layer.scales = [1.0, 1.0] + sf
    return layer.get_output(0)


RESIZE_CASES = []
for _mode, _shape in [("nearest", (2, 3, 9)), ("nearest", (1, 3, 7, 10)), ("nearest", (1, 2, 4, 5, 6)),
                      ("nearest-exact", (2, 3, 9)), ("nearest-exact", (1, 3, 7, 10)), ("nearest-exact", (1, 2, 4, 5, 6)),
                      ("linear", (2, 3, 9)), ("bilinear", (1, 3, 7, 10)), ("trilinear", (1, 2, 4, 5, 6)),
                      ("bicubic", (1, 3, 7, 10))]:
    _sp = len(_shape) - 2
    _aligns = [None] if _mode.startswith("nearest") else [False, True]
    for _ac in _aligns:
        RESIZE_CASES += [
            (_mode, _shape, dict(size=tuple([13, 17, 9][:_sp])), _ac),
            (_mode, _shape, dict(size=tuple([4, 3, 2][:_sp])), _ac),
            (_mode, _shape, dict(scale_factor=2.0), _ac),
            (_mode, _shape, dict(scale_factor=tuple([1.7, 0.6, 2.5][:_sp])), _ac),
            (_mode, _shape, dict(scale_factor=1.3), _ac),  # extents 4, 5, 7, 9, 10 -> 5, 6, 9, 11, 13; 2 -> 2
            (_mode, _shape, dict(scale_factor=tuple([0.45, 2.3, 1.1][:_sp]), recompute_scale_factor=True), _ac),
        ]


@pytest.mark.parametrize("mode,shape,kw,align_corners", RESIZE_CASES,
                         ids=[f"{m}-{len(s) - 2}d-{'_'.join(f'{k}={v}' for k, v in kw.items())}-ac{a}"
                              for m, s, kw, a in RESIZE_CASES])
def test_resize_matches_interpolate(mode, shape, kw, align_corners):
    torch.manual_seed(0)
    x = torch.randn(*shape)
    want = F.interpolate(x, mode=mode, align_corners=align_corners, **kw)
    got = build_and_run(lambda n, t: add_interpolate(n, t, shape, mode=mode, align_corners=align_corners, **kw), [x])
    assert got.shape == want.shape
    if mode.startswith("nearest"):
        assert torch.equal(got, want)
    else:
        assert rel_l2(got, want) <= 1e-5


@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("nearest-exact", None), ("linear", False),
                                                  ("linear", True), ("bicubic", False), ("bicubic", True)])
def test_resize_sweep_of_extents_and_scales(mode, align_corners):
    # Many in/out pairs, so that float32 rounding of source coordinates is checked where ties occur.
    torch.manual_seed(6)
    failures = []
    for n in [1, 2, 3, 5, 7, 8, 13, 16]:
        shape = (1, 2, 3, n) if mode == "bicubic" else (1, 2, n)
        x = torch.randn(*shape)
        args = [dict(size=o) for o in [1, 2, 3, 4, 6, 9, 10, 14, 17, 26, 32]]
        args += [dict(scale_factor=s) for s in [0.3, 0.5, 0.7, 0.75, 1.1, 1.3, 1.5, 2.0, 2.1, 2.5, 3.0, 1 / 3, 2 / 3]
                 if math.floor(n * s) >= 1]
        for kw in args:
            if mode == "bicubic":  # torch's bicubic is 2-D only: resample the last dim, keep the other
                kw = {k: (3, v) if k == "size" else (1.0, v) for k, v in kw.items()}
            want = F.interpolate(x, mode=mode, align_corners=align_corners, **kw)
            got = build_and_run(lambda net, t: add_interpolate(net, t, shape, mode=mode, align_corners=align_corners,
                                                               **kw), [x])
            ok = got.shape == want.shape and (torch.equal(got, want) if mode.startswith("nearest")
                                              else rel_l2(got, want) <= 1e-5)
            if not ok:
                failures.append((n, kw))
    assert not failures


def test_resize_linear_unchanged_extent_quirk():
    # scale_factor 1.3 on an extent of 2 keeps 2: torch copies that dim; the layer with scale 1.3 would not.
    x = torch.randn(1, 1, 2, 6)
    want = F.interpolate(x, scale_factor=1.3, mode="bilinear", align_corners=False)

    def literal(n, t):
        layer = n.add_resize(t)
        layer.resize_mode = trt.ResizeMode.LINEAR
        layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
        layer.scales = [1, 1, 1.3, 1.3]
        return layer.get_output(0)

    assert rel_l2(build_and_run(literal, [x]), want) > 1e-3
    assert rel_l2(build_and_run(lambda n, t: add_interpolate(n, t, x.shape, scale_factor=1.3, mode="bilinear",
                                                             align_corners=False), [x]), want) <= 1e-5


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool, torch.float16])
def test_resize_nearest_other_dtypes(dtype):
    x = (torch.randn(1, 2, 5, 6) * 10)
    x = x > 0 if dtype == torch.bool else x.to(dtype)
    want = F.interpolate(x.float(), size=(8, 4), mode="nearest").to(dtype)
    got = build_and_run(lambda n, t: add_interpolate(n, t, x.shape, size=(8, 4)), [x])
    assert got.dtype == dtype and torch.equal(got, want)


def test_resize_attributes_and_errors():
    network = trt.Builder(trt.Logger()).create_network()
    x = network.add_input("x", trt.float32, (1, 3, 4, 4))
    layer = network.add_resize(x)
    assert layer.resize_mode == trt.InterpolationMode.NEAREST and trt.ResizeMode is trt.InterpolationMode
    assert layer.coordinate_transformation == trt.ResizeCoordinateTransformation.ASYMMETRIC
    assert layer.nearest_rounding == trt.ResizeRoundMode.FLOOR
    assert layer.selector_for_single_pixel == trt.ResizeSelector.FORMULA
    assert layer.cubic_coeff == -0.75 and layer.exclude_outside is False
    assert layer.get_output(0).shape == (1, 3, 4, 4)
    layer.scales = [1, 1, 2, 0.5]
    assert layer.get_output(0).shape == (1, 3, 8, 2) and layer.shape == ()
    layer.shape = (1, 3, 5, 6)
    assert layer.get_output(0).shape == (1, 3, 5, 6) and layer.scales == []
    layer.align_corners = True
    assert layer.coordinate_transformation == trt.ResizeCoordinateTransformation.ALIGN_CORNERS
    with pytest.raises(ValueError, match="shape"):
        layer.shape = (1, 3, 5)
    assert layer.shape == (1, 3, 5, 6)  # unchanged after the failed set
    with pytest.raises(ValueError, match="into 0"):
        layer.scales = [1, 1, 0.1, 1]
    xi = network.add_input("xi", trt.int32, (1, 3, 4, 4))
    li = network.add_resize(xi)
    with pytest.raises(ValueError, match="LINEAR resize needs a float tensor"):
        li.resize_mode = trt.ResizeMode.LINEAR


# ---------------------------------------------------------------------------------------------
# Normalization


def _norm(x, w, b, axes, num_groups=1, eps=1e-5):
    def fn(n, xt, wt, bt):
        layer = n.add_normalization(xt, wt, bt, axes, num_groups=num_groups) if num_groups != 1 else \
            n.add_normalization(input=xt, scale=wt, bias=bt, axesMask=axes)
        layer.epsilon = eps
        return layer.get_output(0)

    return build_and_run(fn, [x, w, b])


def _mask(dims):
    return sum(1 << d for d in dims)


@pytest.mark.parametrize("shape,normalized", [((2, 5, 16), (16,)), ((2, 5, 16), (5, 16)), ((3, 4, 6, 7), (6, 7)),
                                              ((64,), (64,))])
@pytest.mark.parametrize("eps", [1e-5, 1e-3])
def test_layer_norm_matches_torch(shape, normalized, eps):
    torch.manual_seed(1)
    x = torch.randn(*shape) * 3 + 2
    w, b = torch.randn(*normalized), torch.randn(*normalized)
    want = F.layer_norm(x, normalized, w, b, eps)
    axes = _mask(range(len(shape) - len(normalized), len(shape)))
    assert rel_l2(_norm(x, w, b, axes, eps=eps), want) <= 1e-5


@pytest.mark.parametrize("shape", [(2, 3, 10), (2, 3, 6, 7), (1, 4, 3, 4, 5)])
def test_instance_norm_matches_torch(shape):
    torch.manual_seed(2)
    x = torch.randn(*shape) * 2 - 1
    c = shape[1]
    w, b = torch.randn(c), torch.randn(c)
    want = F.instance_norm(x, weight=w, bias=b, eps=1e-5)
    pshape = (1, c) + (1,) * (len(shape) - 2)
    got = _norm(x, w.reshape(pshape), b.reshape(pshape), _mask(range(2, len(shape))))
    assert rel_l2(got, want) <= 1e-5


@pytest.mark.parametrize("shape,groups", [((2, 6, 5, 4), 3), ((2, 8, 9), 4), ((1, 32, 7, 7), 32), ((2, 6, 5, 4), 1),
                                          ((1, 4, 2, 3, 4), 2)])
def test_group_norm_matches_torch(shape, groups):
    torch.manual_seed(3)
    x = torch.randn(*shape) + 5
    c = shape[1]
    w, b = torch.randn(c), torch.randn(c)
    want = F.group_norm(x, groups, w, b, eps=1e-5)
    pshape = (1, c) + (1,) * (len(shape) - 2)
    spatial = _mask(range(2, len(shape)))
    # GroupNorm(1, C) is a layer norm over (C, spatial...): the channel axis joins the reduction.
    axes = spatial | 2 if groups == 1 else spatial
    got = _norm(x, w.reshape(pshape), b.reshape(pshape), axes, num_groups=groups)
    assert rel_l2(got, want) <= 1e-5


def test_group_norm_per_group_scale_as_tensorrt():
    torch.manual_seed(4)
    x = torch.randn(2, 6, 4, 4)
    w, b = torch.randn(3), torch.randn(3)
    want = F.group_norm(x, 3, w.repeat_interleave(2), b.repeat_interleave(2))
    got = _norm(x, w.reshape(1, 3, 1, 1), b.reshape(1, 3, 1, 1), _mask([2, 3]), num_groups=3)
    assert rel_l2(got, want) <= 1e-5


def test_layer_norm_float16():
    torch.manual_seed(5)
    x = torch.randn(4, 32).half()
    w, b = torch.randn(32).half(), torch.randn(32).half()
    got = _norm(x, w, b, 2)
    assert got.dtype == torch.float16
    assert rel_l2(got, F.layer_norm(x.float(), (32,), w.float(), b.float())) <= 1e-2


def test_normalization_attributes_and_errors():
    network = trt.Builder(trt.Logger()).create_network()
    x = network.add_input("x", trt.float32, (2, 6, 4, 4))
    s = network.add_input("s", trt.float32, (1, 6, 1, 1))
    g = network.add_input("g", trt.float32, (1, 3, 1, 1))
    layer = network.add_normalization(x, s, s, _mask([2, 3]))
    assert layer.epsilon == pytest.approx(1e-5) and layer.num_groups == 1 and layer.axes == 12
    assert layer.compute_precision == trt.float32
    layer.num_groups = 3
    assert layer.num_groups == 3
    with pytest.raises(ValueError, match="do not divide"):
        layer.num_groups = 4
    assert layer.num_groups == 3
    with pytest.raises(ValueError, match="channel dim 1"):
        layer.axes = _mask([1, 2, 3])
    with pytest.raises(ValueError, match="beyond the input's rank"):
        layer.axes = 1 << 5
    with pytest.raises(ValueError, match="give.*num_groups|num_groups = G"):
        network.add_normalization(x, g, g, _mask([2, 3]))  # per-group values without num_groups
    xi = network.add_input("xi", trt.int32, (2, 6, 4, 4))
    with pytest.raises(ValueError, match="float"):
        network.add_normalization(xi, s, s, 12)
