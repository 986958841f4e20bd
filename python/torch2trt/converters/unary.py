"""Unary math converters: exp/log family, roots, trigonometry, rounding, erf, sign, isinf/isnan.

Every op is registered for torch.<op>, torch.Tensor.<op> and the in-place forms torch.<op>_ /
Tensor.<op>_ where torch has them. Integer inputs of float math are cast to the float dtype torch
returns; rounding an integer tensor is the identity, as in torch. sigmoid/tanh live in activation.py.
"""

import math

import torch

import torch2trt.trt as trt
from torch2trt.conversion import tensorrt_converter

from ._utils import (
    INT_TYPES,
    cast,
    cast_to,
    elementwise,
    identity,
    lazy_enum,
    name_converters,
    parse_args,
    register,
    scalar_like,
    select,
    set_trt,
    trt_tensor,
    trunc,
    unary,
)

U = lazy_enum("UnaryOperation")
E = lazy_enum("ElementWiseOperation")


def _mul(ctx, x, value):
    return elementwise(ctx, x, scalar_like(ctx, value, x), E.PROD)


def _log1p(ctx, x):
    # log(1 + x) loses every digit of a small x to the rounding of 1 + x. Kahan's correction:
    # with u = 1 + x (rounded), log1p(x) = x * log(u) / (u - 1), and x itself when u == 1.
    one = scalar_like(ctx, 1.0, x)
    u = elementwise(ctx, x, one, E.SUM)
    d = elementwise(ctx, u, one, E.SUB)
    r = elementwise(ctx, elementwise(ctx, x, unary(ctx, u, U.LOG), E.PROD), d, E.DIV)
    return select(ctx, elementwise(ctx, d, scalar_like(ctx, 0.0, x), E.EQUAL), x, r)


def _expm1(ctx, x):
    # exp(x) - 1 cancels for small |x|. Kahan: with u = exp(x), expm1(x) = (u - 1) * x / log(u)
    # (x when u == 1). It is only needed for small |x|; elsewhere u - 1 is exact enough and the
    # formula would divide by log(0) for very negative x.
    one = scalar_like(ctx, 1.0, x)
    u = unary(ctx, x, U.EXP)
    d = elementwise(ctx, u, one, E.SUB)
    kahan = elementwise(ctx, elementwise(ctx, d, x, E.PROD), unary(ctx, u, U.LOG), E.DIV)
    kahan = select(ctx, elementwise(ctx, u, one, E.EQUAL), x, kahan)
    small = elementwise(ctx, unary(ctx, x, U.ABS), scalar_like(ctx, 0.5, x), E.LESS)
    return select(ctx, small, kahan, d)


def _not(ctx, x):
    return unary(ctx, x, U.NOT)


def _isfinite(ctx, x):
    if x.dtype in INT_TYPES:
        return _all_true(ctx, x)
    bad = elementwise(ctx, unary(ctx, x, U.ISINF), unary(ctx, x, U.ISNAN), E.OR)
    return _not(ctx, bad)


def _all_true(ctx, x):
    return elementwise(ctx, x, x, E.EQUAL)


def _signbit(ctx, x):
    # Negative values, and -0.0 (whose reciprocal is -inf).
    zero = scalar_like(ctx, 0, x)
    neg = elementwise(ctx, x, zero, E.LESS)
    if x.dtype in INT_TYPES:
        return neg
    neg_zero = elementwise(ctx, unary(ctx, x, U.RECIP), zero, E.LESS)
    return elementwise(ctx, neg, elementwise(ctx, neg_zero, elementwise(ctx, x, zero, E.EQUAL), E.AND), E.OR)


def _all_false(ctx, x):
    return _not(ctx, _all_true(ctx, x))


def _isinf_sign(ctx, x, positive):
    if x.dtype in INT_TYPES:
        return _all_false(ctx, x)
    inf = unary(ctx, x, U.ISINF)
    side = elementwise(ctx, x, scalar_like(ctx, 0.0, x), E.GREATER if positive else E.LESS)
    return elementwise(ctx, inf, side, E.AND)


def _frac(ctx, x):
    return elementwise(ctx, x, trunc(ctx, x), E.SUB)


# name -> (builder, output kind). Output kind: "float" casts integer inputs to the result's float
# dtype first; "same" keeps the dtype (rounding and sign of integers); "bool" predicates.
_OPS = {
    "exp": (lambda c, x: unary(c, x, U.EXP), "float"),
    "exp2": (lambda c, x: elementwise(c, scalar_like(c, 2.0, x), x, E.POW), "float"),
    "log": (lambda c, x: unary(c, x, U.LOG), "float"),
    "log2": (lambda c, x: _mul(c, unary(c, x, U.LOG), 1.0 / math.log(2.0)), "float"),
    "log10": (lambda c, x: _mul(c, unary(c, x, U.LOG), 1.0 / math.log(10.0)), "float"),
    "log1p": (_log1p, "float"),
    "expm1": (_expm1, "float"),
    "sqrt": (lambda c, x: unary(c, x, U.SQRT), "float"),
    "rsqrt": (lambda c, x: unary(c, unary(c, x, U.SQRT), U.RECIP), "float"),
    "reciprocal": (lambda c, x: unary(c, x, U.RECIP), "float"),
    "square": (lambda c, x: elementwise(c, x, x, E.PROD), "same"),
    "abs": (lambda c, x: unary(c, x, U.ABS), "same"),
    "neg": (lambda c, x: unary(c, x, U.NEG), "same"),
    "sin": (lambda c, x: unary(c, x, U.SIN), "float"),
    "cos": (lambda c, x: unary(c, x, U.COS), "float"),
    "tan": (lambda c, x: unary(c, x, U.TAN), "float"),
    "sinh": (lambda c, x: unary(c, x, U.SINH), "float"),
    "cosh": (lambda c, x: unary(c, x, U.COSH), "float"),
    "asin": (lambda c, x: unary(c, x, U.ASIN), "float"),
    "acos": (lambda c, x: unary(c, x, U.ACOS), "float"),
    "atan": (lambda c, x: unary(c, x, U.ATAN), "float"),
    "asinh": (lambda c, x: unary(c, x, U.ASINH), "float"),
    "acosh": (lambda c, x: unary(c, x, U.ACOSH), "float"),
    "atanh": (lambda c, x: unary(c, x, U.ATANH), "float"),
    "ceil": (lambda c, x: x if x.dtype in INT_TYPES else unary(c, x, U.CEIL), "same"),
    "floor": (lambda c, x: x if x.dtype in INT_TYPES else unary(c, x, U.FLOOR), "same"),
    "trunc": (trunc, "same"),
    "frac": (_frac, "same"),
    "erf": (lambda c, x: unary(c, x, U.ERF), "float"),
    # 1 - erf(x) cancels for large x: accurate only where erfc(x) is not tiny (documented in the test).
    "erfc": (lambda c, x: elementwise(c, scalar_like(c, 1.0, x), unary(c, x, U.ERF), E.SUB), "float"),
    "sign": (lambda c, x: unary(c, x, U.SIGN), "same"),
    "deg2rad": (lambda c, x: _mul(c, x, math.pi / 180.0), "float"),
    "rad2deg": (lambda c, x: _mul(c, x, 180.0 / math.pi), "float"),
    "isinf": (lambda c, x: _all_false(c, x) if x.dtype in INT_TYPES else unary(c, x, U.ISINF), "bool"),
    "isnan": (lambda c, x: _all_false(c, x) if x.dtype in INT_TYPES else unary(c, x, U.ISNAN), "bool"),
    "isfinite": (_isfinite, "bool"),
    "isposinf": (lambda c, x: _isinf_sign(c, x, True), "bool"),
    "isneginf": (lambda c, x: _isinf_sign(c, x, False), "bool"),
    "signbit": (_signbit, "bool"),
}

# torch spells several of these two ways.
_ALIASES = {
    "absolute": "abs",
    "negative": "neg",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "fix": "trunc",
    "sgn": "sign",
}

_DUNDERS = {"__neg__": "neg", "__abs__": "abs"}


def _make_converter(op_name):
    build, kind = _OPS[op_name]

    def convert(ctx):
        a = parse_args(ctx, "input")
        out = ctx.method_return
        x = trt_tensor(ctx, a["input"])
        if kind == "float":
            x = cast_to(ctx, x, out.dtype)
        elif kind == "same" and x.dtype == trt.DataType.BOOL:
            x = cast(ctx, x, trt.DataType.INT32)
        y = build(ctx, x)
        if kind != "bool":
            y = cast_to(ctx, y, out.dtype)
        set_trt(ctx, out, y)

    convert.__name__ = f"convert_{op_name}"
    convert.__doc__ = f"torch.{op_name} and its method / in-place forms."
    return convert


def _torch_names(name):
    names = []
    for owner, prefix in ((torch, "torch"), (torch.Tensor, "torch.Tensor"), (torch.special, "torch.special")):
        for n in (name, name + "_"):
            if owner is torch.special and n.endswith("_"):
                continue
            if hasattr(owner, n):
                names.append(f"{prefix}.{n}")
    return names


def _register_table():
    for op_name in _OPS:
        names = _torch_names(op_name)
        names += [n for alias, target in _ALIASES.items() if target == op_name for n in _torch_names(alias)]
        names += [f"torch.Tensor.{d}" for d, target in _DUNDERS.items() if target == op_name]
        fn = register(names, _make_converter(op_name))
        globals()[fn.__name__] = fn


_register_table()


@tensorrt_converter("torch.round")
@tensorrt_converter("torch.round_")
@tensorrt_converter("torch.Tensor.round")
@tensorrt_converter("torch.Tensor.round_")
@tensorrt_converter("torch.special.round")
def convert_round(ctx):
    a = parse_args(ctx, "input")
    decimals = int(ctx.method_kwargs.get("decimals", 0))
    out = ctx.method_return
    x = trt_tensor(ctx, a["input"])
    if x.dtype in INT_TYPES:
        set_trt(ctx, out, identity(ctx, x))
        return
    if decimals == 0:
        set_trt(ctx, out, unary(ctx, x, U.ROUND))
        return
    # As torch: round(x * 10^d) / 10^d, and for negative d round(x / 10^-d) * 10^-d.
    if decimals > 0:
        scale = scalar_like(ctx, 10.0 ** decimals, x)
        y = elementwise(ctx, unary(ctx, elementwise(ctx, x, scale, E.PROD), U.ROUND), scale, E.DIV)
    else:
        scale = scalar_like(ctx, 10.0 ** -decimals, x)
        y = elementwise(ctx, unary(ctx, elementwise(ctx, x, scale, E.DIV), U.ROUND), scale, E.PROD)
    set_trt(ctx, out, y)


@tensorrt_converter("torch.logical_not")
@tensorrt_converter("torch.Tensor.logical_not")
@tensorrt_converter("torch.Tensor.logical_not_")
def convert_logical_not(ctx):
    a = parse_args(ctx, "input")
    out = ctx.method_return
    x = cast(ctx, trt_tensor(ctx, a["input"]), trt.DataType.BOOL)
    set_trt(ctx, out, cast_to(ctx, _not(ctx, x), out.dtype))


@tensorrt_converter("torch.bitwise_not")
@tensorrt_converter("torch.Tensor.bitwise_not")
@tensorrt_converter("torch.Tensor.bitwise_not_")
@tensorrt_converter("torch.Tensor.__invert__")
def convert_bitwise_not(ctx):
    a = parse_args(ctx, "input")
    x = trt_tensor(ctx, a["input"])
    if x.dtype != trt.DataType.BOOL:
        raise NotImplementedError(
            f"bitwise_not / ~ of a {a['input'].dtype} tensor is not supported: the engine has bitwise "
            "operations on bool tensors only")
    set_trt(ctx, ctx.method_return, _not(ctx, x))

name_converters(globals())
