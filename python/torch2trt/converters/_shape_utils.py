"""Helpers for the shape, indexing and creation converters: data-movement layers on static shapes.

Shapes are static (the engine has the sample inputs' shapes), so these helpers take extents from
engine tensors and torch results and compute index arithmetic in numpy at conversion time.
"""

import numbers

import numpy as np
import torch

from torch2trt import trt

from ._utils import (
    constant,
    elementwise,
    func_name,
    identity,
    set_trt,
)
from ._utils import reshape as _reshape

__all__ = [
    "as_int",
    "broadcast_to",
    "concat",
    "data_dependent",
    "flat",
    "gather",
    "index_constant",
    "int_list",
    "is_static_value",
    "normalize_index",
    "reshape",
    "select_index",
    "set_result",
    "slice_layer",
    "split_sections",
    "static_numpy",
    "transpose",
    "varargs",
    "wrap_to",
]


# ---------------------------------------------------------------------------------------------
# Arguments


def as_int(ctx, value, what):
    """A Python int from an int or a 0-d tensor whose value does not depend on the network inputs."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"{func_name(ctx)}: {what} must be an int, got a tensor of shape {list(value.shape)}")
        if not is_static_value(ctx, value):
            raise data_dependent(ctx, what)
        return int(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func_name(ctx)}: {what} must be an int, got {type(value).__name__}")
    return int(value)


def int_list(ctx, value, what):
    """A list of ints from an int, a sequence of ints (torch.Size, tuple, list) or a 1-d static tensor."""
    if isinstance(value, torch.Tensor):
        if not is_static_value(ctx, value):
            raise data_dependent(ctx, what)
        return [int(v) for v in value.reshape(-1).tolist()]
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return [int(value)]
    return [as_int(ctx, v, what) for v in value]


def varargs(ctx, name, start):
    """Ints of a call taking them either spread out or as one sequence (x.permute(2, 0, 1) and
    x.permute((2, 0, 1)), x.flip(0, 1) and x.flip(dims=[0, 1])), from position `start`."""
    if name in ctx.method_kwargs:
        return int_list(ctx, ctx.method_kwargs[name], name)
    rest = ctx.method_args[start:]
    if len(rest) == 1 and not isinstance(rest[0], numbers.Integral):
        return int_list(ctx, rest[0], name)
    return [as_int(ctx, v, name) for v in rest]


def set_result(ctx, t, ret=None):
    """Binds engine tensor `t` to the call's result (or `ret`).

    An in-place call (x.squeeze_(), x.detach_()) that leaves the value unchanged gets an identity
    layer: the framework recognises a modified tensor by a newly bound engine tensor.
    """
    ret = ctx.method_return if ret is None else ret
    name = func_name(ctx).rsplit(".", 1)[-1]
    inplace = name.endswith("_") and not name.startswith("__")
    if inplace and ret.__dict__.get("_trt") is t:
        t = identity(ctx, t)
    return set_trt(ctx, ret, t)


# ---------------------------------------------------------------------------------------------
# Static values


def is_static_value(ctx, tensor):
    """True when `tensor`'s values do not depend on the network inputs (they can be read now)."""
    checker = getattr(ctx, "is_network_tensor", None)
    if checker is None:
        return getattr(tensor, "_trt", None) is None
    return not checker(tensor)


def static_numpy(ctx, tensor, what):
    """The values of a tensor that does not depend on the network inputs, as numpy."""
    if not is_static_value(ctx, tensor):
        raise data_dependent(ctx, what)
    return tensor.detach().cpu().numpy()


def data_dependent(ctx, what):
    """The error for an argument whose value would decide an output shape at run time."""
    return NotImplementedError(
        f"{func_name(ctx)}: {what} is computed from the network inputs and decides the shape of the result; "
        f"engines have static shapes, so it must be a constant (a Python value, a parameter or a buffer)"
    )


# ---------------------------------------------------------------------------------------------
# Layers


def reshape(ctx, t, shape):
    """`t` reshaped to the static `shape`; extents of 0 (empty tensors) mean 0, not "copy the input's"."""
    shape = [int(s) for s in shape]
    if 0 not in shape:
        return _reshape(ctx, t, shape)
    layer = ctx.network.add_shuffle(t)
    layer.zero_is_placeholder = False
    layer.reshape_dims = shape
    return layer.get_output(0)


def transpose(ctx, t, perm):
    """`t` with its dims permuted (output dim i is input dim perm[i]); no layer for the identity."""
    perm = [int(p) for p in perm]
    if perm == list(range(len(perm))):
        return t
    layer = ctx.network.add_shuffle(t)
    layer.first_transpose = perm
    return layer.get_output(0)


def slice_layer(ctx, t, start, shape, stride, mode=None):
    """A slice layer's output (`mode` a trt.SampleMode; default strict bounds); no layer for the identity."""
    start, shape, stride = [int(v) for v in start], [int(v) for v in shape], [int(v) for v in stride]
    if mode is None and shape == list(t.shape) and not any(start) and all(s == 1 for s in stride):
        return t
    layer = ctx.network.add_slice(t, start, shape, stride)
    if mode is not None:
        layer.mode = mode
    return layer.get_output(0)


def wrap_to(ctx, t, shape, start=None):
    """Tiles `t` periodically to `shape` (same rank): out[i] = t[(start + i) mod extent] per dim.

    This one layer expands size-1 dims (expand, broadcast_to), repeats whole tensors (repeat, tile)
    and rotates them (roll).
    """
    shape = [int(s) for s in shape]
    start = [0] * len(shape) if start is None else [int(s) for s in start]
    if shape == list(t.shape) and not any(start):
        return t
    return slice_layer(ctx, t, start, shape, [1] * len(shape), trt.SampleMode.WRAP)


def broadcast_to(ctx, t, shape):
    """`t` broadcast (numpy rules) to the static `shape`."""
    shape = [int(s) for s in shape]
    have = list(t.shape)
    if len(have) > len(shape):
        raise ValueError(f"{list(have)} cannot be broadcast to {shape}: it has more dims")
    padded = [1] * (len(shape) - len(have)) + have
    for a, b in zip(padded, shape):
        if a != b and a != 1:
            raise ValueError(f"shape {have} cannot be broadcast to {shape}")
    return wrap_to(ctx, reshape(ctx, t, padded), shape)


def concat(ctx, tensors, axis):
    """Concatenation of engine tensors along `axis`; the tensor itself when there is one."""
    if len(tensors) == 1:
        return tensors[0]
    layer = ctx.network.add_concatenation(list(tensors))
    layer.axis = int(axis)
    return layer.get_output(0)


def select_index(ctx, t, dim, index):
    """`t` at position `index` of `dim`, that dim removed (torch.select)."""
    shape = list(t.shape)
    start = [0] * len(shape)
    start[dim] = index
    size = list(shape)
    size[dim] = 1
    out = slice_layer(ctx, t, start, size, [1] * len(shape))
    return reshape(ctx, out, shape[:dim] + shape[dim + 1 :])


def split_sections(ctx, t, dim, bounds):
    """Slices [begin, end) of `dim` for each (begin, end) in `bounds`."""
    shape = list(t.shape)
    outs = []
    for begin, end in bounds:
        start = [0] * len(shape)
        start[dim] = begin
        size = list(shape)
        size[dim] = max(end - begin, 0)
        outs.append(slice_layer(ctx, t, start, size, [1] * len(shape)))
    return outs


def index_constant(ctx, values):
    """A constant index tensor (int32 when the values fit, as gathers read them fastest)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0 or (values.min() >= -(2**31) and values.max() < 2**31):
        values = values.astype(np.int32)
    return constant(ctx, torch.from_numpy(np.ascontiguousarray(values)))


def gather(ctx, t, indices, axis, mode=None):
    """A gather layer's output: DEFAULT mode (data[..., idx, ...]) or `mode` (a trt.GatherMode)."""
    layer = ctx.network.add_gather(t, indices, int(axis))
    if mode is not None:
        layer.mode = mode
    return layer.get_output(0)


def flat(ctx, t):
    """`t` as a 1-d tensor."""
    return reshape(ctx, t, [trt.volume(t.shape)])


def normalize_index(ctx, idx, extent):
    """Integer engine tensor `idx` with negative entries made positive (idx mod extent, Python's rule)."""
    n = constant(ctx, torch.tensor(extent, dtype=_torch_int(idx.dtype)))
    q = elementwise(ctx, idx, n, trt.ElementWiseOperation.FLOOR_DIV)
    return elementwise(ctx, idx, elementwise(ctx, q, n, trt.ElementWiseOperation.PROD), trt.ElementWiseOperation.SUB)


def _torch_int(dtype):
    if dtype == trt.DataType.INT32:
        return torch.int32
    if dtype == trt.DataType.INT64:
        return torch.int64
    raise TypeError(f"index tensors must be int32 or int64, got {dtype}")
