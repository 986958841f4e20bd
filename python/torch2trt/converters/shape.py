"""Shape and data-movement converters: view/reshape family, permutes, expand/repeat, split/cat,
flip/roll, padding, interpolation, pixel shuffles, clone/contiguous.

Shapes are static, so converters whose result is a reshape of their input take the target shape
from the torch result itself: every spelling torch accepts (-1, torch.Size, varargs, named dims)
is then honoured exactly. nn modules (nn.Flatten, nn.Unflatten, nn.ZeroPad2d, nn.Upsample,
nn.PixelShuffle, ...) call these functions and methods from their forward and are covered by them.
Tensor.size / shape / dim / numel return Python ints and need no converter.
"""

import torch

from torch2trt import trt
from torch2trt.conversion import tensorrt_converter

from ._shape_utils import (
    as_int,
    broadcast_to,
    concat,
    gather,
    index_constant,
    int_list,
    reshape,
    select_index,
    set_result,
    slice_layer,
    split_sections,
    static_numpy,
    transpose,
    varargs,
    wrap_to,
)
from ._utils import (
    func_name,
    get_arg,
    norm_dim,
    parse_args,
    reject,
    reject_out,
    set_trt,
    trt_tensor,
    trt_tensors,
)


def _input(ctx):
    """The engine tensor of the call's first argument (self of a method, input of a function)."""
    reject_out(ctx)
    return trt_tensor(ctx, ctx.method_args[0] if ctx.method_args else ctx.method_kwargs["input"])


def _rank(ctx):
    x = ctx.method_args[0] if ctx.method_args else ctx.method_kwargs["input"]
    return x.dim()


# ---------------------------------------------------------------------------------------------
# Reshapes: the result's shape is the torch result's shape


@tensorrt_converter("torch.Tensor.view")
def convert_view(ctx):
    x = ctx.method_args[0]
    dtype = get_arg(ctx, "dtype", 1, None)
    if isinstance(dtype, torch.dtype) and dtype != x.dtype:
        reject(ctx, "dtype", dtype, "reinterpreting the bits of a tensor as another dtype is not supported; use .to()")
    set_result(ctx, reshape(ctx, _input(ctx), ctx.method_return.shape))


@tensorrt_converter("torch.Tensor.reshape")
@tensorrt_converter("torch.reshape")
@tensorrt_converter("torch.Tensor.view_as")
@tensorrt_converter("torch.Tensor.reshape_as")
@tensorrt_converter("torch.flatten")
@tensorrt_converter("torch.Tensor.flatten")
@tensorrt_converter("torch.ravel")
@tensorrt_converter("torch.Tensor.ravel")
@tensorrt_converter("torch.unflatten")
@tensorrt_converter("torch.Tensor.unflatten")
@tensorrt_converter("torch.squeeze")
@tensorrt_converter("torch.Tensor.squeeze")
@tensorrt_converter("torch.Tensor.squeeze_")
@tensorrt_converter("torch.unsqueeze")
@tensorrt_converter("torch.Tensor.unsqueeze")
@tensorrt_converter("torch.Tensor.unsqueeze_")
@tensorrt_converter("torch.atleast_1d")
@tensorrt_converter("torch.atleast_2d")
@tensorrt_converter("torch.atleast_3d")
def convert_reshape(ctx):
    ret = ctx.method_return
    if isinstance(ret, torch.Tensor):
        set_result(ctx, reshape(ctx, _input(ctx), ret.shape))
        return
    # atleast_Nd on several tensors returns a tuple, one result per argument
    args = ctx.method_args[0] if len(ctx.method_args) == 1 else ctx.method_args
    for a, r in zip(args, ret):
        set_trt(ctx, r, reshape(ctx, trt_tensor(ctx, a), r.shape))


# ---------------------------------------------------------------------------------------------
# Permutations


def _set_permuted(ctx, perm):
    set_result(ctx, transpose(ctx, _input(ctx), perm))


@tensorrt_converter("torch.permute")
@tensorrt_converter("torch.Tensor.permute")
def convert_permute(ctx):
    rank = _rank(ctx)
    dims = [norm_dim(d, rank) for d in varargs(ctx, "dims", 1)]
    _set_permuted(ctx, dims)


def _swap_perm(rank, a, b):
    perm = list(range(rank))
    if rank:
        a, b = norm_dim(a, rank), norm_dim(b, rank)
        perm[a], perm[b] = perm[b], perm[a]
    return perm


@tensorrt_converter("torch.transpose")
@tensorrt_converter("torch.Tensor.transpose")
@tensorrt_converter("torch.Tensor.transpose_")
@tensorrt_converter("torch.swapdims")
@tensorrt_converter("torch.Tensor.swapdims")
@tensorrt_converter("torch.Tensor.swapdims_")
def convert_transpose(ctx):
    a = parse_args(ctx, "input", "dim0", "dim1")
    _set_permuted(ctx, _swap_perm(_rank(ctx), as_int(ctx, a["dim0"], "dim0"), as_int(ctx, a["dim1"], "dim1")))


@tensorrt_converter("torch.swapaxes")
@tensorrt_converter("torch.Tensor.swapaxes")
@tensorrt_converter("torch.Tensor.swapaxes_")
def convert_swapaxes(ctx):
    a = parse_args(ctx, "input", "axis0", "axis1")
    _set_permuted(ctx, _swap_perm(_rank(ctx), as_int(ctx, a["axis0"], "axis0"), as_int(ctx, a["axis1"], "axis1")))


@tensorrt_converter("torch.t")
@tensorrt_converter("torch.Tensor.t")
@tensorrt_converter("torch.Tensor.t_")
@tensorrt_converter("torch.Tensor.adjoint")
@tensorrt_converter("torch.adjoint")
def convert_t(ctx):
    rank = _rank(ctx)
    if func_name(ctx).endswith("adjoint"):
        if ctx.method_args[0].is_complex():
            reject(ctx, "input", "complex tensor", "the engine has no complex dtypes")
        _set_permuted(ctx, _swap_perm(rank, -1, -2))
    else:
        _set_permuted(ctx, _swap_perm(rank, 0, 1) if rank == 2 else list(range(rank)))


@tensorrt_converter("torch.movedim")
@tensorrt_converter("torch.Tensor.movedim")
@tensorrt_converter("torch.moveaxis")
@tensorrt_converter("torch.Tensor.moveaxis")
def convert_movedim(ctx):
    a = parse_args(ctx, "input", "source", "destination")
    rank = _rank(ctx)
    src = [norm_dim(d, rank) for d in int_list(ctx, a["source"], "source")]
    dst = [norm_dim(d, rank) for d in int_list(ctx, a["destination"], "destination")]
    perm = [None] * rank
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(d for d in range(rank) if d not in src)
    perm = [p if p is not None else next(rest) for p in perm]
    _set_permuted(ctx, perm)


# ---------------------------------------------------------------------------------------------
# Broadcasting and repetition


@tensorrt_converter("torch.Tensor.expand")
@tensorrt_converter("torch.Tensor.expand_as")
@tensorrt_converter("torch.broadcast_to")
@tensorrt_converter("torch.Tensor.broadcast_to")
def convert_expand(ctx):
    set_result(ctx, broadcast_to(ctx, _input(ctx), ctx.method_return.shape))


@tensorrt_converter("torch.broadcast_tensors")
def convert_broadcast_tensors(ctx):
    for a, r in zip(ctx.method_args, ctx.method_return):
        set_trt(ctx, r, broadcast_to(ctx, trt_tensor(ctx, a), r.shape))


@tensorrt_converter("torch.Tensor.repeat")
@tensorrt_converter("torch.tile")
@tensorrt_converter("torch.Tensor.tile")
def convert_repeat(ctx):
    # Both repeat the whole tensor along every dim (with leading 1s added to the input first):
    # out[i] = x[i mod extent], which a wrapping slice computes directly.
    x = _input(ctx)
    shape = ctx.method_return.shape
    x = reshape(ctx, x, [1] * (len(shape) - len(x.shape)) + list(x.shape))
    set_result(ctx, wrap_to(ctx, x, shape))


@tensorrt_converter("torch.repeat_interleave")
@tensorrt_converter("torch.Tensor.repeat_interleave")
def convert_repeat_interleave(ctx):
    a = parse_args(ctx, "input", ("repeats", None), ("dim", None), ("output_size", None))
    if a["repeats"] is None:
        # torch.repeat_interleave(repeats): the indices of a run-length encoding, a data-dependent shape
        static_numpy(ctx, a["input"], "repeats")
    x = trt_tensor(ctx, a["input"])
    if a["dim"] is None:
        x = reshape(ctx, x, [a["input"].numel()])
        dim, extent = 0, a["input"].numel()
    else:
        dim = norm_dim(as_int(ctx, a["dim"], "dim"), _rank(ctx))
        extent = a["input"].shape[dim] if a["input"].dim() else 1
        if a["input"].dim() == 0:
            x = reshape(ctx, x, [1])
    repeats = a["repeats"]
    reps = static_numpy(ctx, repeats, "repeats").reshape(-1) if isinstance(repeats, torch.Tensor) else [repeats]
    idx = torch.repeat_interleave(torch.arange(extent), torch.as_tensor(reps, dtype=torch.int64)).numpy()
    out = gather(ctx, x, index_constant(ctx, idx), dim)
    set_result(ctx, reshape(ctx, out, ctx.method_return.shape))


# ---------------------------------------------------------------------------------------------
# Slicing into pieces


@tensorrt_converter("torch.narrow")
@tensorrt_converter("torch.Tensor.narrow")
@tensorrt_converter("torch.narrow_copy")
@tensorrt_converter("torch.Tensor.narrow_copy")
def convert_narrow(ctx):
    a = parse_args(ctx, "input", "dim", "start", "length")
    x = trt_tensor(ctx, a["input"])
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), _rank(ctx))
    start = as_int(ctx, a["start"], "start")
    length = as_int(ctx, a["length"], "length")
    if start < 0:
        start += x.shape[dim]
    (out,) = split_sections(ctx, x, dim, [(start, start + length)])
    set_result(ctx, out)


def _consecutive(ctx, x, dim, outputs):
    """Binds outputs that are consecutive pieces of `dim` (chunk, split)."""
    bounds, begin = [], 0
    for r in outputs:
        n = r.shape[dim]
        bounds.append((begin, begin + n))
        begin += n
    for r, t in zip(outputs, split_sections(ctx, x, dim, bounds)):
        set_trt(ctx, r, t)


@tensorrt_converter("torch.chunk")
@tensorrt_converter("torch.Tensor.chunk")
def convert_chunk(ctx):
    a = parse_args(ctx, "input", "chunks", ("dim", 0))
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), _rank(ctx))
    _consecutive(ctx, trt_tensor(ctx, a["input"]), dim, ctx.method_return)


@tensorrt_converter("torch.split")
@tensorrt_converter("torch.Tensor.split")
@tensorrt_converter("torch.Tensor.split_with_sizes")
@tensorrt_converter("torch.split_with_sizes")
def convert_split(ctx):
    name = "split_size" if func_name(ctx) == "torch.Tensor.split" else "split_size_or_sections"
    if func_name(ctx).endswith("split_with_sizes"):
        name = "split_sizes"
    a = parse_args(ctx, "input", name, ("dim", 0))
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), _rank(ctx))
    _consecutive(ctx, trt_tensor(ctx, a["input"]), dim, ctx.method_return)


def _tensor_split_bounds(ctx, extent, sections_or_indices, what):
    if isinstance(sections_or_indices, torch.Tensor) and sections_or_indices.dim() == 0:
        sections_or_indices = as_int(ctx, sections_or_indices, what)
    if isinstance(sections_or_indices, int):
        n = sections_or_indices
        size, extra = divmod(extent, n)
        bounds, begin = [], 0
        for i in range(n):
            end = begin + size + (1 if i < extra else 0)
            bounds.append((begin, end))
            begin = end
        return bounds
    cuts = [c + extent if c < 0 else c for c in int_list(ctx, sections_or_indices, what)]
    cuts = [min(max(c, 0), extent) for c in cuts]
    starts, ends = [0] + cuts, cuts + [extent]
    return [(s, max(s, e)) for s, e in zip(starts, ends)]


def _bind_bounds(ctx, x, dim, bounds):
    for r, t in zip(ctx.method_return, split_sections(ctx, x, dim, bounds)):
        set_trt(ctx, r, t)


@tensorrt_converter("torch.tensor_split")
@tensorrt_converter("torch.Tensor.tensor_split")
def convert_tensor_split(ctx):
    reject_out(ctx)
    x_t = ctx.method_args[0]
    if "indices" in ctx.method_kwargs or "sections" in ctx.method_kwargs:
        arg = ctx.method_kwargs.get("indices", ctx.method_kwargs.get("sections"))
        dim = get_arg(ctx, "dim", 2 if len(ctx.method_args) > 2 else None, 0)
    else:
        arg = get_arg(ctx, "tensor_indices_or_sections", 1, None)
        dim = get_arg(ctx, "dim", 2, 0)
    dim = norm_dim(as_int(ctx, dim, "dim"), x_t.dim())
    _bind_bounds(ctx, trt_tensor(ctx, x_t), dim, _tensor_split_bounds(ctx, x_t.shape[dim], arg, "indices_or_sections"))


@tensorrt_converter("torch.hsplit")
@tensorrt_converter("torch.Tensor.hsplit")
@tensorrt_converter("torch.vsplit")
@tensorrt_converter("torch.Tensor.vsplit")
@tensorrt_converter("torch.dsplit")
@tensorrt_converter("torch.Tensor.dsplit")
def convert_hvdsplit(ctx):
    a = parse_args(ctx, "input", "indices_or_sections")
    x_t = a["input"]
    kind = func_name(ctx).rsplit(".", 1)[-1]
    dim = {"hsplit": 1 if x_t.dim() > 1 else 0, "vsplit": 0, "dsplit": 2}[kind]
    _bind_bounds(
        ctx,
        trt_tensor(ctx, x_t),
        dim,
        _tensor_split_bounds(ctx, x_t.shape[dim], a["indices_or_sections"], "indices_or_sections"),
    )


@tensorrt_converter("torch.unbind")
@tensorrt_converter("torch.Tensor.unbind")
def convert_unbind(ctx):
    a = parse_args(ctx, "input", ("dim", 0))
    x = trt_tensor(ctx, a["input"])
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), _rank(ctx))
    for i, r in enumerate(ctx.method_return):
        set_trt(ctx, r, select_index(ctx, x, dim, i))


# ---------------------------------------------------------------------------------------------
# Joining


def _joined(ctx, tensors, result_dtype):
    """Engine tensors of the inputs of a cat-like call, in torch's promoted result dtype."""
    return trt_tensors(ctx, *tensors, dtype=result_dtype)


@tensorrt_converter("torch.cat")
@tensorrt_converter("torch.concat")
@tensorrt_converter("torch.concatenate")
def convert_cat(ctx):
    dim_name = "axis" if func_name(ctx) == "torch.concatenate" else "dim"
    a = parse_args(ctx, "tensors", (dim_name, 0))
    ret = ctx.method_return
    # torch.cat skips 1-d empty tensors (a legacy rule), whatever the rank of the others
    tensors = [t for t in a["tensors"] if not (t.dim() == 1 and t.shape[0] == 0)] or list(a["tensors"][:1])
    dim = norm_dim(as_int(ctx, a[dim_name], dim_name), ret.dim())
    set_trt(ctx, ret, concat(ctx, _joined(ctx, tensors, ret.dtype), dim))


@tensorrt_converter("torch.stack")
def convert_stack(ctx):
    a = parse_args(ctx, "tensors", ("dim", 0))
    ret = ctx.method_return
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), ret.dim())
    pieces = []
    for t in _joined(ctx, a["tensors"], ret.dtype):
        shape = list(t.shape)
        pieces.append(reshape(ctx, t, shape[:dim] + [1] + shape[dim:]))
    set_trt(ctx, ret, concat(ctx, pieces, dim))


def _stack_like(ctx, min_rank, dim_for):
    """hstack/vstack/dstack/column_stack: each input raised to a minimum rank, then concatenated."""
    reject_out(ctx)
    tensors = get_arg(ctx, "tensors", 0, None)
    ret = ctx.method_return
    pieces = []
    for t, e in zip(tensors, _joined(ctx, tensors, ret.dtype)):
        pieces.append(reshape(ctx, e, min_rank(list(t.shape))))
    set_trt(ctx, ret, concat(ctx, pieces, dim_for(tensors)))


@tensorrt_converter("torch.hstack")
def convert_hstack(ctx):
    _stack_like(ctx, lambda s: s or [1], lambda ts: 0 if max(t.dim() for t in ts) <= 1 else 1)


@tensorrt_converter("torch.vstack")
@tensorrt_converter("torch.row_stack")
def convert_vstack(ctx):
    _stack_like(ctx, lambda s: s if len(s) >= 2 else [1] + (s or [1]), lambda ts: 0)


@tensorrt_converter("torch.dstack")
def convert_dstack(ctx):
    def at3(s):
        if len(s) == 0:
            return [1, 1, 1]
        if len(s) == 1:
            return [1, s[0], 1]
        if len(s) == 2:
            return s + [1]
        return s

    _stack_like(ctx, at3, lambda ts: 2)


@tensorrt_converter("torch.column_stack")
def convert_column_stack(ctx):
    _stack_like(ctx, lambda s: s if len(s) >= 2 else (s or [1]) + [1], lambda ts: 1)


# ---------------------------------------------------------------------------------------------
# Flip and roll


def _flip(ctx, x, dims):
    shape = list(x.shape)
    start = [shape[d] - 1 if d in dims else 0 for d in range(len(shape))]
    stride = [-1 if d in dims else 1 for d in range(len(shape))]
    return slice_layer(ctx, x, start, shape, stride)


@tensorrt_converter("torch.flip")
@tensorrt_converter("torch.Tensor.flip")
def convert_flip(ctx):
    rank = _rank(ctx)
    dims = {norm_dim(d, rank) for d in varargs(ctx, "dims", 1)}
    x = _input(ctx)
    set_result(ctx, _flip(ctx, x, dims) if dims and rank else x)


@tensorrt_converter("torch.fliplr")
@tensorrt_converter("torch.Tensor.fliplr")
def convert_fliplr(ctx):
    set_result(ctx, _flip(ctx, _input(ctx), {1}))


@tensorrt_converter("torch.flipud")
@tensorrt_converter("torch.Tensor.flipud")
def convert_flipud(ctx):
    set_result(ctx, _flip(ctx, _input(ctx), {0}))


@tensorrt_converter("torch.roll")
@tensorrt_converter("torch.Tensor.roll")
def convert_roll(ctx):
    a = parse_args(ctx, "input", "shifts", ("dims", None))
    x_t = a["input"]
    x = trt_tensor(ctx, x_t)
    shifts = int_list(ctx, a["shifts"], "shifts")
    dims = a["dims"]
    if dims is None or (not isinstance(dims, int) and len(dims) == 0):
        # no dims: roll the flattened tensor, then restore the shape
        if len(shifts) != 1:
            reject(ctx, "shifts", a["shifts"], "without dims, torch.roll takes one shift")
        n = x_t.numel()
        out = wrap_to(ctx, reshape(ctx, x, [n]), [n], [(-shifts[0]) % n if n else 0])
        set_result(ctx, reshape(ctx, out, x_t.shape))
        return
    dims = [norm_dim(d, x_t.dim()) for d in int_list(ctx, dims, "dims")]
    start = [0] * x_t.dim()
    for s, d in zip(shifts, dims):
        start[d] = (start[d] - s) % x_t.shape[d] if x_t.shape[d] else 0
    set_result(ctx, wrap_to(ctx, x, list(x_t.shape), start))


# ---------------------------------------------------------------------------------------------
# Padding


_PAD_MODES = {"constant": "CONSTANT", "reflect": "REFLECT", "replicate": "REPLICATE", "circular": "CIRCULAR"}


@tensorrt_converter("torch.nn.functional.pad")
def convert_pad(ctx):
    a = parse_args(ctx, "input", "pad", ("mode", "constant"), ("value", None))
    x_t = a["input"]
    pad = int_list(ctx, a["pad"], "pad")
    mode = a["mode"]
    if mode not in _PAD_MODES:
        reject(ctx, "mode", mode, f"expected one of {sorted(_PAD_MODES)}")
    value = 0.0 if a["value"] is None else a["value"]
    if mode != "constant" and value not in (0, None):
        reject(ctx, "value", value, f"a fill value only applies to mode='constant', not {mode!r}")
    x = trt_tensor(ctx, x_t)
    # torch lists (before, after) pairs from the last dim backwards; the padding layer takes the
    # innermost len(pre) dims in order
    n = len(pad) // 2
    pre = [pad[2 * (n - 1 - i)] for i in range(n)]
    post = [pad[2 * (n - 1 - i) + 1] for i in range(n)]
    layer = ctx.network.add_padding_nd(x, pre, post)
    layer.mode = getattr(trt.PadMode, _PAD_MODES[mode])
    if mode == "constant":
        layer.value = float(value)
    set_result(ctx, layer.get_output(0))


# ---------------------------------------------------------------------------------------------
# Interpolation


_INTERP = {
    "nearest": ("NEAREST", "ASYMMETRIC", "FLOOR"),
    "nearest-exact": ("NEAREST", "HALF_PIXEL", "HALF_UP"),
    "linear": ("LINEAR", None, None),
    "bilinear": ("LINEAR", None, None),
    "trilinear": ("LINEAR", None, None),
    "bicubic": ("CUBIC", None, None),
}


@tensorrt_converter("torch.nn.functional.interpolate")
def convert_interpolate(ctx):
    a = parse_args(
        ctx,
        "input",
        ("size", None),
        ("scale_factor", None),
        ("mode", "nearest"),
        ("align_corners", None),
        ("recompute_scale_factor", None),
        ("antialias", False),
    )
    x_t, ret, mode = a["input"], ctx.method_return, a["mode"]
    if a["antialias"]:
        reject(ctx, "antialias", True, "anti-aliased resampling is not implemented by the resize layer")
    x = trt_tensor(ctx, x_t)
    if mode == "area":
        # torch computes 'area' as adaptive average pooling to the output size
        layer = ctx.network.add_adaptive_pooling_nd(x, trt.PoolingType.AVERAGE, list(ret.shape[2:]))
        set_trt(ctx, ret, layer.get_output(0))
        return
    if mode not in _INTERP:
        reject(ctx, "mode", mode, f"expected one of {sorted(list(_INTERP) + ['area'])}")
    kind, coord, rounding = _INTERP[mode]
    layer = ctx.network.add_resize(x)
    layer.resize_mode = getattr(trt.InterpolationMode, kind)
    if coord is None:
        coord = "ALIGN_CORNERS" if a["align_corners"] else "HALF_PIXEL"
    layer.coordinate_transformation = getattr(trt.ResizeCoordinateTransformation, coord)
    if rounding is not None:
        layer.nearest_rounding = getattr(trt.ResizeRoundMode, rounding)
    if kind == "CUBIC":
        layer.cubic_coeff = -0.75  # PyTorch's bicubic kernel coefficient
        layer.exclude_outside = False
    spatial = ret.dim() - 2
    scales = a["scale_factor"]
    if scales is not None and a["size"] is None and not a["recompute_scale_factor"]:
        # torch maps coordinates with 1/scale_factor, not in/out: keep the given factors. Its
        # 'nearest' and linear kernels copy a dim whose extent does not change, whatever the
        # factor ('nearest-exact' and 'bicubic' do not): scale 1 there.
        scales = list(scales) if isinstance(scales, (list, tuple)) else [scales] * spatial
        copies_same = mode == "nearest" or kind == "LINEAR"
        factors = [1.0, 1.0]
        for i, s in enumerate(scales):
            same = ret.shape[2 + i] == x_t.shape[2 + i]
            factors.append(1.0 if (same and copies_same) else float(s))
        layer.scales = factors
        if list(layer.get_output(0).shape) != list(ret.shape):
            raise ValueError(
                f"{func_name(ctx)}: the resize layer computes shape {list(layer.get_output(0).shape)} from "
                f"scale_factor={a['scale_factor']}, PyTorch {list(ret.shape)}"
            )
    else:
        layer.shape = list(ret.shape)
    set_trt(ctx, ret, layer.get_output(0))


@tensorrt_converter("torch.nn.functional.upsample")
def convert_upsample(ctx):
    convert_interpolate(ctx)


@tensorrt_converter("torch.nn.functional.upsample_nearest")
@tensorrt_converter("torch.nn.functional.upsample_bilinear")
def convert_upsample_fixed(ctx):
    # Deprecated wrappers of interpolate with a fixed mode (bilinear uses align_corners=True)
    a = parse_args(ctx, "input", ("size", None), ("scale_factor", None))
    bilinear = func_name(ctx).endswith("bilinear")
    ctx.method_args = (a["input"],)
    ctx.method_kwargs = {
        "size": a["size"],
        "scale_factor": a["scale_factor"],
        "mode": "bilinear" if bilinear else "nearest",
        "align_corners": True if bilinear else None,
    }
    convert_interpolate(ctx)


# ---------------------------------------------------------------------------------------------
# Pixel and channel shuffles


def _shuffle(ctx, x, reshape_dims, perm, out_shape):
    return reshape(ctx, transpose(ctx, reshape(ctx, x, reshape_dims), perm), out_shape)


@tensorrt_converter("torch.nn.functional.pixel_shuffle")
@tensorrt_converter("torch.pixel_shuffle")
def convert_pixel_shuffle(ctx):
    a = parse_args(ctx, "input", "upscale_factor")
    r = as_int(ctx, a["upscale_factor"], "upscale_factor")
    x_t = a["input"]
    *batch, c, h, w = x_t.shape
    b = len(batch)
    oc = c // (r * r)
    perm = list(range(b)) + [b, b + 3, b + 1, b + 4, b + 2]
    out = _shuffle(ctx, trt_tensor(ctx, x_t), batch + [oc, r, r, h, w], perm, ctx.method_return.shape)
    set_result(ctx, out)


@tensorrt_converter("torch.nn.functional.pixel_unshuffle")
@tensorrt_converter("torch.pixel_unshuffle")
def convert_pixel_unshuffle(ctx):
    a = parse_args(ctx, "input", "downscale_factor")
    r = as_int(ctx, a["downscale_factor"], "downscale_factor")
    x_t = a["input"]
    *batch, c, h, w = x_t.shape
    b = len(batch)
    perm = list(range(b)) + [b, b + 2, b + 4, b + 1, b + 3]
    out = _shuffle(ctx, trt_tensor(ctx, x_t), batch + [c, h // r, r, w // r, r], perm, ctx.method_return.shape)
    set_result(ctx, out)


@tensorrt_converter("torch.nn.functional.channel_shuffle")
@tensorrt_converter("torch.channel_shuffle")
@tensorrt_converter("torch.native_channel_shuffle")
def convert_channel_shuffle(ctx):
    a = parse_args(ctx, "input", "groups")
    g = as_int(ctx, a["groups"], "groups")
    x_t = a["input"]
    n, c, *rest = x_t.shape
    out = _shuffle(
        ctx, trt_tensor(ctx, x_t), [n, g, c // g] + rest, [0, 2, 1] + list(range(3, 3 + len(rest))), x_t.shape
    )
    set_result(ctx, out)


# ---------------------------------------------------------------------------------------------
# Copies: the engine's tensors are values, so a copy is the same engine tensor


@tensorrt_converter("torch.clone")
@tensorrt_converter("torch.Tensor.clone")
@tensorrt_converter("torch.Tensor.contiguous")
@tensorrt_converter("torch.detach")
@tensorrt_converter("torch.Tensor.detach")
@tensorrt_converter("torch.Tensor.detach_")
def convert_clone(ctx):
    # memory_format only changes strides, never values; the engine returns dense tensors.
    ret = ctx.method_return
    x = _input(ctx)
    if ret is not ctx.method_args[0] or func_name(ctx).endswith("_"):
        set_result(ctx, x)
