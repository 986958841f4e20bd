"""Data-movement layers (shuffle, concatenation, slice, gather, scatter, select, padding, constant,
identity, cast) built by hand through torch2trt.trt and compared with PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torch2trt.trt as trt
from trt_build import build_and_run

_DT = {
    torch.float32: trt.float32,
    torch.float16: trt.float16,
    torch.bfloat16: trt.bfloat16,
    torch.int32: trt.int32,
    torch.int64: trt.int64,
    torch.int8: trt.int8,
    torch.uint8: trt.uint8,
    torch.bool: trt.bool,
}
ALL_DTYPES = list(_DT)


def sample(shape, dtype, lo=-50, hi=50):
    """Random values of `dtype` (0/1 for bool, non-negative for uint8)."""
    if dtype == torch.bool:
        return torch.rand(shape) > 0.5
    if dtype == torch.uint8:
        lo = max(lo, 0)
    if dtype.is_floating_point:
        return (torch.rand(shape) * (hi - lo) + lo).to(dtype)
    return torch.randint(lo, hi + 1, shape).to(dtype)


def run(fn, *inputs, shapes=None):
    """build_and_run with the inputs as arguments."""
    return build_and_run(fn, inputs, shapes)


def same(actual, expected):
    """Data movement is exact: same dtype, shape and values."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (tuple(actual.shape), tuple(expected.shape))
    assert torch.equal(actual, expected), f"max difference {(actual.double() - expected.double()).abs().max()}"


# ---------------------------------------------------------------------------------------------
# Shuffle


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_shuffle_reshape_and_permute(dtype):
    torch.manual_seed(0)
    x = sample((2, 3, 4, 5), dtype)

    def view(net, t):
        layer = net.add_shuffle(t)
        layer.reshape_dims = (0, -1, 5)
        return layer.get_output(0)

    same(run(view, x), x.reshape(2, 12, 5))

    def permute(net, t):
        layer = net.add_shuffle(t)
        layer.first_transpose = (0, 2, 3, 1)
        return layer.get_output(0)

    same(run(permute, x), x.permute(0, 2, 3, 1))

    def all_three(net, t):  # transpose, flatten the last two, transpose again
        layer = net.add_shuffle(t)
        layer.first_transpose = trt.Permutation([1, 0, 2, 3])
        layer.reshape_dims = (3, 2, 20)
        layer.second_transpose = (2, 0, 1)
        return layer.get_output(0)

    same(run(all_three, x), x.permute(1, 0, 2, 3).reshape(3, 2, 20).permute(2, 0, 1))


def test_shuffle_attributes_read_back_and_roll_back():
    net = trt.Builder(trt.Logger()).create_network()
    x = net.add_input("x", trt.float32, (2, 3, 4))
    layer = net.add_shuffle(x)
    assert layer.reshape_dims is None and layer.first_transpose == () and layer.zero_is_placeholder
    layer.reshape_dims = (6, 4)
    layer.second_transpose = (1, 0)
    assert layer.reshape_dims == (6, 4) and layer.second_transpose == (1, 0)
    assert layer.get_output(0).shape == (4, 6)
    with pytest.raises(ValueError, match=r"reshape_dims.*\(2, 3, 4\)"):
        layer.reshape_dims = (5, 5)
    assert layer.reshape_dims == (6, 4) and layer.get_output(0).shape == (4, 6)
    with pytest.raises(ValueError, match="second_transpose"):
        layer.second_transpose = (0, 0)
    assert layer.second_transpose == (1, 0)


def test_shuffle_run_time_dims():
    x = torch.randn(5, 3, 4)

    def flatten(net, t):
        layer = net.add_shuffle(t)
        layer.reshape_dims = (0, -1)
        assert layer.get_output(0).shape == (-1, 12)
        return layer.get_output(0)

    same(run(flatten, x, shapes=[(-1, 3, 4)]), x.reshape(5, 12))


def test_shuffle_shape_tensor_from_constant():
    x = torch.randn(2, 3, 4)

    def reshape(net, t):
        shape = net.add_constant((3,), np.array([0, 4, 3], dtype=np.int64)).get_output(0)
        layer = net.add_shuffle(t)
        layer.set_input(1, shape)
        return layer.get_output(0)

    same(run(reshape, x), x.reshape(2, 4, 3))

    net = trt.Builder(trt.Logger()).create_network()
    t = net.add_input("x", trt.float32, (2, 3, 4))
    s = net.add_input("s", trt.int32, (2,))
    with pytest.raises(ValueError, match="only shape tensors made by add_constant"):
        net.add_shuffle(t).set_input(1, s)


# ---------------------------------------------------------------------------------------------
# Concatenation


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2, 3])
def test_concatenation_like_torch_cat(dtype, dim):
    torch.manual_seed(dim)
    shapes = [[2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5]]
    for i, s in enumerate(shapes):
        s[dim] = i + 1
    xs = [sample(s, dtype) for s in shapes]

    def cat(net, *ts):
        layer = net.add_concatenation(list(ts))
        layer.axis = dim
        return layer.get_output(0)

    same(run(cat, *xs), torch.cat(xs, dim))


def test_concatenation_default_axis_and_errors():
    net = trt.Builder(trt.Logger()).create_network()
    a = net.add_input("a", trt.float32, (1, 2, 3, 4))
    assert net.add_concatenation([a, a]).axis == 1  # TensorRT: rank - 3
    b = net.add_input("b", trt.int32, (1, 2, 3, 4))
    with pytest.raises(ValueError, match="add_concatenation.*int32"):
        net.add_concatenation([a, b])
    layer = net.add_concatenation([a, a])
    with pytest.raises(ValueError, match="axis 4 is out of range"):
        layer.axis = 4
    assert layer.axis == 1


# ---------------------------------------------------------------------------------------------
# Slice


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_slice_like_torch_indexing(dtype):
    torch.manual_seed(1)
    x = sample((4, 5, 6), dtype)
    same(run(lambda n, t: n.add_slice(t, (0, 0, 0), (4, 5, 3), (1, 1, 2)).get_output(0), x), x[..., ::2])
    same(run(lambda n, t: n.add_slice(t, (1, 0, 2), (2, 5, 4), (1, 1, 1)).get_output(0), x), x[1:3, :, 2:])
    same(run(lambda n, t: n.add_slice(t, (3, 0, 5), (4, 5, 6), (-1, 1, -1)).get_output(0), x), torch.flip(x, (0, 2)))
    same(
        run(lambda n, t: n.add_slice(t, (0, 4, 0), (4, 3, 6), (1, -2, 1)).get_output(0), x), torch.flip(x, (1,))[:, ::2]
    )


def slice_mode(mode, start, shape, fill=None):
    def fn(net, t, *rest):
        layer = net.add_slice(t, start, shape, [1] * len(shape))
        layer.mode = mode  # TensorRT order: the slice reads past the edges before the mode is set
        if rest:
            layer.set_input(4, rest[0])
        return layer.get_output(0)

    return fn


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64, torch.uint8])
def test_slice_modes_match_torch_padding(dtype):
    torch.manual_seed(2)
    x = sample((2, 3, 5), dtype)
    S = trt.SampleMode
    # Reading from -2 to extent + 1 is a padding of (2, 1) on the last dims.
    same(
        run(slice_mode(S.REFLECT, (0, -2, -2), (2, 6, 8)), x), F.pad(x.double(), (2, 1, 2, 1), mode="reflect").to(dtype)
    )
    same(
        run(slice_mode(S.CLAMP, (0, -2, -2), (2, 6, 8)), x), F.pad(x.double(), (2, 1, 2, 1), mode="replicate").to(dtype)
    )
    same(run(slice_mode(S.WRAP, (0, -2, -2), (2, 6, 8)), x), F.pad(x.double(), (2, 1, 2, 1), mode="circular").to(dtype))
    same(run(slice_mode(S.FILL, (0, -2, -2), (2, 6, 8)), x), F.pad(x.double(), (2, 1, 2, 1), value=0).to(dtype))
    fill = torch.tensor(7, dtype=dtype)
    same(run(slice_mode(S.FILL, (0, -2, -2), (2, 6, 8)), x, fill), F.pad(x.double(), (2, 1, 2, 1), value=7).to(dtype))
    # WRAP far past the edges tiles the tensor, as torch.roll plus repeat does.
    same(run(slice_mode(S.WRAP, (0, 1, 2), (2, 6, 10)), x), torch.roll(x, (-1, -2), (1, 2)).repeat(1, 2, 2))


def test_slice_strict_bounds_error_at_build():
    builder = trt.Builder(trt.Logger())
    net = builder.create_network()
    x = net.add_input("x", trt.float32, (3, 4))
    layer = net.add_slice(x, (0, 2), (3, 3), (1, 1))
    net.mark_output(layer.get_output(0))
    config = builder.create_builder_config()
    config.default_device_type = trt.DeviceType.CPU
    with pytest.raises(ValueError, match=r"coordinate 4, outside the input \(3, 4\)"):
        builder.build_serialized_network(net, config)
    layer.mode = trt.SliceMode.CLAMP
    assert builder.build_serialized_network(net, config)


# ---------------------------------------------------------------------------------------------
# Gather and scatter


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("index_dtype", [torch.int32, torch.int64])
def test_gather_default_is_index_select(dtype, index_dtype):
    torch.manual_seed(3)
    x = sample((3, 5, 4), dtype)
    idx = torch.tensor([4, 0, 2, 2], dtype=index_dtype)
    same(run(lambda n, t, i: n.add_gather(t, i, 1).get_output(0), x, idx), torch.index_select(x, 1, idx.long()))
    idx2 = torch.tensor([[2, -1], [0, 1]], dtype=index_dtype)  # negative counts from the end, as x[idx]
    same(run(lambda n, t, i: n.add_gather(t, i, 0).get_output(0), x, idx2), x[idx2.long()])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int64, torch.bool])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather_element_is_torch_gather(dtype, dim):
    torch.manual_seed(4)
    x = sample((3, 4, 5), dtype)
    shape = [2, 3, 4]
    shape[dim] = 6
    idx = torch.randint(0, x.shape[dim], shape)

    def fn(net, t, i):
        layer = net.add_gather(t, i, dim)
        layer.mode = trt.GatherMode.ELEMENT
        return layer.get_output(0)

    same(run(fn, x, idx), torch.gather(x, dim, idx))


def test_gather_nd_is_numpy_advanced_indexing():
    torch.manual_seed(5)
    x = torch.randn(3, 4, 5)
    idx = torch.tensor([[[2, 3], [0, -1]], [[1, 1], [2, 0]]], dtype=torch.int32)
    want = x[idx[..., 0].long(), idx[..., 1].long()]
    same(run(lambda n, t, i: n.add_gather_v2(t, i, trt.GatherMode.ND).get_output(0), x, idx), want)

    def batched(net, t, i):
        layer = net.add_gather_v2(t, i, trt.GatherMode.ND)
        layer.num_elementwise_dims = 1
        return layer.get_output(0)

    bidx = torch.tensor([[[2], [0]], [[1], [1]], [[0], [3]]], dtype=torch.int64)
    want = torch.stack([x[b][bidx[b, :, 0]] for b in range(3)])
    same(run(batched, x, bidx), want)


def test_gather_out_of_range_reads_zero():
    x = torch.arange(1, 7, dtype=torch.float32).reshape(2, 3)
    idx = torch.tensor([0, 3, -4, 2], dtype=torch.int32)
    same(
        run(lambda n, t, i: n.add_gather(t, i, 1).get_output(0), x, idx),
        torch.tensor([[1, 0, 0, 3], [4, 0, 0, 6]], dtype=torch.float32),
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32, torch.int8])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_element_is_torch_scatter(dtype, dim):
    torch.manual_seed(6)
    data = sample((4, 5), dtype)
    # One distinct target per row of the scatter axis, so the result does not depend on write order.
    if dim == 0:
        idx = torch.stack([torch.randperm(4)[:3] for _ in range(5)], 1)
    else:
        idx = torch.stack([torch.randperm(5)[:3] for _ in range(4)], 0)
    src = sample(tuple(idx.shape), dtype)

    def fn(net, d, i, u):
        layer = net.add_scatter(d, i, u, trt.ScatterMode.ELEMENT)
        layer.axis = dim
        return layer.get_output(0)

    same(run(fn, data, idx.to(torch.int32), src), torch.scatter(data, dim, idx, src))


def test_scatter_nd_is_index_put():
    data = torch.randn(4, 3)
    idx = torch.tensor([[3], [1]], dtype=torch.int64)
    upd = torch.randn(2, 3)
    want = data.clone()
    want[idx[:, 0]] = upd
    same(run(lambda n, d, i, u: n.add_scatter(d, i, u, trt.ScatterMode.ND).get_output(0), data, idx, upd), want)


# ---------------------------------------------------------------------------------------------
# Select


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_select_is_torch_where(dtype):
    torch.manual_seed(7)
    cond = torch.rand(2, 1, 4) > 0.5
    a = sample((3, 1), dtype)
    b = sample((2, 3, 4), dtype)
    same(run(lambda n, c, x, y: n.add_select(c, x, y).get_output(0), cond, a, b), torch.where(cond, a, b))


def test_select_errors():
    net = trt.Builder(trt.Logger()).create_network()
    c = net.add_input("c", trt.float32, (2,))
    x = net.add_input("x", trt.float32, (2,))
    with pytest.raises(ValueError, match="condition: must be bool, got float32"):
        net.add_select(c, x, x)


# ---------------------------------------------------------------------------------------------
# Padding


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_padding_is_f_pad(dtype, mode):
    torch.manual_seed(8)
    x = sample((2, 3, 4, 5), dtype)
    pad = (2, 1, 0, 3)  # F.pad order: last dim (before, after), then the one before it

    def fn(net, t):
        layer = net.add_padding_nd(t, (0, 2), (3, 1))
        layer.mode = getattr(trt.PadMode, mode.upper())
        if mode == "constant":
            layer.value = 1
        return layer.get_output(0)

    kwargs = {"value": 1} if mode == "constant" else {}
    # torch pads only float tensors in the non-constant modes: compute in float64 and cast back.
    want = F.pad(x.double() if mode != "constant" else x, pad, mode=mode, **kwargs).to(dtype)
    same(run(fn, x), want)


def test_padding_negative_crops_and_3d():
    x = torch.randn(1, 2, 4, 5, 6)
    same(run(lambda n, t: n.add_padding_nd(t, (-1, 2, 0), (1, -2, 3)).get_output(0), x), F.pad(x, (0, 3, 2, -2, -1, 1)))

    def reflect3d(net, t):
        layer = net.add_padding_nd(t, (1, 2, 3), (2, 1, 0))
        layer.mode = trt.PadMode.REFLECT
        return layer.get_output(0)

    same(run(reflect3d, x), F.pad(x, (3, 0, 2, 1, 1, 2), mode="reflect"))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(-2, 3), (2, -1), (3, -2, -1, 2)])
def test_padding_crops_first_then_pads(mode, pads):
    x = torch.randn(1, 5, 6)
    k = len(pads) // 2  # F.pad order is (last_before, last_after, previous_before, ...)
    pre = tuple(pads[2 * i] for i in reversed(range(k)))
    post = tuple(pads[2 * i + 1] for i in reversed(range(k)))

    def fn(net, t):
        layer = net.add_padding_nd(t, pre, post)
        layer.mode = getattr(trt.PadMode, mode.upper())
        return layer.get_output(0)

    same(run(fn, x), F.pad(x, pads, mode=mode))


def test_padding_errors():
    net = trt.Builder(trt.Logger()).create_network()
    x = net.add_input("x", trt.float32, (1, 2, 3))
    layer = net.add_padding_nd(x, (3,), (0,))
    with pytest.raises(ValueError, match="REFLECT needs padding smaller than the extent"):
        layer.mode = trt.PadMode.REFLECT
    assert layer.mode == trt.PadMode.CONSTANT
    assert layer.pre_padding_nd == (3,) and layer.post_padding_nd == (0,)
    with pytest.raises(ValueError, match="post_padding_nd"):
        net.add_padding_nd(x, (1, 1), (1,))


# ---------------------------------------------------------------------------------------------
# Constant, identity and cast


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_constant_from_torch_and_numpy(dtype):
    torch.manual_seed(9)
    w = sample((2, 3), dtype)
    same(run(lambda n: n.add_constant((2, 3), w).get_output(0)), w)
    if dtype != torch.bfloat16:  # numpy has no bfloat16
        same(run(lambda n: n.add_constant((3, 2), w.numpy()).get_output(0)), w.reshape(3, 2))


def test_constant_attributes_and_errors():
    net = trt.Builder(trt.Logger()).create_network()
    layer = net.add_constant((2, 2), np.arange(4, dtype=np.int32))
    assert layer.shape == (2, 2) and layer.get_output(0).dtype == trt.int32
    assert layer.weights.numpy() == [0, 1, 2, 3]
    layer.shape = (4,)
    assert layer.get_output(0).shape == (4,)
    with pytest.raises(ValueError, match=r"weights: 4 values do not fill shape \(3,\)"):
        layer.shape = (3,)
    with pytest.raises(ValueError, match="add_constant"):
        net.add_constant((5,), np.zeros(4, dtype=np.float32))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_identity(dtype):
    x = sample((3, 4), dtype)
    same(run(lambda n, t: n.add_identity(t).get_output(0), x), x)


def cast_input(src, dst):
    """Values every conversion from src to dst defines the same way in torch (no float -> integer
    overflow, no negative float -> uint8)."""
    lo, hi = -100, 100
    if dst == torch.uint8 or src == torch.uint8:
        lo = 0
    if dst == torch.int8 or src == torch.int8:
        hi = 100
    x = sample((4, 16), src, lo, hi)
    if src.is_floating_point:  # fractions, so truncation toward zero shows
        x = (x.double() + torch.linspace(-0.75, 0.75, 64).reshape(4, 16)).clamp(lo, hi).to(src)
    return x


@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
def test_cast_is_tensor_to(src, dst):
    torch.manual_seed(10)
    x = cast_input(src, dst)
    same(run(lambda n, t: n.add_cast(t, _DT[dst]).get_output(0), x), x.to(dst))


def test_cast_attribute():
    net = trt.Builder(trt.Logger()).create_network()
    x = net.add_input("x", trt.float32, (2,))
    layer = net.add_cast(x, trt.int32)
    assert layer.to_type == trt.int32
    layer.to_type = trt.bool
    assert layer.get_output(0).dtype == trt.bool
    with pytest.raises(ValueError, match="to_type: casting to fp8 is not supported"):
        layer.to_type = trt.fp8
    assert layer.to_type == trt.bool
