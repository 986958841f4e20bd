"""Binary and ternary elementwise converters: arithmetic, comparisons, logic, clamp, where, masked_fill.

Each torch function is registered with its Tensor-method, operator (`__add__`), reflected
(`__radd__`) and in-place (`add_`, `__iadd__`) forms. Operands are cast to the dtype torch
computed (the returned tensor's dtype, or torch's promoted dtype for comparisons) and brought to
one rank, so mixed int/float, scalar and 0-d tensor operands behave as in torch.
"""

import torch

import torch2trt.trt as trt

from ._utils import (
    FLOAT_TYPES,
    cast,
    cast_to,
    elementwise,
    is_tensor,
    lazy_enum,
    name_converters,
    parse_args,
    promoted_dtype,
    register,
    reject,
    scalar_like,
    select,
    set_trt,
    trt_tensor,
    trt_tensors,
    trunc,
    unary,
)

E = lazy_enum("ElementWiseOperation")
U = lazy_enum("UnaryOperation")


def _names(base, method=True, inplace=True, dunder=None, rdunder=None, idunder=None, torch_fn=True):
    """The torch spellings of one operation."""
    names = []
    if torch_fn and hasattr(torch, base):
        names.append(f"torch.{base}")
    if method and hasattr(torch.Tensor, base):
        names.append(f"torch.Tensor.{base}")
    if inplace and hasattr(torch.Tensor, base + "_"):
        names.append(f"torch.Tensor.{base}_")
    for d in (dunder, rdunder, idunder):
        if d:
            names.append(f"torch.Tensor.{d}")
    return names


def _out(ctx):
    return ctx.method_return


def _binary(ctx, a, b, op, dtype):
    """a op b computed in torch dtype `dtype`."""
    ta, tb = trt_tensors(ctx, a, b, dtype=dtype)
    return elementwise(ctx, ta, tb, op)


# ---------------------------------------------------------------------------------------------
# Arithmetic


def _add_sub(ctx, op, reflected=False):
    a = parse_args(ctx, "input", "other", ("alpha", 1))
    x, y, alpha = a["input"], a["other"], a["alpha"]
    if reflected:
        x, y = y, x
    out = _out(ctx)
    tx, ty = trt_tensors(ctx, x, y, dtype=out.dtype)
    if alpha != 1:
        ty = elementwise(ctx, ty, scalar_like(ctx, alpha, ty), E.PROD)
    set_trt(ctx, out, elementwise(ctx, tx, ty, op))


def convert_add(ctx):
    _add_sub(ctx, E.SUM)


def convert_sub(ctx):
    _add_sub(ctx, E.SUB)


def convert_rsub(ctx):
    # torch.rsub(input, other, alpha) = other - alpha * input; Tensor.__rsub__(self, other) = other - self.
    a = parse_args(ctx, "input", "other", ("alpha", 1))
    out = _out(ctx)
    tx, ty = trt_tensors(ctx, a["input"], a["other"], dtype=out.dtype)
    if a["alpha"] != 1:
        tx = elementwise(ctx, tx, scalar_like(ctx, a["alpha"], tx), E.PROD)
    set_trt(ctx, out, elementwise(ctx, ty, tx, E.SUB))


def convert_mul(ctx):
    a = parse_args(ctx, "input", "other")
    out = _out(ctx)
    if out.dtype == torch.bool:
        # bool * bool is logical and; the engine's PROD refuses bool.
        set_trt(ctx, out, _binary(ctx, a["input"], a["other"], E.AND, torch.bool))
        return
    set_trt(ctx, out, _binary(ctx, a["input"], a["other"], E.PROD, out.dtype))


def _div(ctx, x, y, rounding_mode):
    out = _out(ctx)
    tx, ty = trt_tensors(ctx, x, y, dtype=out.dtype)
    is_float = tx.dtype in FLOAT_TYPES
    if rounding_mode is None:
        # Integer true division already promoted to float through out.dtype.
        return elementwise(ctx, tx, ty, E.DIV)
    if rounding_mode == "floor":
        return elementwise(ctx, tx, ty, E.FLOOR_DIV)
    if rounding_mode == "trunc":
        q = elementwise(ctx, tx, ty, E.DIV)  # integers: the engine's DIV truncates toward zero
        return trunc(ctx, q) if is_float else q
    reject(ctx, "rounding_mode", rounding_mode)


def convert_div(ctx):
    a = parse_args(ctx, "input", "other")
    rounding_mode = ctx.method_kwargs.get("rounding_mode", None)
    set_trt(ctx, _out(ctx), _div(ctx, a["input"], a["other"], rounding_mode))


def convert_rtruediv(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _div(ctx, a["other"], a["input"], None))


def convert_floor_divide(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _div(ctx, a["input"], a["other"], "floor"))


def convert_rfloordiv(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _div(ctx, a["other"], a["input"], "floor"))


def _mod(ctx, x, y, floor):
    """x - q * y with q = floor(x / y) (remainder: sign of y) or trunc(x / y) (fmod: sign of x).

    For floats this is exact unless x / y rounds across an integer, where torch's fmod-based
    result and this one differ by y; random data essentially never hits it.
    """
    out = _out(ctx)
    tx, ty = trt_tensors(ctx, x, y, dtype=out.dtype)
    if floor:
        q = elementwise(ctx, tx, ty, E.FLOOR_DIV)
    else:
        q = elementwise(ctx, tx, ty, E.DIV)
        if tx.dtype in FLOAT_TYPES:
            q = trunc(ctx, q)
    return elementwise(ctx, tx, elementwise(ctx, q, ty, E.PROD), E.SUB)


def convert_remainder(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _mod(ctx, a["input"], a["other"], floor=True))


def convert_rmod(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _mod(ctx, a["other"], a["input"], floor=True))


def convert_fmod(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _mod(ctx, a["input"], a["other"], floor=False))


def convert_pow(ctx):
    a = parse_args(ctx, "input", "exponent")
    set_trt(ctx, _out(ctx), _binary(ctx, a["input"], a["exponent"], E.POW, _out(ctx).dtype))


def convert_rpow(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _binary(ctx, a["other"], a["input"], E.POW, _out(ctx).dtype))


def convert_maximum(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _minmax(ctx, a["input"], a["other"], E.MAX))


def convert_minimum(ctx):
    a = parse_args(ctx, "input", "other")
    set_trt(ctx, _out(ctx), _minmax(ctx, a["input"], a["other"], E.MIN))


def _minmax(ctx, x, y, op):
    out = _out(ctx)
    if out.dtype == torch.bool:
        return _binary(ctx, x, y, E.OR if op == E.MAX else E.AND, torch.bool)
    return _binary(ctx, x, y, op, out.dtype)


def convert_addcmul(ctx):
    a = parse_args(ctx, "input", "tensor1", "tensor2")
    value = ctx.method_kwargs.get("value", 1)
    out = _out(ctx)
    t, t1, t2 = trt_tensors(ctx, a["input"], a["tensor1"], a["tensor2"], dtype=out.dtype)
    prod = elementwise(ctx, t1, t2, E.PROD)
    if value != 1:
        prod = elementwise(ctx, prod, scalar_like(ctx, value, prod), E.PROD)
    set_trt(ctx, out, elementwise(ctx, t, prod, E.SUM))


def convert_addcdiv(ctx):
    a = parse_args(ctx, "input", "tensor1", "tensor2")
    value = ctx.method_kwargs.get("value", 1)
    out = _out(ctx)
    t, t1, t2 = trt_tensors(ctx, a["input"], a["tensor1"], a["tensor2"], dtype=out.dtype)
    q = elementwise(ctx, t1, t2, E.DIV)
    if value != 1:
        q = elementwise(ctx, q, scalar_like(ctx, value, q), E.PROD)
    set_trt(ctx, out, elementwise(ctx, t, q, E.SUM))


# ---------------------------------------------------------------------------------------------
# Comparisons and logic


def _compare(ctx, x, y, name):
    """Comparison in torch's promoted dtype (bool operands compare as integers except for ==)."""
    dtype = promoted_dtype([x, y])
    if dtype == torch.bool and name != "eq" and name != "ne":
        dtype = torch.int32
    tx, ty = trt_tensors(ctx, x, y, dtype=dtype)
    if name == "eq":
        return elementwise(ctx, tx, ty, E.EQUAL)
    if name == "ne":
        return unary(ctx, elementwise(ctx, tx, ty, E.EQUAL), U.NOT)
    if name == "gt":
        return elementwise(ctx, tx, ty, E.GREATER)
    if name == "lt":
        return elementwise(ctx, tx, ty, E.LESS)
    # ge/le as (gt or eq): NOT(lt) would call NaN >= 1 true.
    strict = elementwise(ctx, tx, ty, E.GREATER if name == "ge" else E.LESS)
    return elementwise(ctx, strict, elementwise(ctx, tx, ty, E.EQUAL), E.OR)


def _make_compare(name):
    def convert(ctx):
        out = _out(ctx)
        if not is_tensor(out):
            return  # Tensor.__eq__ with a non-tensor operand answers without computing anything.
        a = parse_args(ctx, "input", "other")
        y = _compare(ctx, a["input"], a["other"], name)
        # In-place forms (x.gt_(y)) keep x's dtype.
        set_trt(ctx, out, cast_to(ctx, y, out.dtype))

    convert.__name__ = f"convert_{name}"
    return convert


def _as_bool(ctx, v):
    if is_tensor(v):
        return cast(ctx, trt_tensor(ctx, v), trt.DataType.BOOL)
    return trt_tensor(ctx, bool(v), dtype=torch.bool)


def _make_logical(op):
    def convert(ctx):
        a = parse_args(ctx, "input", "other")
        out = _out(ctx)
        y = elementwise(ctx, _as_bool(ctx, a["input"]), _as_bool(ctx, a["other"]), op)
        set_trt(ctx, out, cast_to(ctx, y, out.dtype))

    return convert


def _make_bitwise(op, symbol):
    def convert(ctx):
        out = _out(ctx)
        if not is_tensor(out):
            return
        a = parse_args(ctx, "input", "other")
        if out.dtype != torch.bool:
            raise NotImplementedError(
                f"{symbol} on {out.dtype} tensors is not supported: the engine has bitwise operations on bool "
                "tensors only (use logical_and/or/xor, or compare first)")
        x, y = trt_tensors(ctx, a["input"], a["other"], dtype=torch.bool)
        set_trt(ctx, out, elementwise(ctx, x, y, op))

    return convert


# ---------------------------------------------------------------------------------------------
# clamp, where, masked_fill


def convert_clamp(ctx):
    a = parse_args(ctx, "input", ("min", None), ("max", None))
    lo, hi = a["min"], a["max"]
    out = _out(ctx)
    x = cast_to(ctx, trt_tensor(ctx, a["input"]), out.dtype)
    scalar_bounds = not is_tensor(lo) and not is_tensor(hi)
    if (x.dtype in FLOAT_TYPES and scalar_bounds and lo is not None and hi is not None and lo <= hi):
        layer = ctx.network.add_activation(x, trt.ActivationType.CLIP)
        layer.alpha, layer.beta = float(lo), float(hi)
        set_trt(ctx, out, layer.get_output(0))
        return
    # max then min: torch gives `max` where min > max, and so does this order.
    y = x
    if lo is not None:
        y = elementwise(ctx, y, trt_tensor(ctx, lo, dtype=out.dtype), E.MAX)
    if hi is not None:
        y = elementwise(ctx, y, trt_tensor(ctx, hi, dtype=out.dtype), E.MIN)
    if y is x:
        y = ctx.network.add_identity(x).get_output(0)
    set_trt(ctx, out, y)


def convert_clamp_min(ctx):
    a = parse_args(ctx, "input", "min")
    out = _out(ctx)
    set_trt(ctx, out, _binary(ctx, a["input"], a["min"], E.MAX, out.dtype))


def convert_clamp_max(ctx):
    a = parse_args(ctx, "input", "max")
    out = _out(ctx)
    set_trt(ctx, out, _binary(ctx, a["input"], a["max"], E.MIN, out.dtype))


def convert_where(ctx):
    a = parse_args(ctx, "condition", ("input", None), ("other", None))
    if a["input"] is None:
        reject(ctx, "input", None, "torch.where(condition) returns indices whose count depends on the data")
    _where(ctx, a["condition"], a["input"], a["other"])


def convert_tensor_where(ctx):
    # Tensor.where(condition, other) is torch.where(condition, self, other).
    a = parse_args(ctx, "input", "condition", "other")
    _where(ctx, a["condition"], a["input"], a["other"])


def _where(ctx, condition, x, y):
    out = _out(ctx)
    cond = _as_bool(ctx, condition)
    tx, ty = trt_tensors(ctx, x, y, dtype=out.dtype)
    set_trt(ctx, out, select(ctx, cond, tx, ty))


def convert_masked_fill(ctx):
    a = parse_args(ctx, "input", "mask", "value")
    out = _out(ctx)
    x = cast_to(ctx, trt_tensor(ctx, a["input"]), out.dtype)
    value = a["value"]
    v = trt_tensor(ctx, value, dtype=out.dtype) if is_tensor(value) else scalar_like(ctx, value, x)
    set_trt(ctx, out, select(ctx, _as_bool(ctx, a["mask"]), v, x))


# ---------------------------------------------------------------------------------------------
# Registration

register(_names("add", dunder="__add__", rdunder="__radd__", idunder="__iadd__"), convert_add)
register(_names("sub", dunder="__sub__", idunder="__isub__") + _names("subtract"), convert_sub)
register(["torch.rsub", "torch.Tensor.__rsub__"], convert_rsub)
register(_names("mul", dunder="__mul__", rdunder="__rmul__", idunder="__imul__") + _names("multiply"), convert_mul)
register(_names("div", dunder="__truediv__", idunder="__itruediv__") + ["torch.Tensor.__idiv__"] + _names("divide")
          + _names("true_divide"), convert_div)
register(["torch.Tensor.__rtruediv__", "torch.Tensor.__rdiv__"], convert_rtruediv)
register(_names("floor_divide", dunder="__floordiv__", idunder="__ifloordiv__"), convert_floor_divide)
register(["torch.Tensor.__rfloordiv__"], convert_rfloordiv)
register(_names("remainder", dunder="__mod__", idunder="__imod__"), convert_remainder)
register(["torch.Tensor.__rmod__"], convert_rmod)
register(_names("fmod"), convert_fmod)
register(_names("pow", dunder="__pow__", idunder="__ipow__") + _names("float_power", inplace=False), convert_pow)
register(["torch.Tensor.__rpow__"], convert_rpow)
register(_names("maximum", inplace=False), convert_maximum)
register(_names("minimum", inplace=False), convert_minimum)
register(_names("addcmul"), convert_addcmul)
register(_names("addcdiv"), convert_addcdiv)

for _name, _aliases in {
    "eq": ["__eq__"],
    "ne": ["__ne__", "not_equal"],
    "gt": ["__gt__", "greater"],
    "ge": ["__ge__", "greater_equal"],
    "lt": ["__lt__", "less"],
    "le": ["__le__", "less_equal"],
}.items():
    _fn = _make_compare(_name)
    _names_list = _names(_name)
    for _alias in _aliases:
        _names_list += [f"torch.Tensor.{_alias}"] if _alias.startswith("__") else _names(_alias)
    globals()[_fn.__name__] = register(_names_list, _fn)

convert_logical_and = register(_names("logical_and"), _make_logical(E.AND))
convert_logical_or = register(_names("logical_or"), _make_logical(E.OR))
convert_logical_xor = register(_names("logical_xor"), _make_logical(E.XOR))
convert_bitwise_and = register(_names("bitwise_and", dunder="__and__", rdunder="__rand__", idunder="__iand__"),
                                _make_bitwise(E.AND, "bitwise and (&)"))
convert_bitwise_or = register(_names("bitwise_or", dunder="__or__", rdunder="__ror__", idunder="__ior__"),
                               _make_bitwise(E.OR, "bitwise or (|)"))
convert_bitwise_xor = register(_names("bitwise_xor", dunder="__xor__", rdunder="__rxor__", idunder="__ixor__"),
                                _make_bitwise(E.XOR, "bitwise xor (^)"))

register(_names("clamp") + _names("clip"), convert_clamp)
register(_names("clamp_min"), convert_clamp_min)
register(_names("clamp_max"), convert_clamp_max)
register(["torch.where"], convert_where)
register(["torch.Tensor.where"], convert_tensor_where)
register(_names("masked_fill", torch_fn=True), convert_masked_fill)

name_converters(globals())
