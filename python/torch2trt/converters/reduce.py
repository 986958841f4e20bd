"""Reduction converters: sum/mean/prod, max/min (all forms), amax/amin, argmax/argmin, std/var,
norms, logsumexp, all/any, cumsum, softmax/log_softmax, topk, sort/argsort.

Reductions that return indices go through the TopK layer (k=1 for max/min/argmax/argmin), whose
ties resolve to the lowest index as torch does. Indices come out of the engine as int32 and are
cast to torch's int64.
"""

import math

import torch

import torch2trt.trt as trt
from torch2trt.conversion import tensorrt_converter

from ._utils import (
    axes_mask,
    cast,
    cast_to,
    elementwise,
    identity,
    lazy_enum,
    name_converters,
    norm_dim,
    norm_dims,
    parse_args,
    register,
    reject,
    reject_out,
    reshape,
    scalar_like,
    select,
    set_trt,
    torch_has,
    trt_tensor,
    unary,
)

R = lazy_enum("ReduceOperation")
E = lazy_enum("ElementWiseOperation")
U = lazy_enum("UnaryOperation")


def _forms(base, inplace=False):
    names = [f"torch.{base}", f"torch.Tensor.{base}"]
    if inplace:
        names.append(f"torch.Tensor.{base}_")
    return [n for n in names if torch_has(n)]


def _dims_arg(dim, rank):
    """torch's dim argument: None, an int, or a sequence; an empty sequence means every dim."""
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return tuple(range(rank))
    return norm_dims(dim, rank)


def reduce(ctx, x, op, dims, keepdim):
    """Reduces engine tensor `x` over `dims` (a tuple of normalised dims)."""
    if len(x.shape) == 0 or not dims:
        return identity(ctx, x)
    return ctx.network.add_reduce(x, op, axes_mask(dims), bool(keepdim)).get_output(0)


def _squeeze_dim(ctx, t, dim):
    shape = list(t.shape)
    del shape[dim]
    return reshape(ctx, t, shape)


def topk(ctx, x, k, dim, largest, keepdim=True):
    """(values, int64 indices) of the k largest/smallest entries along `dim` of engine tensor `x`."""
    rank = len(x.shape)
    if rank == 0:
        x = reshape(ctx, x, (1,))
        dim = 0
    layer = ctx.network.add_topk(x, trt.TopKOperation.MAX if largest else trt.TopKOperation.MIN, int(k),
                                 axes_mask([dim]))
    values, indices = layer.get_output(0), cast(ctx, layer.get_output(1), trt.DataType.INT64)
    if rank == 0:
        return reshape(ctx, values, ()), reshape(ctx, indices, ())
    if not keepdim:
        values, indices = _squeeze_dim(ctx, values, dim), _squeeze_dim(ctx, indices, dim)
    return values, indices


# ---------------------------------------------------------------------------------------------
# sum / mean / prod


def _simple_reduce(op):
    def convert(ctx):
        a = parse_args(ctx, "input", ("dim", None), ("keepdim", False))
        inp, out = a["input"], ctx.method_return
        dim = a["dim"]
        if isinstance(dim, torch.dtype):  # torch.sum(x, torch.float64) style positional dtype
            dim = None
        # dtype= and torch's integer-to-int64 promotion both show in the result's dtype.
        x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
        set_trt(ctx, out, reduce(ctx, x, op, _dims_arg(dim, inp.dim()), a["keepdim"]))

    return convert


convert_sum = register(_forms("sum") + ["torch.nansum"] * 0, _simple_reduce(R.SUM))
convert_mean = register(_forms("mean"), _simple_reduce(R.AVG))
convert_prod = register(_forms("prod"), _simple_reduce(R.PROD))


# ---------------------------------------------------------------------------------------------
# max / min / amax / amin / argmax / argmin


def _max_min(largest):
    op = R.MAX if largest else R.MIN
    name = "max" if largest else "min"

    def convert(ctx):
        reject_out(ctx)
        args, kwargs = ctx.method_args, ctx.method_kwargs
        inp, out = args[0], ctx.method_return
        other = kwargs.get("other", args[1] if len(args) > 1 and isinstance(args[1], torch.Tensor) else None)
        dim = kwargs.get("dim", args[1] if len(args) > 1 and not isinstance(args[1], torch.Tensor) else None)
        keepdim = kwargs.get("keepdim", args[2] if len(args) > 2 else False)
        x = trt_tensor(ctx, inp)
        if other is not None:  # torch.max(input, other): elementwise
            o = trt_tensor(ctx, other, dtype=out.dtype)
            x = cast_to(ctx, x, out.dtype)
            set_trt(ctx, out, elementwise(ctx, x, o, E.MAX if largest else E.MIN))
        elif dim is None:  # full reduction to a 0-d tensor
            set_trt(ctx, out, _bool_safe_reduce(ctx, x, op, tuple(range(inp.dim())), False))
        else:  # (values, indices) along dim
            d = norm_dim(dim, inp.dim())
            values, indices = topk(ctx, _bool_as_int(ctx, x), 1, d, largest, keepdim)
            set_trt(ctx, out[0], cast_to(ctx, values, out[0].dtype))
            set_trt(ctx, out[1], indices)

    convert.__name__ = f"convert_{name}"
    return convert


def _bool_as_int(ctx, x):
    return cast(ctx, x, trt.DataType.INT32) if x.dtype in (trt.DataType.BOOL, trt.DataType.UINT8,
                                                            trt.DataType.INT8) else x


def _bool_safe_reduce(ctx, x, op, dims, keepdim):
    """MAX/MIN also for bool/int8/uint8 tensors, which the reduce layer does not take."""
    y = reduce(ctx, _bool_as_int(ctx, x), op, dims, keepdim)
    return cast(ctx, y, x.dtype)


convert_max = register(_forms("max"), _max_min(True))
convert_min = register(_forms("min"), _max_min(False))


def _amax_amin(op):
    def convert(ctx):
        a = parse_args(ctx, "input", ("dim", ()), ("keepdim", False))
        inp = a["input"]
        x = trt_tensor(ctx, inp)
        set_trt(ctx, ctx.method_return, _bool_safe_reduce(ctx, x, op, _dims_arg(a["dim"], inp.dim()), a["keepdim"]))

    return convert


convert_amax = register(_forms("amax"), _amax_amin(R.MAX))
convert_amin = register(_forms("amin"), _amax_amin(R.MIN))


def _arg(largest):
    def convert(ctx):
        a = parse_args(ctx, "input", ("dim", None), ("keepdim", False))
        inp, out = a["input"], ctx.method_return
        x = _bool_as_int(ctx, trt_tensor(ctx, inp))
        if a["dim"] is None:
            # Index into the flattened tensor; keepdim gives all-ones dims as torch does.
            flat = reshape(ctx, x, (inp.numel(),))
            _, idx = topk(ctx, flat, 1, 0, largest, keepdim=False)
            set_trt(ctx, out, reshape(ctx, idx, tuple(out.shape)))
            return
        d = norm_dim(a["dim"], inp.dim())
        _, idx = topk(ctx, x, 1, d, largest, a["keepdim"])
        set_trt(ctx, out, idx)

    return convert


convert_argmax = register(_forms("argmax"), _arg(True))
convert_argmin = register(_forms("argmin"), _arg(False))


# ---------------------------------------------------------------------------------------------
# var / std


def _var_args(ctx):
    """(input, dims, correction, keepdim) across torch's var/std signatures."""
    reject_out(ctx)
    args, kw = list(ctx.method_args), dict(ctx.method_kwargs)
    inp = args.pop(0) if args else kw.pop("input")
    dim, correction, keepdim = None, 1, False
    if args and isinstance(args[0], bool):  # var(input, unbiased)
        correction = int(args.pop(0))
    else:
        if args:
            dim = args.pop(0)
        if args and isinstance(args[0], bool):  # var(input, dim, unbiased, keepdim)
            correction = int(args.pop(0))
        if args:
            keepdim = args.pop(0)
    dim = kw.get("dim", dim)
    if "unbiased" in kw:
        correction = int(bool(kw["unbiased"]))
    if kw.get("correction", None) is not None:
        correction = kw["correction"]
    keepdim = kw.get("keepdim", keepdim)
    return inp, _dims_arg(dim, inp.dim()), correction, bool(keepdim)


def _variance(ctx, x, dims, correction, keepdim, shape):
    mean = reduce(ctx, x, R.AVG, dims, True)
    d = elementwise(ctx, x, mean, E.SUB)
    ss = reduce(ctx, elementwise(ctx, d, d, E.PROD), R.SUM, dims, keepdim)
    n = 1
    for i in dims:
        n *= shape[i]
    # torch divides by max(0, N - correction): zero gives inf/nan exactly as there.
    denom = max(0.0, n - float(correction))
    var = elementwise(ctx, ss, scalar_like(ctx, denom, ss), E.DIV)
    return var, (mean if keepdim else reshape(ctx, mean, tuple(var.shape)))


def _var_std(std, with_mean):
    def convert(ctx):
        inp, dims, correction, keepdim = _var_args(ctx)
        out = ctx.method_return
        x = cast_to(ctx, trt_tensor(ctx, inp), (out[0] if with_mean else out).dtype)
        var, mean = _variance(ctx, x, dims, correction, keepdim, tuple(inp.shape))
        y = unary(ctx, var, U.SQRT) if std else var
        if with_mean:
            set_trt(ctx, out[0], y)
            set_trt(ctx, out[1], mean)
        else:
            set_trt(ctx, out, y)

    return convert


convert_var = register(_forms("var"), _var_std(False, False))
convert_std = register(_forms("std"), _var_std(True, False))
convert_var_mean = register(["torch.var_mean"], _var_std(False, True))
convert_std_mean = register(["torch.std_mean"], _var_std(True, True))


# ---------------------------------------------------------------------------------------------
# norms


def vector_norm(ctx, x, p, dims, keepdim):
    """The p-norm of engine tensor `x` over `dims`, as torch.linalg.vector_norm."""
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm: p={p!r} is not supported (matrix norms other than 'fro')")
        p = 2
    p = float(p)
    ax = unary(ctx, x, U.ABS)
    if p == math.inf:
        return reduce(ctx, ax, R.MAX, dims, keepdim)
    if p == -math.inf:
        return reduce(ctx, ax, R.MIN, dims, keepdim)
    if p == 0:
        nz = unary(ctx, elementwise(ctx, x, scalar_like(ctx, 0, x), E.EQUAL), U.NOT)
        return reduce(ctx, cast(ctx, nz, x.dtype), R.SUM, dims, keepdim)
    if p == 1:
        return reduce(ctx, ax, R.SUM, dims, keepdim)
    if p == 2:
        return unary(ctx, reduce(ctx, elementwise(ctx, x, x, E.PROD), R.SUM, dims, keepdim), U.SQRT)
    powed = elementwise(ctx, ax, scalar_like(ctx, p, ax), E.POW)
    s = reduce(ctx, powed, R.SUM, dims, keepdim)
    return elementwise(ctx, s, scalar_like(ctx, 1.0 / p, s), E.POW)


@tensorrt_converter("torch.norm")
@tensorrt_converter("torch.Tensor.norm")
def convert_norm(ctx):
    a = parse_args(ctx, "input", ("p", "fro"), ("dim", None), ("keepdim", False), ("dtype", None))
    inp, out = a["input"], ctx.method_return
    p = a["p"]
    if p is None:
        p = "fro"
    if p == "nuc":
        reject(ctx, "p", p, "the nuclear norm needs a singular value decomposition")
    dims = _dims_arg(a["dim"], inp.dim())
    x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
    set_trt(ctx, out, vector_norm(ctx, x, p, dims, a["keepdim"]))


@tensorrt_converter("torch.linalg.vector_norm")
def convert_vector_norm(ctx):
    a = parse_args(ctx, "x", ("ord", 2), ("dim", None), ("keepdim", False))
    inp, out = a["x"], ctx.method_return
    x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
    set_trt(ctx, out, vector_norm(ctx, x, a["ord"], _dims_arg(a["dim"], inp.dim()), a["keepdim"]))


@tensorrt_converter("torch.linalg.norm")
def convert_linalg_norm(ctx):
    a = parse_args(ctx, "input", ("ord", None), ("dim", None), ("keepdim", False))
    inp, out = a["input"], ctx.method_return
    ord_, dim = a["ord"], a["dim"]
    # Matrix norms (2-d input or a 2-dim `dim` with an explicit ord) other than 'fro' need an SVD.
    matrix = (dim is None and inp.dim() == 2) or (isinstance(dim, (list, tuple)) and len(dim) == 2)
    if ord_ is not None and matrix and ord_ != "fro":
        reject(ctx, "ord", ord_, "matrix norms other than 'fro' are not supported")
    x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
    p = 2 if ord_ is None else ord_
    set_trt(ctx, out, vector_norm(ctx, x, p, _dims_arg(dim, inp.dim()), a["keepdim"]))


# ---------------------------------------------------------------------------------------------
# logsumexp, all / any


@tensorrt_converter("torch.logsumexp")
@tensorrt_converter("torch.Tensor.logsumexp")
@tensorrt_converter("torch.special.logsumexp")
def convert_logsumexp(ctx):
    a = parse_args(ctx, "input", "dim", ("keepdim", False))
    inp, out = a["input"], ctx.method_return
    dims = _dims_arg(a["dim"], inp.dim())
    x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
    m = reduce(ctx, x, R.MAX, dims, True)
    # Where the max is infinite torch shifts by 0 instead (so all -inf gives -inf, not nan).
    m = select(ctx, unary(ctx, m, U.ISINF), scalar_like(ctx, 0.0, m), m)
    s = reduce(ctx, unary(ctx, elementwise(ctx, x, m, E.SUB), U.EXP), R.SUM, dims, a["keepdim"])
    m_out = m if a["keepdim"] else reshape(ctx, m, tuple(s.shape))
    set_trt(ctx, out, elementwise(ctx, unary(ctx, s, U.LOG), m_out, E.SUM))


def _all_any(op):
    def convert(ctx):
        a = parse_args(ctx, "input", ("dim", None), ("keepdim", False))
        inp, out = a["input"], ctx.method_return
        b = cast(ctx, cast(ctx, trt_tensor(ctx, inp), trt.DataType.BOOL), trt.DataType.INT32)
        y = reduce(ctx, b, op, _dims_arg(a["dim"], inp.dim()), a["keepdim"])
        set_trt(ctx, out, cast_to(ctx, cast(ctx, y, trt.DataType.BOOL), out.dtype))

    return convert


convert_all = register(_forms("all"), _all_any(R.MIN))
convert_any = register(_forms("any"), _all_any(R.MAX))


# ---------------------------------------------------------------------------------------------
# cumsum


@tensorrt_converter("torch.cumsum")
@tensorrt_converter("torch.Tensor.cumsum")
@tensorrt_converter("torch.Tensor.cumsum_")
def convert_cumsum(ctx):
    a = parse_args(ctx, "input", "dim")
    inp, out = a["input"], ctx.method_return
    x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)  # dtype= and int64 promotion
    if inp.dim() == 0:
        set_trt(ctx, out, identity(ctx, x))
        return
    d = norm_dim(a["dim"], inp.dim())
    layer = ctx.network.add_cumulative(x, d, trt.CumulativeOperation.SUM, False, False)
    set_trt(ctx, out, layer.get_output(0))


# ---------------------------------------------------------------------------------------------
# softmax / log_softmax


def _softmax_dim(dim, rank):
    if dim is None:
        # torch's legacy implicit choice (F._get_softmax_dim).
        dim = 0 if rank in (0, 1, 3) else 1
    return norm_dim(dim, rank)


def _softmax(log):
    def convert(ctx):
        a = parse_args(ctx, "input", ("dim", None))
        inp, out = a["input"], ctx.method_return
        x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)  # dtype= casts before the softmax, as torch
        if inp.dim() == 0:
            x = reshape(ctx, x, (1,))
        layer = ctx.network.add_softmax(x)
        layer.axes = axes_mask([_softmax_dim(a["dim"], inp.dim())])
        if log:
            layer.log = True
        y = layer.get_output(0)
        set_trt(ctx, out, reshape(ctx, y, ()) if inp.dim() == 0 else y)

    return convert


convert_softmax = register(["torch.nn.functional.softmax", "torch.softmax", "torch.Tensor.softmax",
                             "torch.special.softmax"], _softmax(False))
convert_log_softmax = register(["torch.nn.functional.log_softmax", "torch.log_softmax",
                                 "torch.Tensor.log_softmax", "torch.special.log_softmax"], _softmax(True))


@tensorrt_converter("torch.nn.functional.softmin")
def convert_softmin(ctx):
    a = parse_args(ctx, "input", ("dim", None))
    inp, out = a["input"], ctx.method_return
    x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
    layer = ctx.network.add_softmax(unary(ctx, x, U.NEG))
    layer.axes = axes_mask([_softmax_dim(a["dim"], inp.dim())])
    set_trt(ctx, out, layer.get_output(0))


# ---------------------------------------------------------------------------------------------
# topk / sort / argsort


@tensorrt_converter("torch.topk")
@tensorrt_converter("torch.Tensor.topk")
def convert_topk(ctx):
    # sorted=False lets torch return the k entries in any order; sorted order is one of them.
    a = parse_args(ctx, "input", "k", ("dim", -1), ("largest", True), ("sorted", True))
    inp, out = a["input"], ctx.method_return
    d = norm_dim(a["dim"], inp.dim())
    values, indices = topk(ctx, _bool_as_int(ctx, trt_tensor(ctx, inp)), a["k"], d, a["largest"])
    set_trt(ctx, out[0], cast_to(ctx, values, out[0].dtype))
    set_trt(ctx, out[1], indices)


def _sort_args(ctx):
    reject_out(ctx)
    args, kw = ctx.method_args, ctx.method_kwargs
    inp = args[0]
    dim = kw.get("dim", args[1] if len(args) > 1 and not isinstance(args[1], bool) else -1)
    descending = kw.get("descending", args[2] if len(args) > 2 else False)
    # stable=True asks for ties in input order, which is the TopK layer's tie rule anyway.
    return inp, norm_dim(dim, inp.dim()), bool(descending)


@tensorrt_converter("torch.sort")
@tensorrt_converter("torch.Tensor.sort")
def convert_sort(ctx):
    inp, d, descending = _sort_args(ctx)
    out = ctx.method_return
    values, indices = topk(ctx, _bool_as_int(ctx, trt_tensor(ctx, inp)), inp.shape[d] if inp.dim() else 1,
                           d, descending)
    set_trt(ctx, out[0], cast_to(ctx, values, out[0].dtype))
    set_trt(ctx, out[1], indices)


@tensorrt_converter("torch.argsort")
@tensorrt_converter("torch.Tensor.argsort")
def convert_argsort(ctx):
    inp, d, descending = _sort_args(ctx)
    _, indices = topk(ctx, _bool_as_int(ctx, trt_tensor(ctx, inp)), inp.shape[d] if inp.dim() else 1, d, descending)
    set_trt(ctx, ctx.method_return, indices)

name_converters(globals())
