"""Creation and dtype converters: Tensor.to / type / float / half / double / int / long / bool /
type_as, cpu / cuda, torch.tensor / as_tensor / Tensor.new_tensor / Tensor.new of network tensors,
full with a network fill value, linspace with network bounds, tril / triu.

Tensors created from Python values (torch.arange(n), torch.zeros(shape), torch.ones_like(x), ...)
do not depend on the network inputs: with static shapes the framework stores them as constants
where they are used, and these converters never run for them. They run when an argument is
computed from the network; an argument that would then decide the result's shape raises.

The engine has no float64: .double() and dtype=torch.float64 compute in float32 and the engine's
output is float32 where PyTorch's would be float64.
"""

import warnings

import numpy as np
import torch

from torch2trt import trt
from torch2trt.conversion import tensorrt_converter

from ._shape_utils import broadcast_to, concat, data_dependent, reshape, set_result
from ._utils import (
    cast_to,
    constant,
    elementwise,
    func_name,
    parse_args,
    reject,
    reject_out,
    scalar_like,
    select,
    set_trt,
    trt_tensor,
)

E = trt.ElementWiseOperation


def _note_float64(ctx, dtype):
    if dtype == torch.float64:
        warnings.warn(
            f"{func_name(ctx)}: the engine has no float64; this tensor is computed in float32",
            stacklevel=2,
        )


def _check_device(ctx, x_t, ret):
    if ret.device != x_t.device:
        reject(
            ctx,
            "device",
            str(ret.device),
            f"the engine runs on one device; moving a tensor from {x_t.device} inside the network is not supported",
        )


# ---------------------------------------------------------------------------------------------
# Dtype and device conversions: the torch result says which dtype and device were asked for, in
# whichever spelling (dtype, string, other tensor, positional or keyword)


@tensorrt_converter("torch.Tensor.to")
@tensorrt_converter("torch.Tensor.type")
@tensorrt_converter("torch.Tensor.type_as")
@tensorrt_converter("torch.Tensor.float")
@tensorrt_converter("torch.Tensor.half")
@tensorrt_converter("torch.Tensor.bfloat16")
@tensorrt_converter("torch.Tensor.double")
@tensorrt_converter("torch.Tensor.int")
@tensorrt_converter("torch.Tensor.long")
@tensorrt_converter("torch.Tensor.short")
@tensorrt_converter("torch.Tensor.char")
@tensorrt_converter("torch.Tensor.byte")
@tensorrt_converter("torch.Tensor.bool")
@tensorrt_converter("torch.Tensor.cpu")
@tensorrt_converter("torch.Tensor.cuda")
def convert_to(ctx):
    # non_blocking and memory_format change how the copy is made, never the values; copy=True
    # gives a new tensor, which the result (ret is not x) already is.
    x_t, ret = ctx.method_args[0], ctx.method_return
    if not isinstance(ret, torch.Tensor):
        return  # x.type() without a dtype returns the type's name
    _check_device(ctx, x_t, ret)
    if ret is x_t:
        return
    _note_float64(ctx, ret.dtype)
    set_trt(ctx, ret, cast_to(ctx, trt_tensor(ctx, x_t), ret.dtype))


# ---------------------------------------------------------------------------------------------
# Tensors made from values computed by the network


def _flatten_data(data, out):
    if isinstance(data, (list, tuple)):
        for d in data:
            _flatten_data(d, out)
    else:
        out.append(data)
    return out


@tensorrt_converter("torch.tensor")
@tensorrt_converter("torch.as_tensor")
@tensorrt_converter("torch.asarray")
@tensorrt_converter("torch.Tensor.new_tensor")
def convert_tensor(ctx):
    reject_out(ctx)
    method = func_name(ctx).startswith("torch.Tensor.")
    data = ctx.method_args[1] if method else (ctx.method_args[0] if ctx.method_args else ctx.method_kwargs["data"])
    ref = ctx.method_args[0] if method else None
    ret = ctx.method_return
    if ref is not None:
        _check_device(ctx, ref, ret)
    if isinstance(data, torch.Tensor):
        _check_device(ctx, data, ret)
        if ret is data:
            return
    _set_from_data(ctx, data, ret)


def _set_from_data(ctx, data, ret):
    """Binds `ret`, made by torch from `data` (a tensor, or a nested list of numbers and 0-d tensors)."""
    if isinstance(data, torch.Tensor):
        out = trt_tensor(ctx, data)
    else:
        # one element each, joined
        items = [reshape(ctx, cast_to(ctx, trt_tensor(ctx, v), ret.dtype), [1]) for v in _flatten_data(data, [])]
        out = reshape(ctx, concat(ctx, items, 0), ret.shape)
    _note_float64(ctx, ret.dtype)
    set_trt(ctx, ret, cast_to(ctx, out, ret.dtype))


@tensorrt_converter("torch.Tensor.new")
def convert_new(ctx):
    # The legacy constructor: x.new(tensor) aliases the tensor, x.new(list or tuple) copies the
    # data, x.new(*ints) / x.new(torch.Size) / x.new() is uninitialized memory of that size.
    x_t, args, ret = ctx.method_args[0], ctx.method_args[1:], ctx.method_return
    _check_device(ctx, x_t, ret)
    if len(args) == 1 and isinstance(args[0], (torch.Tensor, list, tuple)) and not isinstance(args[0], torch.Size):
        if isinstance(args[0], torch.Tensor):
            _check_device(ctx, args[0], ret)
        _set_from_data(ctx, args[0], ret)
        return
    # Sizes: the framework calls this converter for them only when one is computed by the network
    # (x itself gives only the dtype; with constant sizes the result is a constant).
    raise data_dependent(ctx, "size")


@tensorrt_converter("torch.full")
def convert_full(ctx):
    a = parse_args(ctx, "size", "fill_value")
    ret = ctx.method_return
    for s in a["size"]:
        if isinstance(s, torch.Tensor) and getattr(ctx, "is_network_tensor", lambda t: False)(s):
            raise data_dependent(ctx, "size")
    if isinstance(a["fill_value"], torch.Tensor):
        _check_device(ctx, a["fill_value"], ret)
    fill = cast_to(ctx, trt_tensor(ctx, a["fill_value"]), ret.dtype)
    if len(fill.shape) > ret.dim():
        fill = reshape(ctx, fill, [1] * ret.dim())
    _note_float64(ctx, ret.dtype)
    set_trt(ctx, ret, broadcast_to(ctx, fill, list(ret.shape)))


@tensorrt_converter("torch.linspace")
def convert_linspace(ctx):
    a = parse_args(ctx, "start", "end", "steps")
    ret = ctx.method_return
    if isinstance(a["steps"], torch.Tensor):
        raise data_dependent(ctx, "steps")
    steps = int(a["steps"])
    if not ret.is_floating_point():
        reject(ctx, "dtype", ret.dtype, "linspace with bounds computed by the network is converted for float dtypes")
    dtype = ret.dtype
    start = reshape(ctx, cast_to(ctx, trt_tensor(ctx, a["start"]), dtype), [1])
    end = reshape(ctx, cast_to(ctx, trt_tensor(ctx, a["end"]), dtype), [1])
    if steps == 1:
        set_trt(ctx, ret, start)
        return
    # PyTorch's formula: the first half counts up from start, the second half down from end
    step = elementwise(ctx, elementwise(ctx, end, start, E.SUB), scalar_like(ctx, steps - 1, start), E.DIV)
    i = np.arange(steps)
    up = elementwise(ctx, start, elementwise(ctx, constant(ctx, torch.tensor(i, dtype=dtype)), step, E.PROD), E.SUM)
    down_n = constant(ctx, torch.tensor(steps - 1 - i, dtype=dtype))
    down = elementwise(ctx, end, elementwise(ctx, down_n, step, E.PROD), E.SUB)
    first_half = constant(ctx, torch.from_numpy(i < steps // 2))
    _note_float64(ctx, dtype)
    set_trt(ctx, ret, select(ctx, first_half, up, down))


@tensorrt_converter("torch.arange")
@tensorrt_converter("torch.range")
@tensorrt_converter("torch.zeros")
@tensorrt_converter("torch.ones")
@tensorrt_converter("torch.empty")
@tensorrt_converter("torch.eye")
@tensorrt_converter("torch.logspace")
@tensorrt_converter("torch.randn")
@tensorrt_converter("torch.rand")
def convert_shape_from_values(ctx):
    # Only called when an argument is computed from the network: for these functions such an
    # argument is a size, bound or count, which decides the result's shape at run time.
    raise data_dependent(ctx, "a size, bound or count argument")


# ---------------------------------------------------------------------------------------------
# Triangles


@tensorrt_converter("torch.tril")
@tensorrt_converter("torch.Tensor.tril")
@tensorrt_converter("torch.Tensor.tril_")
@tensorrt_converter("torch.triu")
@tensorrt_converter("torch.Tensor.triu")
@tensorrt_converter("torch.Tensor.triu_")
def convert_tril(ctx):
    a = parse_args(ctx, "input", ("diagonal", 0))
    x_t = a["input"]
    k = int(a["diagonal"])
    m, n = x_t.shape[-2], x_t.shape[-1]
    lower = func_name(ctx).rsplit(".", 1)[-1].startswith("tril")
    keep = np.tril(np.ones((m, n), dtype=bool), k) if lower else np.triu(np.ones((m, n), dtype=bool), k)
    x = trt_tensor(ctx, x_t)
    out = select(ctx, constant(ctx, torch.from_numpy(keep)), x, scalar_like(ctx, 0, x))
    set_result(ctx, out)
