"""nn layer converters: linear, matmul family, einsum, convolutions, normalizations, pooling,
dropout, embedding, scaled_dot_product_attention and nn.MultiheadAttention.

Most nn modules call the functionals converted here from their forward (nn.Linear -> F.linear,
nn.BatchNorm2d -> F.batch_norm, ...), so the functional converter sees the module's own arguments.
nn.Conv*d (at _conv_forward) and nn.MultiheadAttention are converted at the module: a conv's
padding mode and the attention's projections are module state the functionals below only see in parts.
"""

import math
import string

import torch

import torch2trt.trt as trt
from torch2trt.conversion import tensorrt_converter

from ._utils import (
    FLOAT_TYPES,
    axes_mask,
    cast_to,
    constant,
    elementwise,
    func_name,
    is_network_tensor,
    lazy_enum,
    name_converters,
    norm_dim,
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
    trt_tensors,
    trt_to_torch_dtype,
    unary,
    weight,
)
from .reduce import reduce, vector_norm

E = lazy_enum("ElementWiseOperation")
U = lazy_enum("UnaryOperation")
R = lazy_enum("ReduceOperation")
M = lazy_enum("MatrixOperation")


def _ntuple(v, n, what="argument"):
    """An int or a sequence of n ints as a tuple of n ints."""
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise ValueError(f"{what}: expected {n} values, got {v}")
    return v


def _permute(ctx, t, perm):
    perm = tuple(int(p) for p in perm)
    if perm == tuple(range(len(perm))):
        return t
    layer = ctx.network.add_shuffle(t)
    layer.first_transpose = perm
    return layer.get_output(0)


def _concat(ctx, tensors, axis):
    layer = ctx.network.add_concatenation(list(tensors))
    layer.axis = int(axis)
    return layer.get_output(0)


# ---------------------------------------------------------------------------------------------
# matmul family


def matmul(ctx, a, b):
    """torch.matmul of engine tensors `a` and `b` (1-D and N-D operands, broadcast batch dims)."""
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: operands have dtypes {a.dtype} and {b.dtype}")
    sa, sb = tuple(a.shape), tuple(b.shape)
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {sa} and {sb}")
    # 1-D operands become matrices (a row on the left, a column on the right) and lose that dim after.
    a2 = reshape(ctx, a, (1,) + sa) if len(sa) == 1 else a
    b2 = reshape(ctx, b, sb + (1,)) if len(sb) == 1 else b
    rank = max(len(a2.shape), len(b2.shape))
    a2 = reshape(ctx, a2, (1,) * (rank - len(a2.shape)) + tuple(a2.shape))
    b2 = reshape(ctx, b2, (1,) * (rank - len(b2.shape)) + tuple(b2.shape))
    y = ctx.network.add_matrix_multiply(a2, M.NONE, b2, M.NONE).get_output(0)
    shape = list(y.shape)
    if len(sb) == 1:
        del shape[-1]
    if len(sa) == 1:
        del shape[-2 if len(sb) != 1 else -1]
    if len(sa) == 1 and len(sb) == 1:
        shape = []
    return reshape(ctx, y, shape)


def _float_operands(ctx, *values):
    out = ctx.method_return
    dtype = out.dtype
    if dtype not in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
        raise NotImplementedError(f"{func_name(ctx)}: {dtype} matrix products are not supported (float types only)")
    return trt_tensors(ctx, *values, dtype=dtype)


@tensorrt_converter("torch.matmul")
@tensorrt_converter("torch.Tensor.matmul")
@tensorrt_converter("torch.Tensor.__matmul__")
@tensorrt_converter("torch.mm")
@tensorrt_converter("torch.Tensor.mm")
@tensorrt_converter("torch.bmm")
@tensorrt_converter("torch.Tensor.bmm")
@tensorrt_converter("torch.mv")
@tensorrt_converter("torch.Tensor.mv")
@tensorrt_converter("torch.dot")
@tensorrt_converter("torch.Tensor.dot")
def convert_matmul(ctx):
    args = ctx.method_args
    reject_out(ctx)
    a, b = _float_operands(ctx, args[0], ctx.method_kwargs.get("other", args[1] if len(args) > 1 else None))
    set_trt(ctx, ctx.method_return, matmul(ctx, a, b))


@tensorrt_converter("torch.inner")
@tensorrt_converter("torch.Tensor.inner")
def convert_inner(ctx):
    # Contracts the last dims: (prod(a.shape[:-1]), n) @ (prod(b.shape[:-1]), n)^T, reshaped.
    a = parse_args(ctx, "input", "other")
    at, bt = a["input"], a["other"]
    out = ctx.method_return
    if at.dim() == 0 or bt.dim() == 0:
        x, y = _float_operands(ctx, at, bt)
        set_trt(ctx, out, elementwise(ctx, x, y, E.PROD))
        return
    x, y = _float_operands(ctx, at, bt)
    n = at.shape[-1]
    x = reshape(ctx, x, (int(math.prod(at.shape[:-1])), n))
    y = reshape(ctx, y, (int(math.prod(bt.shape[:-1])), n))
    prod = ctx.network.add_matrix_multiply(x, M.NONE, y, M.TRANSPOSE).get_output(0)
    set_trt(ctx, out, reshape(ctx, prod, tuple(out.shape)))


@tensorrt_converter("torch.Tensor.__rmatmul__")
def convert_rmatmul(ctx):
    a = ctx.method_args
    x, y = _float_operands(ctx, a[0], a[1])
    set_trt(ctx, ctx.method_return, matmul(ctx, y, x))


def _scaled_sum(ctx, base, prod, beta, alpha):
    """beta * base + alpha * prod, as addmm and friends (beta = 0 ignores base, NaN included)."""
    if alpha != 1:
        prod = elementwise(ctx, prod, scalar_like(ctx, alpha, prod), E.PROD)
    if beta == 0:
        return prod
    if beta != 1:
        base = elementwise(ctx, base, scalar_like(ctx, beta, base), E.PROD)
    return elementwise(ctx, base, prod, E.SUM)


@tensorrt_converter("torch.addmm")
@tensorrt_converter("torch.Tensor.addmm")
@tensorrt_converter("torch.baddbmm")
@tensorrt_converter("torch.Tensor.baddbmm")
@tensorrt_converter("torch.addmv")
@tensorrt_converter("torch.Tensor.addmv")
def convert_addmm(ctx):
    a = parse_args(ctx, "input", "mat1", "mat2")
    beta, alpha = ctx.method_kwargs.get("beta", 1), ctx.method_kwargs.get("alpha", 1)
    base, m1, m2 = _float_operands(ctx, a["input"], a["mat1"], a["mat2"])
    set_trt(ctx, ctx.method_return, _scaled_sum(ctx, base, matmul(ctx, m1, m2), beta, alpha))


@tensorrt_converter("torch.addbmm")
@tensorrt_converter("torch.Tensor.addbmm")
def convert_addbmm(ctx):
    a = parse_args(ctx, "input", "batch1", "batch2")
    beta, alpha = ctx.method_kwargs.get("beta", 1), ctx.method_kwargs.get("alpha", 1)
    base, b1, b2 = _float_operands(ctx, a["input"], a["batch1"], a["batch2"])
    prod = reduce(ctx, matmul(ctx, b1, b2), R.SUM, (0,), False)
    set_trt(ctx, ctx.method_return, _scaled_sum(ctx, base, prod, beta, alpha))


@tensorrt_converter("torch.outer")
@tensorrt_converter("torch.Tensor.outer")
@tensorrt_converter("torch.ger")
@tensorrt_converter("torch.Tensor.ger")
def convert_outer(ctx):
    a = parse_args(ctx, "input", "vec2")
    out = ctx.method_return
    x, y = trt_tensors(ctx, a["input"], a["vec2"], dtype=out.dtype)
    x = reshape(ctx, x, (x.shape[0], 1))
    y = reshape(ctx, y, (1, y.shape[0]))
    set_trt(ctx, out, elementwise(ctx, x, y, E.PROD))


# ---------------------------------------------------------------------------------------------
# linear


def linear(ctx, x, w, b, in_shape):
    """x @ w^T + b for engine tensor x of torch shape `in_shape` and torch weight/bias tensors."""
    out_features = w.shape[0]
    dtype = trt_to_torch_dtype(x.dtype)
    rank = len(in_shape)
    x2 = reshape(ctx, x, (1, in_shape[0])) if rank == 1 else x
    r = max(len(x2.shape), 2)
    wt = weight(ctx, w, shape=(1,) * (r - 2) + tuple(w.shape), dtype=dtype)
    y = ctx.network.add_matrix_multiply(x2, M.NONE, wt, M.TRANSPOSE).get_output(0)
    if b is not None:
        y = elementwise(ctx, y, weight(ctx, b, shape=(1,) * (r - 1) + (out_features,), dtype=dtype), E.SUM)
    if rank == 1:
        y = reshape(ctx, y, (out_features,))
    return y


@tensorrt_converter("torch.nn.functional.linear")
def convert_linear(ctx):
    a = parse_args(ctx, "input", "weight", ("bias", None))
    inp = a["input"]
    x = cast_to(ctx, trt_tensor(ctx, inp), ctx.method_return.dtype)
    set_trt(ctx, ctx.method_return, linear(ctx, x, a["weight"], a["bias"], tuple(inp.shape)))


@tensorrt_converter("torch.nn.functional.bilinear")
def convert_bilinear(ctx):
    # y_k = x1^T W_k x2 + b_k: (x1 @ W_k) as one matmul over all k, then a product with x2 summed.
    a = parse_args(ctx, "input1", "input2", "weight", ("bias", None))
    x1t, x2t = a["input1"], a["input2"]
    w = a["weight"]  # (out, in1, in2)
    out = ctx.method_return
    x1, x2 = trt_tensors(ctx, x1t, x2t, dtype=out.dtype)
    lead = tuple(x1t.shape[:-1])
    n = int(math.prod(lead)) if lead else 1
    k, i1, i2 = w.shape
    x1 = reshape(ctx, x1, (n, 1, 1, i1))
    wt = weight(ctx, w, shape=(1, k, i1, i2), dtype=out.dtype)
    t = ctx.network.add_matrix_multiply(x1, M.NONE, wt, M.NONE).get_output(0)  # (n, k, 1, i2)
    t = reshape(ctx, t, (n, k, i2))
    y = reduce(ctx, elementwise(ctx, t, reshape(ctx, x2, (n, 1, i2)), E.PROD), R.SUM, (2,), False)  # (n, k)
    if a["bias"] is not None:
        y = elementwise(ctx, y, weight(ctx, a["bias"], shape=(1, k), dtype=out.dtype), E.SUM)
    set_trt(ctx, out, reshape(ctx, y, tuple(out.shape)))


# ---------------------------------------------------------------------------------------------
# einsum


def _parse_einsum(equation, shapes):
    """Operand subscripts and output subscripts, with '...' expanded to letters the equation does not use."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum '{equation}': {len(terms)} operand subscripts for {len(shapes)} operands")
    ell_rank = 0
    for t, s in zip(terms, shapes):
        if "..." in t:
            ell_rank = max(ell_rank, len(s) - (len(t) - 3))
    free = [c for c in string.ascii_letters if c not in eq]
    ell = "".join(free[:ell_rank])
    out_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            n = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_rank - n:] if n else "")
        if len(t) != len(s):
            raise ValueError(f"einsum '{equation}': subscripts '{t}' do not match an operand of shape {tuple(s)}")
        out_terms.append(t)
    if rhs is None:
        counts = {}
        for t in out_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return out_terms, rhs


class _Operand:
    """An einsum operand: engine tensor, its subscripts (one letter per dim) and its extents."""

    def __init__(self, t, subs, shape):
        self.t, self.subs, self.shape = t, subs, tuple(shape)

    def extent(self, c):
        return self.shape[self.subs.index(c)]


def _einsum_reduce(ctx, op, keep):
    """Sums away the letters of `op` that are not in `keep`."""
    drop = [i for i, c in enumerate(op.subs) if c not in keep]
    if not drop:
        return op
    t = reduce(ctx, op.t, R.SUM, tuple(drop), False)
    subs = "".join(c for c in op.subs if c in keep)
    return _Operand(t, subs, tuple(op.extent(c) for c in subs))


def _einsum_arrange(ctx, op, order):
    """`op` with its dims permuted to the letter order `order` (all of op's letters)."""
    perm = [op.subs.index(c) for c in order]
    return _Operand(_permute(ctx, op.t, perm), order, tuple(op.shape[i] for i in perm))


def _einsum_pair(ctx, a, b, keep):
    """Contracts a and b over their shared letters not in `keep`; keeps the other letters."""
    a = _einsum_reduce(ctx, a, keep + b.subs)
    b = _einsum_reduce(ctx, b, keep + a.subs)
    batch = [c for c in a.subs if c in b.subs and c in keep]
    contract = [c for c in a.subs if c in b.subs and c not in keep]
    a_only = [c for c in a.subs if c not in b.subs]
    b_only = [c for c in b.subs if c not in a.subs]

    def size(op, letters):
        return int(math.prod(op.extent(c) for c in letters))

    a = _einsum_arrange(ctx, a, "".join(batch + a_only + contract))
    b = _einsum_arrange(ctx, b, "".join(batch + contract + b_only))
    # Batch letters stay separate dims so that an extent of 1 on one side broadcasts as in torch.
    at = reshape(ctx, a.t, tuple(a.extent(c) for c in batch) + (size(a, a_only), size(a, contract)))
    bt = reshape(ctx, b.t, tuple(b.extent(c) for c in batch) + (size(b, contract), size(b, b_only)))
    y = ctx.network.add_matrix_multiply(at, M.NONE, bt, M.NONE).get_output(0)
    batch_shape = tuple(y.shape[: len(batch)])
    shape = batch_shape + tuple(a.extent(c) for c in a_only) + tuple(b.extent(c) for c in b_only)
    return _Operand(reshape(ctx, y, shape), "".join(batch + a_only + b_only), shape)


@tensorrt_converter("torch.einsum")
def convert_einsum(ctx):
    args = ctx.method_args
    equation = args[0]
    operands = list(args[1]) if len(args) == 2 and isinstance(args[1], (list, tuple)) else list(args[1:])
    out = ctx.method_return
    if out.dtype not in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
        raise NotImplementedError(f"torch.einsum('{equation}'): {out.dtype} operands are not supported (float only)")
    terms, rhs = _parse_einsum(equation, [o.shape for o in operands])
    for t in terms:
        if len(set(t)) != len(t):
            raise NotImplementedError(
                f"torch.einsum('{equation}'): a letter repeated within one operand ('{t}', a diagonal or trace) "
                "is not supported")
    ts = trt_tensors(ctx, *operands, dtype=out.dtype)
    ops = [_Operand(t, s, o.shape) for t, s, o in zip(ts, terms, operands)]
    acc = ops[0]
    for i, nxt in enumerate(ops[1:], start=1):
        # Letters still needed: by the output or by an operand not yet contracted.
        later = rhs + "".join(o.subs for o in ops[i + 1:])
        acc = _einsum_pair(ctx, acc, nxt, later)
    acc = _einsum_reduce(ctx, acc, rhs)
    acc = _einsum_arrange(ctx, acc, rhs)
    # Letters of extent 1 broadcast in einsum; the product may leave them at 1 where torch expands.
    res = acc.t
    if tuple(res.shape) != tuple(out.shape):
        raise NotImplementedError(
            f"torch.einsum('{equation}'): broadcasting of a size-1 subscript against a larger one is not supported")
    set_trt(ctx, out, res)


# ---------------------------------------------------------------------------------------------
# convolution


def _same_padding(kernel, dilation):
    """torch's padding='same': total d*(k-1), the odd element after."""
    pre, post = [], []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pre.append(total // 2)
        post.append(total - total // 2)
    return tuple(pre), tuple(post)


def _constant_weight(ctx, w, what):
    if is_network_tensor(ctx, w):
        raise NotImplementedError(
            f"{func_name(ctx)}: a {what} computed from the network inputs is not supported (the engine's "
            f"convolution takes constant weights)")
    return w.detach()


def convolution(ctx, x, in_shape, w, b, stride, pre, post, dilation, groups, nsp, out_dtype,
                transposed=False, output_padding=None):
    """Adds a (transposed) convolution; `x` is the engine input of torch shape `in_shape`."""
    unbatched = len(in_shape) == nsp + 1
    if unbatched:
        x = reshape(ctx, x, (1,) + tuple(in_shape))
    kernel = _constant_weight(ctx, w, "weight")
    bias = _constant_weight(ctx, b, "bias") if b is not None else None
    k = tuple(kernel.shape[2:])
    if transposed:
        layer = ctx.network.add_deconvolution_nd(x, kernel.shape[1] * groups, k, kernel, bias)
    else:
        layer = ctx.network.add_convolution_nd(x, kernel.shape[0], k, kernel, bias)
    layer.num_groups = groups
    layer.stride_nd = stride
    layer.pre_padding = pre
    layer.post_padding = post
    layer.dilation_nd = dilation
    if transposed and output_padding is not None and any(output_padding):
        layer.output_padding_nd = output_padding
    y = layer.get_output(0)
    if unbatched:
        y = reshape(ctx, y, tuple(y.shape[1:]))
    return cast_to(ctx, y, out_dtype)


def _conv_functional(nsp):
    def convert(ctx):
        a = parse_args(ctx, "input", "weight", ("bias", None), ("stride", 1), ("padding", 0), ("dilation", 1),
                       ("groups", 1))
        inp, w = a["input"], a["weight"]
        out = ctx.method_return
        x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
        k = tuple(w.shape[2:])
        dilation = _ntuple(a["dilation"], nsp, "dilation")
        padding = a["padding"]
        if isinstance(padding, str):
            if padding == "valid":
                pre = post = (0,) * nsp
            elif padding == "same":
                pre, post = _same_padding(k, dilation)
            else:
                reject(ctx, "padding", padding)
        else:
            pre = post = _ntuple(padding, nsp, "padding")
        y = convolution(ctx, x, tuple(inp.shape), w, a["bias"], _ntuple(a["stride"], nsp, "stride"), pre, post,
                        dilation, int(a["groups"]), nsp, out.dtype)
        set_trt(ctx, out, y)

    convert.__name__ = f"convert_conv{nsp}d"
    return convert


convert_conv1d = register(["torch.nn.functional.conv1d", "torch.conv1d"], _conv_functional(1))
convert_conv2d = register(["torch.nn.functional.conv2d", "torch.conv2d"], _conv_functional(2))
convert_conv3d = register(["torch.nn.functional.conv3d", "torch.conv3d"], _conv_functional(3))

_PAD_MODES = {"reflect": "REFLECT", "replicate": "REPLICATE", "circular": "CIRCULAR"}


def _conv_module(nsp):
    # nn.ConvNd._conv_forward(self, input, weight, bias) is where torch applies a non-zero padding
    # mode; hooking it rather than forward also converts subclasses that compute their weight in
    # forward (weight standardization) and pass it down.
    def convert(ctx):
        a = parse_args(ctx, "self", "input", "weight", "bias")
        m, inp, out = a["self"], a["input"], ctx.method_return
        x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
        k = tuple(a["weight"].shape[2:])
        dilation = tuple(m.dilation)
        if m.padding_mode != "zeros":
            mode = _PAD_MODES.get(m.padding_mode)
            if mode is None:
                reject(ctx, "padding_mode", m.padding_mode)
            # _reversed_padding_repeated_twice is torch's own F.pad argument: (last_lo, last_hi, ...).
            rp = m._reversed_padding_repeated_twice
            pre = tuple(rp[2 * i] for i in reversed(range(nsp)))
            post = tuple(rp[2 * i + 1] for i in reversed(range(nsp)))
            layer = ctx.network.add_padding_nd(x, pre, post)
            layer.mode = getattr(trt.PadMode, mode)
            x = layer.get_output(0)
            pre = post = (0,) * nsp
        elif isinstance(m.padding, str):
            pre, post = ((0,) * nsp,) * 2 if m.padding == "valid" else _same_padding(k, dilation)
        else:
            pre = post = tuple(m.padding)
        y = convolution(ctx, x, tuple(inp.shape), a["weight"], a["bias"], tuple(m.stride), pre, post, dilation,
                        int(m.groups), nsp, out.dtype)
        set_trt(ctx, out, y)

    convert.__name__ = f"convert_Conv{nsp}d"
    return convert


convert_Conv1d = register(["torch.nn.Conv1d._conv_forward"], _conv_module(1))
convert_Conv2d = register(["torch.nn.Conv2d._conv_forward"], _conv_module(2))
convert_Conv3d = register(["torch.nn.Conv3d._conv_forward"], _conv_module(3))


def _conv_transpose_functional(nsp):
    def convert(ctx):
        a = parse_args(ctx, "input", "weight", ("bias", None), ("stride", 1), ("padding", 0),
                       ("output_padding", 0), ("groups", 1), ("dilation", 1))
        inp = a["input"]
        out = ctx.method_return
        x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
        padding = _ntuple(a["padding"], nsp, "padding")
        y = convolution(ctx, x, tuple(inp.shape), a["weight"], a["bias"], _ntuple(a["stride"], nsp, "stride"),
                        padding, padding, _ntuple(a["dilation"], nsp, "dilation"), int(a["groups"]), nsp,
                        out.dtype, transposed=True,
                        output_padding=_ntuple(a["output_padding"], nsp, "output_padding"))
        set_trt(ctx, out, y)

    convert.__name__ = f"convert_conv_transpose{nsp}d"
    return convert


convert_conv_transpose1d = register(["torch.nn.functional.conv_transpose1d", "torch.conv_transpose1d"],
                                     _conv_transpose_functional(1))
convert_conv_transpose2d = register(["torch.nn.functional.conv_transpose2d", "torch.conv_transpose2d"],
                                     _conv_transpose_functional(2))
convert_conv_transpose3d = register(["torch.nn.functional.conv_transpose3d", "torch.conv_transpose3d"],
                                     _conv_transpose_functional(3))


# ---------------------------------------------------------------------------------------------
# normalization


def _channel_shape(rank, c):
    return (1, c) + (1,) * (rank - 2)


def _batch_stats_norm(ctx, x, inp, w, b, eps, out_dtype):
    """Normalizes over every dim but the channels (dim 1) with the batch's own statistics."""
    rank = inp.dim()
    c = inp.shape[1]
    scale = weight(ctx, w, shape=(c,), dtype=out_dtype) if w is not None else None
    bias = weight(ctx, b, shape=(c,), dtype=out_dtype) if b is not None else None
    dims = (0,) + tuple(range(2, rank))
    return _normalize_with_reduce(ctx, x, dims, eps, scale, bias, _channel_shape(rank, c))


def _normalize_with_reduce(ctx, x, dims, eps, scale, bias, affine_shape):
    mean = reduce(ctx, x, R.AVG, dims, True)
    d = elementwise(ctx, x, mean, E.SUB)
    var = reduce(ctx, elementwise(ctx, d, d, E.PROD), R.AVG, dims, True)
    std = unary(ctx, elementwise(ctx, var, scalar_like(ctx, eps, var), E.SUM), U.SQRT)
    y = elementwise(ctx, d, std, E.DIV)
    if scale is not None:
        y = elementwise(ctx, y, reshape(ctx, scale, affine_shape), E.PROD)
    if bias is not None:
        y = elementwise(ctx, y, reshape(ctx, bias, affine_shape), E.SUM)
    return y


def _running_stats_norm(ctx, x, inp, mean, var, w, b, eps):
    """Eval batch norm as one per-channel scale layer: y = x * s + (b - mean * s), s = w / sqrt(var + eps)."""
    for t, what in ((mean, "running_mean"), (var, "running_var"), (w, "weight"), (b, "bias")):
        if t is not None and is_network_tensor(ctx, t):
            raise NotImplementedError(f"{func_name(ctx)}: a {what} computed from the network inputs is not supported")
    c = inp.shape[1]
    # Folded in float64 so that the float32 result matches torch's unfolded arithmetic.
    mean64, var64 = mean.detach().double().cpu(), var.detach().double().cpu()
    w64 = w.detach().double().cpu() if w is not None else torch.ones(c, dtype=torch.float64)
    b64 = b.detach().double().cpu() if b is not None else torch.zeros(c, dtype=torch.float64)
    s = w64 / torch.sqrt(var64 + eps)
    shift = b64 - mean64 * s
    if x.dtype not in FLOAT_TYPES:
        raise TypeError(f"{func_name(ctx)}: input must be a float tensor, got {inp.dtype}")
    wdtype = torch.float32
    layer = ctx.network.add_scale_nd(x, trt.ScaleMode.CHANNEL, shift.to(wdtype), s.to(wdtype), None, 1)
    return layer.get_output(0)


@tensorrt_converter("torch.nn.functional.batch_norm")
def convert_batch_norm(ctx):
    # momentum only updates the running statistics, which happens in training mode alone.
    a = parse_args(ctx, "input", "running_mean", "running_var", ("weight", None), ("bias", None),
                   ("training", False), ("momentum", 0.1), ("eps", 1e-5))
    inp, out = a["input"], ctx.method_return
    x = trt_tensor(ctx, inp)
    if inp.dim() < 2:
        raise ValueError(f"{func_name(ctx)}: input of shape {tuple(inp.shape)} has no channel dim")
    if a["training"]:
        if a["running_mean"] is not None:
            reject(ctx, "training", True,
                   "the module is in training mode and would update its running statistics; call model.eval()")
        # track_running_stats=False: the batch's own statistics, also in eval mode.
        set_trt(ctx, out, _batch_stats_norm(ctx, x, inp, a["weight"], a["bias"], float(a["eps"]), out.dtype))
        return
    set_trt(ctx, out, _running_stats_norm(ctx, x, inp, a["running_mean"], a["running_var"], a["weight"], a["bias"],
                                          float(a["eps"])))


def _normalization(ctx, x, scale, bias, axes, eps, groups=1):
    layer = ctx.network.add_normalization(x, scale, bias, axes_mask(axes))
    layer.epsilon = float(eps)
    if groups != 1:
        layer.num_groups = int(groups)
    return layer.get_output(0)


def _affine(ctx, t, shape, dtype, fill):
    """Weight or bias tensor `t` (or a constant `fill` when None) shaped `shape`, in torch `dtype`."""
    if t is None:
        return constant(ctx, torch.full(shape, float(fill), dtype=dtype))
    return weight(ctx, t, shape=shape, dtype=dtype)


@tensorrt_converter("torch.nn.functional.instance_norm")
def convert_instance_norm(ctx):
    # momentum only updates running statistics from the batch (use_input_stats with buffers), which
    # changes module state and not this call's result.
    a = parse_args(ctx, "input", ("running_mean", None), ("running_var", None), ("weight", None), ("bias", None),
                   ("use_input_stats", True), ("momentum", 0.1), ("eps", 1e-5))
    inp, out = a["input"], ctx.method_return
    x = trt_tensor(ctx, inp)
    if not a["use_input_stats"]:
        set_trt(ctx, out, _running_stats_norm(ctx, x, inp, a["running_mean"], a["running_var"], a["weight"],
                                              a["bias"], float(a["eps"])))
        return
    rank, c = inp.dim(), inp.shape[1]
    shape = _channel_shape(rank, c)
    scale = _affine(ctx, a["weight"], shape, out.dtype, 1.0)
    bias = _affine(ctx, a["bias"], shape, out.dtype, 0.0)
    set_trt(ctx, out, _normalization(ctx, x, scale, bias, tuple(range(2, rank)), a["eps"]))


@tensorrt_converter("torch.nn.functional.layer_norm")
def convert_layer_norm(ctx):
    a = parse_args(ctx, "input", "normalized_shape", ("weight", None), ("bias", None), ("eps", 1e-5))
    inp, out = a["input"], ctx.method_return
    x = trt_tensor(ctx, inp)
    ns = tuple(a["normalized_shape"]) if not isinstance(a["normalized_shape"], int) else (a["normalized_shape"],)
    rank = inp.dim()
    shape = (1,) * (rank - len(ns)) + ns
    scale = _affine(ctx, a["weight"], shape, out.dtype, 1.0)
    bias = _affine(ctx, a["bias"], shape, out.dtype, 0.0)
    set_trt(ctx, out, _normalization(ctx, x, scale, bias, tuple(range(rank - len(ns), rank)), a["eps"]))


@tensorrt_converter("torch.nn.functional.group_norm")
def convert_group_norm(ctx):
    a = parse_args(ctx, "input", "num_groups", ("weight", None), ("bias", None), ("eps", 1e-5))
    inp, out = a["input"], ctx.method_return
    x = trt_tensor(ctx, inp)
    rank, c, g = inp.dim(), inp.shape[1], int(a["num_groups"])
    shape = _channel_shape(rank, c)
    scale = _affine(ctx, a["weight"], shape, out.dtype, 1.0)
    bias = _affine(ctx, a["bias"], shape, out.dtype, 0.0)
    if rank == 2 or g == 1:
        # One group, or no spatial dims: statistics over the channels (and spatial dims) of each sample.
        if g == 1:
            set_trt(ctx, out, _normalization(ctx, x, scale, bias, tuple(range(1, rank)), a["eps"]))
            return
        # (N, C) with G groups: view as (N, G, C/G) and normalize the last dim.
        xg = reshape(ctx, x, (inp.shape[0], g, c // g))
        ones = constant(ctx, torch.ones((1, 1, 1), dtype=out.dtype))
        zeros = constant(ctx, torch.zeros((1, 1, 1), dtype=out.dtype))
        y = reshape(ctx, _normalization(ctx, xg, ones, zeros, (2,), a["eps"]), tuple(inp.shape))
        y = elementwise(ctx, elementwise(ctx, y, scale, E.PROD), bias, E.SUM)
        set_trt(ctx, out, y)
        return
    set_trt(ctx, out, _normalization(ctx, x, scale, bias, tuple(range(2, rank)), a["eps"], groups=g))


@tensorrt_converter("torch.nn.functional.rms_norm")
def convert_rms_norm(ctx):
    a = parse_args(ctx, "input", "normalized_shape", ("weight", None), ("eps", None))
    inp, out = a["input"], ctx.method_return
    x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
    ns = tuple(a["normalized_shape"]) if not isinstance(a["normalized_shape"], int) else (a["normalized_shape"],)
    eps = a["eps"] if a["eps"] is not None else torch.finfo(inp.dtype).eps
    rank = inp.dim()
    dims = tuple(range(rank - len(ns), rank))
    ms = reduce(ctx, elementwise(ctx, x, x, E.PROD), R.AVG, dims, True)
    rstd = unary(ctx, unary(ctx, elementwise(ctx, ms, scalar_like(ctx, eps, ms), E.SUM), U.SQRT), U.RECIP)
    y = elementwise(ctx, x, rstd, E.PROD)
    if a["weight"] is not None:
        y = elementwise(ctx, y, weight(ctx, a["weight"], shape=(1,) * (rank - len(ns)) + ns, dtype=out.dtype), E.PROD)
    set_trt(ctx, out, y)


@tensorrt_converter("torch.nn.functional.normalize")
def convert_normalize(ctx):
    a = parse_args(ctx, "input", ("p", 2.0), ("dim", 1), ("eps", 1e-12))
    inp, out = a["input"], ctx.method_return
    x = cast_to(ctx, trt_tensor(ctx, inp), out.dtype)
    d = norm_dim(a["dim"], inp.dim())
    n = vector_norm(ctx, x, a["p"], (d,), True)
    n = elementwise(ctx, n, scalar_like(ctx, a["eps"], n), E.MAX)
    set_trt(ctx, out, elementwise(ctx, x, n, E.DIV))


@tensorrt_converter("torch.nn.functional.local_response_norm")
def convert_local_response_norm(ctx):
    # b_c = a_c / (k + alpha / n * sum_{c' in window(c)} a_c'^2) ^ beta, window of n channels centred as torch.
    a = parse_args(ctx, "input", "size", ("alpha", 1e-4), ("beta", 0.75), ("k", 1.0))
    inp, out = a["input"], ctx.method_return
    x = trt_tensor(ctx, inp)
    size = int(a["size"])
    rank = inp.dim()
    sq = elementwise(ctx, x, x, E.PROD)
    # Move channels last, pad them by (size // 2, (size - 1) // 2), average over windows of `size`.
    perm = (0,) + tuple(range(2, rank)) + (1,)
    sqc = _permute(ctx, sq, perm)
    pad = ctx.network.add_padding_nd(sqc, (size // 2,), ((size - 1) // 2,)).get_output(0)
    lead = int(math.prod(pad.shape[:-1]))
    pooled = ctx.network.add_pooling_nd(reshape(ctx, pad, (lead, 1, pad.shape[-1])), trt.PoolingType.AVERAGE,
                                        (size,))
    pooled.stride_nd = (1,)
    pooled.average_count_excludes_padding = False
    avg = reshape(ctx, pooled.get_output(0), tuple(sqc.shape))
    inv = [0] * rank
    for i, p in enumerate(perm):
        inv[p] = i
    avg = _permute(ctx, avg, inv)
    den = elementwise(ctx, elementwise(ctx, avg, scalar_like(ctx, a["alpha"], avg), E.PROD),
                      scalar_like(ctx, a["k"], avg), E.SUM)
    den = elementwise(ctx, den, scalar_like(ctx, a["beta"], den), E.POW)
    set_trt(ctx, out, elementwise(ctx, x, den, E.DIV))


# ---------------------------------------------------------------------------------------------
# pooling


def _pool_input(ctx, inp, nsp):
    x = trt_tensor(ctx, inp)
    if x.dtype not in FLOAT_TYPES:
        raise TypeError(f"{func_name(ctx)}: pooling needs a float tensor, got {inp.dtype}")
    if inp.dim() < nsp + 1:
        raise ValueError(f"{func_name(ctx)}: input of shape {tuple(inp.shape)} has fewer than {nsp + 1} dims")
    return x


def _max_pool(nsp):
    def convert(ctx):
        a = parse_args(ctx, "input", "kernel_size", ("stride", None), ("padding", 0), ("dilation", 1),
                       ("ceil_mode", False), ("return_indices", False))
        if a["return_indices"]:
            reject(ctx, "return_indices", True, "the engine's pooling does not produce indices")
        inp, out = a["input"], ctx.method_return
        x = _pool_input(ctx, inp, nsp)
        k = _ntuple(a["kernel_size"], nsp, "kernel_size")
        stride = a["stride"]
        stride = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
            _ntuple(stride, nsp, "stride")
        layer = ctx.network.add_pooling_nd(x, trt.PoolingType.MAX, k)
        layer.stride_nd = stride
        layer.padding_nd = _ntuple(a["padding"], nsp, "padding")
        dilation = _ntuple(a["dilation"], nsp, "dilation")
        if any(d != 1 for d in dilation):
            layer.dilation_nd = dilation
        if a["ceil_mode"]:
            layer.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_UP
        set_trt(ctx, out, layer.get_output(0))

    convert.__name__ = f"convert_max_pool{nsp}d"
    return convert


def _avg_pool(nsp):
    def convert(ctx):
        a = parse_args(ctx, "input", "kernel_size", ("stride", None), ("padding", 0), ("ceil_mode", False),
                       ("count_include_pad", True), ("divisor_override", None))
        inp, out = a["input"], ctx.method_return
        x = _pool_input(ctx, inp, nsp)
        k = _ntuple(a["kernel_size"], nsp, "kernel_size")
        stride = a["stride"]
        stride = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
            _ntuple(stride, nsp, "stride")
        divisor = a["divisor_override"]
        if divisor is not None and a["ceil_mode"]:
            reject(ctx, "divisor_override", divisor, "together with ceil_mode=True")
        layer = ctx.network.add_pooling_nd(x, trt.PoolingType.AVERAGE, k)
        layer.stride_nd = stride
        layer.padding_nd = _ntuple(a["padding"], nsp, "padding")
        # With divisor_override every window (all inside the padded input without ceil_mode) has
        # prod(k) elements: the padded average times prod(k) / divisor is torch's sum / divisor.
        layer.average_count_excludes_padding = not a["count_include_pad"] if divisor is None else False
        if a["ceil_mode"]:
            layer.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_UP
        y = layer.get_output(0)
        if divisor is not None:
            y = elementwise(ctx, y, scalar_like(ctx, math.prod(k) / float(divisor), y), E.PROD)
        set_trt(ctx, out, y)

    convert.__name__ = f"convert_avg_pool{nsp}d"
    return convert


convert_max_pool1d = register(["torch.nn.functional.max_pool1d", "torch.max_pool1d"], _max_pool(1))
convert_max_pool2d = register(["torch.nn.functional.max_pool2d", "torch.max_pool2d"], _max_pool(2))
convert_max_pool3d = register(["torch.nn.functional.max_pool3d", "torch.max_pool3d"], _max_pool(3))
convert_avg_pool1d = register(["torch.nn.functional.avg_pool1d", "torch.avg_pool1d"], _avg_pool(1))
convert_avg_pool2d = register(["torch.nn.functional.avg_pool2d"], _avg_pool(2))
convert_avg_pool3d = register(["torch.nn.functional.avg_pool3d"], _avg_pool(3))


def _adaptive_pool(nsp, kind):
    def convert(ctx):
        a = parse_args(ctx, "input", "output_size", ("return_indices", False))
        if a["return_indices"]:
            reject(ctx, "return_indices", True, "the engine's pooling does not produce indices")
        inp, out = a["input"], ctx.method_return
        x = _pool_input(ctx, inp, nsp)
        size = a["output_size"]
        size = (size,) * nsp if isinstance(size, int) or size is None else tuple(size)
        # None keeps the input extent (torch's convention).
        spatial = tuple(inp.shape[-nsp:])
        size = tuple(spatial[i] if s is None else int(s) for i, s in enumerate(size))
        layer = ctx.network.add_adaptive_pooling_nd(x, getattr(trt.PoolingType, kind), size)
        set_trt(ctx, out, layer.get_output(0))

    return convert


convert_adaptive_avg_pool1d = register(["torch.nn.functional.adaptive_avg_pool1d", "torch.adaptive_avg_pool1d"],
                                        _adaptive_pool(1, "AVERAGE"))
convert_adaptive_avg_pool2d = register(["torch.nn.functional.adaptive_avg_pool2d"],
                                        _adaptive_pool(2, "AVERAGE"))
convert_adaptive_avg_pool3d = register(["torch.nn.functional.adaptive_avg_pool3d"],
                                        _adaptive_pool(3, "AVERAGE"))
convert_adaptive_max_pool1d = register(["torch.nn.functional.adaptive_max_pool1d"],
                                        _adaptive_pool(1, "MAX"))
convert_adaptive_max_pool2d = register(["torch.nn.functional.adaptive_max_pool2d"],
                                        _adaptive_pool(2, "MAX"))
convert_adaptive_max_pool3d = register(["torch.nn.functional.adaptive_max_pool3d"],
                                        _adaptive_pool(3, "MAX"))


# ---------------------------------------------------------------------------------------------
# dropout, identity


def _dropout(ctx):
    args, kw = ctx.method_args, ctx.method_kwargs
    name = ctx.method_name or ""
    p = kw.get("p", args[1] if len(args) > 1 else 0.5)
    # torch.dropout(input, p, train) names its flag `train`; the functionals say `training`.
    default_training = True if name.startswith("torch.nn.functional") else False
    training = kw.get("training", kw.get("train", args[2] if len(args) > 2 else default_training))
    if training and p > 0:
        reject(ctx, "training", True, "dropout is random in training mode; call model.eval()")
    inp = args[0] if args else kw["input"]
    out = ctx.method_return
    # A no-op in eval mode; the result may be a new tensor object with the same values.
    set_trt(ctx, out, trt_tensor(ctx, inp))


convert_dropout = register(
    [n for n in ("torch.nn.functional.dropout", "torch.nn.functional.dropout1d", "torch.nn.functional.dropout2d",
                 "torch.nn.functional.dropout3d", "torch.nn.functional.alpha_dropout",
                 "torch.nn.functional.feature_alpha_dropout", "torch.dropout", "torch.alpha_dropout",
                 "torch.feature_dropout", "torch.feature_alpha_dropout") if torch_has(n)], _dropout)


# ---------------------------------------------------------------------------------------------
# embedding


@tensorrt_converter("torch.nn.functional.embedding")
def convert_embedding(ctx):
    # padding_idx only stops gradients; scale_grad_by_freq and sparse only shape gradients: none of
    # them changes the forward result.
    a = parse_args(ctx, "input", "weight", ("padding_idx", None), ("max_norm", None), ("norm_type", 2.0),
                   ("scale_grad_by_freq", False), ("sparse", False))
    if a["max_norm"] is not None:
        reject(ctx, "max_norm", a["max_norm"], "it renormalizes the embedding weights in place while running")
    idx, w = a["input"], a["weight"]
    out = ctx.method_return
    table = weight(ctx, w)
    indices = trt_tensor(ctx, idx)
    layer = ctx.network.add_gather(table, indices, 0)
    set_trt(ctx, out, layer.get_output(0))


# ---------------------------------------------------------------------------------------------
# attention


def _neg_inf_like(ctx, t):
    return scalar_like(ctx, -math.inf, t)


def _attention_core(ctx, q, k, v, scale, mask=None, bool_mask_allows=True, empty_rows_zero=True):
    """softmax(q k^T * scale + mask) v for engine tensors of equal rank; returns (output, weights).

    `mask` is an engine tensor broadcastable to the scores: bool (where `bool_mask_allows` says if
    True means "may attend") or float (added). A query that may attend to nothing gets zero weights
    with `empty_rows_zero` (torch's scaled_dot_product_attention), else NaN (torch's explicit
    softmax in nn.MultiheadAttention when it returns the weights).
    """
    qs = elementwise(ctx, q, scalar_like(ctx, scale, q), E.PROD)
    scores = ctx.network.add_matrix_multiply(qs, M.NONE, k, M.TRANSPOSE).get_output(0)
    if mask is not None:
        if mask.dtype == trt.DataType.BOOL:
            allowed = mask if bool_mask_allows else unary(ctx, mask, U.NOT)
            scores = select(ctx, allowed, scores, _neg_inf_like(ctx, scores))
        else:
            scores = elementwise(ctx, scores, cast_to(ctx, mask, trt_to_torch_dtype(scores.dtype)), E.SUM)
    last = len(scores.shape) - 1
    sm = ctx.network.add_softmax(scores)
    sm.axes = axes_mask([last])
    weights = sm.get_output(0)
    if mask is not None and empty_rows_zero:
        row_max = reduce(ctx, scores, R.MAX, (last,), True)
        empty = elementwise(ctx, row_max, _neg_inf_like(ctx, row_max), E.EQUAL)
        weights = select(ctx, empty, scalar_like(ctx, 0.0, weights), weights)
    return ctx.network.add_matrix_multiply(weights, M.NONE, v, M.NONE).get_output(0), weights


def _causal_mask(ctx, L, S, rank):
    allowed = torch.ones(L, S, dtype=torch.bool).tril(diagonal=0)
    return constant(ctx, allowed.reshape((1,) * (rank - 2) + (L, S)))


@tensorrt_converter("torch.nn.functional.scaled_dot_product_attention")
def convert_sdpa(ctx):
    a = parse_args(ctx, "query", "key", "value", ("attn_mask", None), ("dropout_p", 0.0), ("is_causal", False),
                   ("scale", None), ("enable_gqa", False))
    if a["dropout_p"] > 0:
        reject(ctx, "dropout_p", a["dropout_p"], "dropout is random; pass 0.0 at inference")
    qt, kt, vt = a["query"], a["key"], a["value"]
    out = ctx.method_return
    q, k, v = trt_tensors(ctx, qt, kt, vt, dtype=out.dtype)
    E_ = qt.shape[-1]
    scale = a["scale"] if a["scale"] is not None else 1.0 / math.sqrt(E_)
    L, S = qt.shape[-2], kt.shape[-2]
    rank = max(qt.dim(), kt.dim(), vt.dim())
    q, k, v = (reshape(ctx, t, (1,) * (rank - len(t.shape)) + tuple(t.shape)) for t in (q, k, v))
    mask = None
    if a["is_causal"]:
        if a["attn_mask"] is not None:
            raise ValueError(f"{func_name(ctx)}: attn_mask together with is_causal=True is ambiguous (torch "
                             f"refuses it too)")
        mask = _causal_mask(ctx, L, S, rank)
    elif a["attn_mask"] is not None:
        mask = trt_tensor(ctx, a["attn_mask"])
        mask = reshape(ctx, mask, (1,) * (rank - len(mask.shape)) + tuple(mask.shape))
    hq = qt.shape[-3] if qt.dim() >= 3 else 1
    hk = kt.shape[-3] if kt.dim() >= 3 else 1
    if a["enable_gqa"] and hq != hk:
        # Query head h uses key/value head h // (Hq / Hk): split the query heads into (Hk, G) and let
        # the key/value heads broadcast over G.
        g = hq // hk
        lead = tuple(qt.shape[:-3])
        q = reshape(ctx, q, lead + (hk, g, L, E_))
        k = reshape(ctx, k, tuple(kt.shape[:-3]) + (hk, 1, S, kt.shape[-1]))
        v = reshape(ctx, v, tuple(vt.shape[:-3]) + (hk, 1, S, vt.shape[-1]))
        if mask is not None:
            ms = tuple(mask.shape)
            if ms[-3] == hq:
                mask = reshape(ctx, mask, ms[:-3] + (hk, g) + ms[-2:])
            else:
                mask = reshape(ctx, mask, ms[:-3] + (ms[-3], 1) + ms[-2:])
    y, _ = _attention_core(ctx, q, k, v, scale, mask)
    set_trt(ctx, out, reshape(ctx, y, tuple(out.shape)))


@tensorrt_converter("torch.nn.MultiheadAttention.forward")
def convert_multihead_attention(ctx):
    m = ctx.method_args[0]
    names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
             "is_causal")
    defaults = (None, None, None, None, True, None, True, False)
    vals = dict(zip(names, defaults))
    for n, v in zip(names, ctx.method_args[1:]):
        vals[n] = v
    vals.update(ctx.method_kwargs)
    out = ctx.method_return
    if m.training and m.dropout > 0:
        reject(ctx, "training", True, "attention dropout is random in training mode; call model.eval()")
    query, key, value = vals["query"], vals["key"], vals["value"]
    dtype = out[0].dtype
    batched = query.dim() == 3
    E_, H = m.embed_dim, m.num_heads
    hd = E_ // H

    def to_nle(t):
        """(N, L, E) engine tensor from the module's layout."""
        x = trt_tensor(ctx, t, dtype=dtype)
        if not batched:
            return reshape(ctx, x, (1,) + tuple(t.shape))
        return x if m.batch_first else _permute(ctx, x, (1, 0, 2))

    def seq_shape(t):
        s = tuple(t.shape)
        if not batched:
            return (1,) + s
        return s if m.batch_first else (s[1], s[0], s[2])

    q_in, k_in, v_in = to_nle(query), to_nle(key), to_nle(value)
    qs, ks, vs = seq_shape(query), seq_shape(key), seq_shape(value)
    N, L = qs[0], qs[1]
    if m._qkv_same_embed_dim:
        wq, wk, wv = (m.in_proj_weight[i * E_:(i + 1) * E_] for i in range(3))
    else:
        wq, wk, wv = m.q_proj_weight, m.k_proj_weight, m.v_proj_weight
    bias = m.in_proj_bias
    bq, bk, bv = ((bias[i * E_:(i + 1) * E_] for i in range(3)) if bias is not None else (None, None, None))
    q = linear(ctx, q_in, wq, bq, qs)
    k = linear(ctx, k_in, wk, bk, ks)
    v = linear(ctx, v_in, wv, bv, vs)
    S = ks[1]

    attn_mask = vals["attn_mask"]
    kpm = vals["key_padding_mask"]
    mask_t = _mha_mask(ctx, attn_mask, kpm, N, H, L, S, batched, dtype)

    extra = 0
    if m.bias_k is not None:
        # add_bias_kv: one more key/value position holding the learned biases.
        k = _concat(ctx, [k, weight(ctx, m.bias_k, shape=(1, 1, E_), dtype=dtype) if N == 1 else
                          _tile_rows(ctx, m.bias_k, N, E_, dtype)], 1)
        v = _concat(ctx, [v, weight(ctx, m.bias_v, shape=(1, 1, E_), dtype=dtype) if N == 1 else
                          _tile_rows(ctx, m.bias_v, N, E_, dtype)], 1)
        extra += 1
    if m.add_zero_attn:
        zeros = constant(ctx, torch.zeros((N, 1, E_), dtype=dtype))
        k = _concat(ctx, [k, zeros], 1)
        v = _concat(ctx, [v, zeros], 1)
        extra += 1
    S2 = S + extra
    if extra and mask_t is not None:
        # The extra positions may always be attended to (torch pads the masks with zeros/False).
        pad_shape = tuple(mask_t.shape[:-1]) + (extra,)
        fill = torch.zeros(pad_shape, dtype=torch.float32 if mask_t.dtype != trt.DataType.BOOL else torch.bool)
        if mask_t.dtype != trt.DataType.BOOL:
            fill = fill.to(trt_to_torch_dtype(mask_t.dtype))
        mask_t = _concat(ctx, [mask_t, constant(ctx, fill)], len(mask_t.shape) - 1)

    def heads(t, n):
        return _permute(ctx, reshape(ctx, t, (N, n, H, hd)), (0, 2, 1, 3))  # (N, H, n, hd)

    # Returning the weights, torch takes the explicit softmax path (NaN rows where nothing may be
    # attended to); without them it uses scaled_dot_product_attention (zero rows).
    y, w = _attention_core(ctx, heads(q, L), heads(k, S2), heads(v, S2), 1.0 / math.sqrt(hd), mask_t,
                           bool_mask_allows=False, empty_rows_zero=out[1] is None)
    y = reshape(ctx, _permute(ctx, y, (0, 2, 1, 3)), (N, L, E_))
    y = linear(ctx, y, m.out_proj.weight, m.out_proj.bias, (N, L, E_))
    if not batched:
        y = reshape(ctx, y, (L, E_))
    elif not m.batch_first:
        y = _permute(ctx, y, (1, 0, 2))
    set_trt(ctx, out[0], y)
    if out[1] is not None:
        if vals["average_attn_weights"]:
            w = reduce(ctx, w, R.AVG, (1,), False)
        set_trt(ctx, out[1], reshape(ctx, w, tuple(out[1].shape)))


def _tile_rows(ctx, b, n, e, dtype):
    return constant(ctx, b.detach().reshape(1, 1, e).expand(n, 1, e).contiguous(), dtype=dtype)


def _mha_mask(ctx, attn_mask, kpm, N, H, L, S, batched, dtype):
    """One mask broadcastable to the (N, H, L, S) scores, combining attn_mask and key_padding_mask.

    Bool masks say True = may NOT attend (nn.MultiheadAttention's convention); float masks are added.
    """
    masks = []
    if attn_mask is not None:
        t = trt_tensor(ctx, attn_mask)
        if attn_mask.dim() == 2:
            t = reshape(ctx, t, (1, 1, L, S))
        else:
            t = reshape(ctx, t, (N, H, L, S))
        masks.append(t)
    if kpm is not None:
        t = trt_tensor(ctx, kpm)
        t = reshape(ctx, t, (N if batched else 1, 1, 1, S))
        masks.append(t)
    if not masks:
        return None
    if len(masks) == 1:
        return masks[0]
    a, b = masks
    if a.dtype == trt.DataType.BOOL and b.dtype == trt.DataType.BOOL:
        return elementwise(ctx, a, b, E.OR)
    # Mixed or float masks: turn each into an additive float mask (-inf where disallowed) and add.
    adds = []
    for t in (a, b):
        if t.dtype == trt.DataType.BOOL:
            zero = constant(ctx, torch.zeros((1,) * 4, dtype=dtype))
            t = select(ctx, t, _neg_inf_like(ctx, zero), zero)
        else:
            t = cast_to(ctx, t, dtype)
        adds.append(t)
    return elementwise(ctx, adds[0], adds[1], E.SUM)

name_converters(globals())
