"""Helpers shared by the converters: argument access, constants, dtypes, broadcasting, dims.

Converters run after the torch call they convert has returned, so every argument is already valid
for torch; these helpers only translate. Shapes are static (explicit batch, no dynamic shapes), so
a converter may read extents from the torch tensors themselves.
"""

import numbers

import torch

import torch2trt.trt as trt
from torch2trt.conversion import torch_dtype_to_trt as _strict_torch_dtype_to_trt
from torch2trt.conversion import trt_dtype_to_torch

__all__ = [
    "get_arg",
    "parse_args",
    "reject",
    "reject_out",
    "is_tensor",
    "has_trt",
    "trt_tensors",
    "trt_tensor",
    "constant",
    "weight",
    "is_network_tensor",
    "scalar_constant",
    "cast",
    "cast_to",
    "reshape",
    "unsqueeze_to_rank",
    "broadcast",
    "broadcast_trt_tensors",
    "torch_dtype_to_trt",
    "trt_to_torch_dtype",
    "norm_dim",
    "norm_dims",
    "axes_mask",
    "set_trt",
    "elementwise",
    "unary",
    "identity",
    "func_name",
    "lazy_enum",
    "name_converters",
    "register",
    "torch_has",
    "promoted_dtype",
    "scalar_like",
    "select",
    "trunc",
    "FLOAT_TYPES",
    "INT_TYPES",
]


# ---------------------------------------------------------------------------------------------
# Engine enums


class _LazyEnum:
    """`trt.<name>` looked up at first use, so that importing the converters never depends on which
    layer families the engine build has (a missing one fails in the converter that needs it)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return getattr(getattr(trt, self._name), attr)


def lazy_enum(name):
    """A stand-in for `trt.<name>` resolved when an attribute is read."""
    return _LazyEnum(name)


def register(names, fn):
    """Registers converter `fn` for each dotted torch name in `names`; returns `fn`."""
    from torch2trt.conversion import tensorrt_converter

    for n in names:
        fn = tensorrt_converter(n)(fn)
    return fn


def torch_has(dotted):
    """True if the dotted name ('torch.special.expit') exists in this torch version."""
    obj = torch
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return True


def name_converters(namespace):
    """Gives converters made by factory functions the module-level name they are bound to, so that
    error messages, report() and docs/converters.md show `convert_sum` rather than `_factory.<locals>.convert`."""
    for key, value in list(namespace.items()):
        if key.startswith("convert_") and callable(value) and "<locals>" in getattr(value, "__qualname__", ""):
            value.__name__ = value.__qualname__ = key


# ---------------------------------------------------------------------------------------------
# Arguments


class _Missing:
    def __repr__(self):
        return "<required>"


REQUIRED = _Missing()


def get_arg(ctx, name, pos, default):
    """Argument `name` of the converted call: a keyword if given, else positional `pos`, else `default`."""
    if name in ctx.method_kwargs:
        return ctx.method_kwargs[name]
    if pos is not None and len(ctx.method_args) > pos:
        return ctx.method_args[pos]
    return default


def parse_args(ctx, *spec):
    """Binds the converted call's arguments to names.

    `spec` lists (name, default) pairs in positional order, or plain names for required ones; keyword
    arguments win over positions. Returns a dict. `out=` is rejected here once for every converter:
    writing into a caller's tensor is not something an engine can do.
    """
    reject_out(ctx)
    values = {}
    for pos, item in enumerate(spec):
        name, default = (item, REQUIRED) if isinstance(item, str) else item
        value = get_arg(ctx, name, pos, default)
        if value is REQUIRED:
            raise TypeError(f"{func_name(ctx)}: missing argument '{name}'")
        values[name] = value
    return values


def func_name(ctx):
    """Dotted name of the torch callable being converted, for error messages."""
    return getattr(ctx, "method_name", None) or "converter"


def reject(ctx, arg, value, why=""):
    """Raises NotImplementedError naming the argument and value the engine cannot honour."""
    msg = f"{func_name(ctx)}: {arg}={value!r} is not supported"
    raise NotImplementedError(msg + (f" ({why})" if why else ""))


def reject_out(ctx):
    """Raises for `out=`: an engine cannot write into a caller's tensor."""
    if ctx.method_kwargs.get("out", None) is not None:
        raise NotImplementedError(f"{func_name(ctx)}: out= is not supported (an engine cannot write into a caller's "
                                  f"tensor; assign the result instead)")


# ---------------------------------------------------------------------------------------------
# Data types

def torch_dtype_to_trt(dtype):
    """trt.DataType of a torch dtype; float64 maps to FLOAT (the engine computes doubles in float32,
    as part B's .double() converter documents)."""
    return _strict_torch_dtype_to_trt(torch.float32 if dtype == torch.float64 else dtype)


def trt_to_torch_dtype(dtype):
    """torch dtype of a trt.DataType."""
    return trt_dtype_to_torch(dtype)


FLOAT_TYPES = (trt.DataType.FLOAT, trt.DataType.HALF, trt.DataType.BF16)
INT_TYPES = (trt.DataType.INT8, trt.DataType.UINT8, trt.DataType.INT32, trt.DataType.INT64, trt.DataType.BOOL)


# ---------------------------------------------------------------------------------------------
# Tensors


def is_tensor(x):
    """True for a torch tensor."""
    return isinstance(x, torch.Tensor)


def has_trt(x):
    """True for a torch tensor bound to an engine tensor."""
    return isinstance(x, torch.Tensor) and getattr(x, "_trt", None) is not None


def set_trt(ctx, output, trt_tensor):
    """Binds `trt_tensor` to the torch tensor `output`.

    Goes through the context when it offers `set_trt` (it keeps the seed-004 `trt_tensors` dict in
    sync); otherwise sets the attribute, which is what the seeds document.
    """
    setter = getattr(ctx, "set_trt", None)
    if setter is not None:
        setter(output, trt_tensor)
    else:
        output._trt = trt_tensor
    return trt_tensor


def constant(ctx, value, shape=None, dtype=None):
    """Constant layer output holding `value` (a torch tensor, numpy array or Python number).

    `dtype` is a torch dtype to convert to first; `shape` reshapes (same element count), so that
    weights get the layout a layer needs without a shuffle at run time. A tensor used as it is
    becomes one constant per conversion however often it is used (the context caches it).
    """
    if isinstance(value, torch.Tensor) and shape is None and (dtype is None or dtype == value.dtype):
        add = getattr(ctx, "add_constant", None)
        if add is not None:
            return add(value)
    t = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    if dtype is not None:
        t = t.to(dtype)
    if t.dtype == torch.float64:
        t = t.float()
    torch_dtype_to_trt(t.dtype)  # a clear TypeError for dtypes the engine has not
    t = t.cpu().contiguous()
    if shape is not None:
        t = t.reshape(tuple(int(s) for s in shape))
    return ctx.network.add_constant(tuple(t.shape), t).get_output(0)


def is_network_tensor(ctx, t):
    """True if torch tensor `t` is computed from the network inputs (else it is a constant)."""
    f = getattr(ctx, "is_network_tensor", None)
    if f is not None:
        return f(t)
    return getattr(t, "_trt", None) is not None


def weight(ctx, w, shape=None, dtype=None):
    """Engine tensor for a weight-like torch tensor, in `shape` and torch `dtype` when given.

    Parameters and buffers become a constant already in the wanted layout; a weight computed in the
    network (from the inputs) is reshaped and cast by layers.
    """
    if is_network_tensor(ctx, w):
        t = trt_tensor(ctx, w)
        if dtype is not None:
            t = cast_to(ctx, t, dtype)
        return reshape(ctx, t, shape) if shape is not None else t
    return constant(ctx, w, shape=shape, dtype=dtype)


def scalar_constant(ctx, value, dtype, rank=0):
    """Constant of one element with torch dtype `dtype`, shaped (1,) * rank for broadcasting."""
    return constant(ctx, torch.tensor(value, dtype=dtype).reshape((1,) * rank))


def trt_tensor(ctx, x, dtype=None):
    """The engine tensor for one torch tensor or number (see trt_tensors)."""
    return trt_tensors(ctx, x, dtype=dtype)[0]


def trt_tensors(ctx, *values, dtype=None):
    """Engine tensors for torch tensors and Python numbers.

    Tensors carrying `_trt` give it; other tensors (parameters, buffers, values made in forward)
    become constants, through the context's `get_trt_tensor` when it has one so that a tensor
    produced by an unsupported call is reported there by name. Numbers become one-element
    constants. With `dtype` (a torch dtype) every result is cast to it; without it numbers take
    torch's promoted dtype of all the values.
    """
    scalar_dtype = promoted_dtype(values) if dtype is None else dtype
    # Numbers only ever broadcast: give them the largest rank among the tensors so that no reshape
    # is needed later.
    scalar_rank = max([v.dim() for v in values if isinstance(v, torch.Tensor)] or [0])
    out = []
    for v in values:
        if isinstance(v, torch.Tensor):
            getter = getattr(ctx, "get_trt_tensor", None)
            if getter is not None:  # also reports a tensor made by an unsupported call, by name
                t = getter(v)
            else:
                t = getattr(v, "_trt", None)
                if t is None:
                    t = constant(ctx, v)
        elif isinstance(v, (bool, numbers.Number)):
            if isinstance(v, complex):
                raise TypeError(f"{func_name(ctx)}: complex numbers are not supported")
            t = scalar_constant(ctx, v, scalar_dtype, rank=scalar_rank)
        elif isinstance(v, trt.ITensor):
            t = v
        else:
            raise TypeError(f"{func_name(ctx)}: expected a tensor or a number, got {type(v).__name__}")
        if dtype is not None:
            t = cast_to(ctx, t, dtype)
        out.append(t)
    return out


def promoted_dtype(values):
    """torch's result dtype for an operation on `values` (tensors and numbers), as torch.result_type."""
    acc = None
    for v in values:
        if isinstance(v, torch.Tensor):
            v = torch.empty((0,) if v.dim() else (), dtype=v.dtype)
        elif not isinstance(v, (bool, numbers.Number)) or isinstance(v, complex):
            continue
        if acc is None:
            acc = v
            continue
        d = torch.result_type(acc, v)
        dimmed = any(isinstance(x, torch.Tensor) and x.dim() for x in (acc, v))
        if dimmed or isinstance(acc, torch.Tensor) or isinstance(v, torch.Tensor):
            acc = torch.empty((0,) if dimmed else (), dtype=d)
        else:
            acc = torch.zeros((), dtype=d).item()
    if acc is None:
        return torch.get_default_dtype()
    return acc.dtype if isinstance(acc, torch.Tensor) else torch.tensor(acc).dtype


def cast(ctx, t, trt_dtype):
    """`t` converted to engine dtype `trt_dtype` (no layer when it already has it)."""
    if t.dtype == trt_dtype:
        return t
    return ctx.network.add_cast(t, trt_dtype).get_output(0)


def cast_to(ctx, t, torch_dtype):
    """`t` converted to the engine dtype of torch dtype `torch_dtype`."""
    return cast(ctx, t, torch_dtype_to_trt(torch_dtype))


def reshape(ctx, t, shape):
    """`t` reshaped to static `shape` with a shuffle layer (no layer when the shape already matches)."""
    shape = tuple(int(s) for s in shape)
    if tuple(t.shape) == shape:
        return t
    layer = ctx.network.add_shuffle(t)
    layer.reshape_dims = shape
    return layer.get_output(0)


def unsqueeze_to_rank(ctx, t, rank):
    """`t` with leading 1s added until it has `rank` dims (numpy broadcasting alignment)."""
    shape = tuple(t.shape)
    if len(shape) >= rank:
        return t
    return reshape(ctx, t, (1,) * (rank - len(shape)) + shape)


def broadcast_trt_tensors(ctx, trts, rank=None):
    """Engine tensors brought to one rank (the largest, or `rank`) by adding leading 1s."""
    rank = max(len(t.shape) for t in trts) if rank is None else rank
    return [unsqueeze_to_rank(ctx, t, rank) for t in trts]


def broadcast(ctx, *values, dtype=None):
    """trt_tensors() of the values, cast to `dtype` if given and brought to one rank."""
    return broadcast_trt_tensors(ctx, trt_tensors(ctx, *values, dtype=dtype))


# ---------------------------------------------------------------------------------------------
# Layers used by many converters


def elementwise(ctx, a, b, op):
    """a op b on engine tensors of one dtype, broadcast to one rank first."""
    a, b = broadcast_trt_tensors(ctx, [a, b])
    return ctx.network.add_elementwise(a, b, op).get_output(0)


def unary(ctx, t, op):
    """op(t) through a unary layer."""
    return ctx.network.add_unary(t, op).get_output(0)


def identity(ctx, t):
    """A copy of `t` (a new engine tensor with the same values)."""
    return ctx.network.add_identity(t).get_output(0)


def scalar_like(ctx, value, like):
    """One-element constant in engine tensor `like`'s dtype, shaped to broadcast against it."""
    return scalar_constant(ctx, value, trt_to_torch_dtype(like.dtype), rank=len(like.shape))


def select(ctx, cond, a, b):
    """cond ? a : b on engine tensors (cond bool), broadcast to one rank."""
    cond, a, b = broadcast_trt_tensors(ctx, [cond, a, b])
    return ctx.network.add_select(cond, a, b).get_output(0)


def trunc(ctx, x):
    """Rounds toward zero: floor for x >= 0, ceil below (the engine has no TRUNC operation)."""
    if x.dtype in INT_TYPES:
        return x
    U, E = trt.UnaryOperation, trt.ElementWiseOperation
    neg = elementwise(ctx, x, scalar_like(ctx, 0, x), E.LESS)
    return select(ctx, neg, unary(ctx, x, U.CEIL), unary(ctx, x, U.FLOOR))


# ---------------------------------------------------------------------------------------------
# Dims


def norm_dim(dim, rank, what="dim"):
    """`dim` in [0, rank) (negative dims count from the end); a 0-d tensor accepts 0 and -1."""
    dim = int(dim)
    r = max(rank, 1)
    if not -r <= dim < r:
        raise IndexError(f"{what}={dim} is out of range for a tensor of rank {rank}")
    return dim % r


def norm_dims(dims, rank, what="dim"):
    """A sorted tuple of distinct dims for an int, a sequence, or None (all dims)."""
    if dims is None:
        return tuple(range(rank))
    if isinstance(dims, int) or (isinstance(dims, torch.Tensor) and dims.dim() == 0):
        dims = [int(dims)]
    out = sorted({norm_dim(d, rank, what) for d in dims})
    if len(out) != len(list(dims)):
        raise ValueError(f"{what}={tuple(dims)} repeats a dimension")
    return tuple(out)


def axes_mask(dims):
    """Bitmask of dims, as the engine's reduce/softmax/topk/normalization layers take them."""
    m = 0
    for d in dims:
        m |= 1 << int(d)
    return m
