"""Indexing converters: x[key] reads and writes, index_select, gather, scatter, take_along_dim,
take, masked_select, select.

x[key] follows torch's rules: ints, slices with steps, None, Ellipsis, lists and integer tensors
(advanced indexing, whose result dims go where the advanced indices are when they are adjacent and
first otherwise), and boolean masks. A boolean mask or an index tensor computed from the network
inputs is allowed where the result's shape does not depend on its values (integer tensors); a
mask computed from the network decides the result's shape at run time, which static engines
cannot do, and raises.
"""

import numbers

import numpy as np
import torch

from torch2trt import trt
from torch2trt.conversion import tensorrt_converter

from ._shape_utils import (
    as_int,
    broadcast_to,
    concat,
    data_dependent,
    flat,
    gather,
    index_constant,
    is_static_value,
    normalize_index,
    reshape,
    select_index,
    set_result,
    slice_layer,
    static_numpy,
    transpose,
)
from ._utils import (
    cast,
    constant,
    elementwise,
    func_name,
    norm_dim,
    parse_args,
    reject,
    scalar_constant,
    set_trt,
    trt_tensor,
    trt_to_torch_dtype,
)

# ---------------------------------------------------------------------------------------------
# Keys


def _key_items(key):
    return list(key) if isinstance(key, tuple) else [key]


def _is_bool_index(item):
    if isinstance(item, torch.Tensor):
        return item.dtype == torch.bool
    return isinstance(item, np.ndarray) and item.dtype == np.bool_


def _as_index(ctx, item):
    """A list index becomes an array (or, when it holds tensors computed from the network, an
    engine tensor joining them); tensors stay tensors."""
    if isinstance(item, (list, tuple)):
        if any(isinstance(v, torch.Tensor) and not is_static_value(ctx, v) for v in item):
            return _joined_index(ctx, item)
        arr = np.asarray([v.item() if isinstance(v, torch.Tensor) else v for v in item])
        if arr.dtype != np.bool_ and not np.issubdtype(arr.dtype, np.integer):
            reject(ctx, "index", item, "a list index must hold ints or bools")
        return arr
    return item


def _joined_index(ctx, items):
    parts = []
    for v in items:
        if isinstance(v, torch.Tensor) and (v.dim() != 0 or v.is_floating_point() or v.dtype == torch.bool):
            reject(
                ctx,
                "index",
                f"a list holding a tensor of shape {list(v.shape)} and {v.dtype}",
                "a list index holds ints or 0-d integer tensors",
            )
        parts.append(reshape(ctx, trt_tensor(ctx, v, dtype=torch.int64), [1]))
    return concat(ctx, parts, 0)


def _dims_used(item):
    if item is None or item is Ellipsis:
        return 0
    if _is_bool_index(item):
        return item.dim() if isinstance(item, torch.Tensor) else item.ndim
    return 1


def _parse_key(ctx, x_t, key):
    """The key as entries in key order, Ellipsis expanded: ("none",), ("slice", dim, start, size,
    step), ("int", dim, i), ("sel", dim, tensor) for a 0-d index computed from the network, or
    ("adv", dim, index) where index is a numpy array (a value known now) or a network tensor.

    torch, unlike numpy, treats ints and 0-d tensors as basic indices (the dim is selected away
    first), so they neither join nor separate the advanced indices."""
    items = [_as_index(ctx, it) for it in _key_items(key)]
    for it in items:
        if isinstance(it, bool) or (_is_bool_index(it) and _dims_used(it) == 0):
            reject(ctx, "index", it, "a boolean scalar index adds a dim of size 0 or 1; use None or unsqueeze")
        allowed = (slice, numbers.Integral, torch.Tensor, np.ndarray, trt.ITensor)
        if not (it is None or it is Ellipsis or isinstance(it, allowed)):
            reject(ctx, "index", it, "indices are ints, slices, None, Ellipsis, lists and tensors")
    rank = x_t.dim()
    n_ellipsis = sum(1 for it in items if it is Ellipsis)
    used = sum(_dims_used(it) for it in items)
    if n_ellipsis:
        at = next(i for i, it in enumerate(items) if it is Ellipsis)
        items = items[:at] + [slice(None)] * (rank - used) + items[at + 1 :]
    else:
        items = items + [slice(None)] * (rank - used)
    entries, dim = [], 0
    for it in items:
        if it is None:
            entries.append(("none",))
        elif isinstance(it, slice):
            n = x_t.shape[dim]
            parts = [None if v is None else as_int(ctx, v, "slice bound") for v in (it.start, it.stop, it.step)]
            start, stop, step = slice(*parts).indices(n)
            entries.append(("slice", dim, start, len(range(start, stop, step)), step))
            dim += 1
        elif isinstance(it, numbers.Integral):
            entries.append(("int", dim, int(it) % x_t.shape[dim] if x_t.shape[dim] else int(it)))
            dim += 1
        elif _is_bool_index(it):
            k = _dims_used(it)
            mask = it if isinstance(it, np.ndarray) else static_numpy(ctx, it, "boolean mask index")
            for j, nz in enumerate(np.nonzero(mask)):
                entries.append(("adv", dim + j, nz))
            dim += k
        else:
            if isinstance(it, torch.Tensor):
                if it.is_floating_point() or it.is_complex():
                    reject(ctx, "index", f"tensor of {it.dtype}", "index tensors are integer or bool")
                if is_static_value(ctx, it):
                    it = it.detach().cpu().numpy()
            if isinstance(it, np.ndarray) and it.ndim == 0:
                n = x_t.shape[dim]
                entries.append(("int", dim, int(it) % n if n else int(it)))
            elif isinstance(it, torch.Tensor) and it.dim() == 0:
                entries.append(("sel", dim, it))
            else:
                entries.append(("adv", dim, it))
            dim += 1
    return entries


def _basic(ctx, x, entries):
    """Applies the slice, int and 0-d entries; dims indexed by an int or a 0-d tensor stay, size 1."""
    shape = list(x.shape)
    start, size, stride = [0] * len(shape), list(shape), [1] * len(shape)
    for e in entries:
        if e[0] == "slice":
            _, d, s, n, st = e
            start[d], size[d], stride[d] = s, n, st
        elif e[0] == "int":
            start[e[1]], size[e[1]] = e[2], 1
    y = slice_layer(ctx, x, start, size, stride)
    for e in entries:
        if e[0] == "sel":
            y = gather(ctx, y, reshape(ctx, _index_tensor(ctx, e[2]), [1]), e[1])
    return y


def _index_tensor(ctx, index):
    """Engine tensor of an advanced index (numpy constant or network tensor)."""
    if isinstance(index, np.ndarray):
        return index_constant(ctx, index)
    t = index if isinstance(index, trt.ITensor) else trt_tensor(ctx, index)
    if t.dtype not in (trt.DataType.INT32, trt.DataType.INT64):
        t = cast(ctx, t, trt.DataType.INT64)
    return t


def _linear_index(ctx, indices, extents):
    """Row-major linear index over `extents` of broadcast index arrays (negative entries wrap)."""
    strides = [int(np.prod(extents[k + 1 :], dtype=np.int64)) for k in range(len(extents))]
    if all(isinstance(i, np.ndarray) for i in indices):
        return index_constant(ctx, sum(np.mod(i, n) * s for i, n, s in zip(indices, extents, strides)))
    total = None
    for index, n, s in zip(indices, extents, strides):
        t = cast(ctx, _index_tensor(ctx, index), trt.DataType.INT64)
        t = normalize_index(ctx, t, n)
        if s != 1:
            t = elementwise(ctx, t, constant(ctx, torch.tensor(s, dtype=torch.int64)), trt.ElementWiseOperation.PROD)
        total = t if total is None else elementwise(ctx, total, t, trt.ElementWiseOperation.SUM)
    return total


def index_trt(ctx, x, x_t, key, out_shape):
    """x[key] on engine tensor `x` (whose torch counterpart, for shapes, is `x_t`), shaped `out_shape`."""
    entries = _parse_key(ctx, x_t, key)
    y = _basic(ctx, x, entries)
    advanced = [e for e in entries if e[0] == "adv"]
    if not advanced:
        return reshape(ctx, y, out_shape)
    if len(advanced) == 1:
        # one index: a gather along its dim puts the index's dims in place, as torch does
        _, d, index = advanced[0]
        return reshape(ctx, gather(ctx, y, _index_tensor(ctx, index), d), out_shape)
    adv_dims = [e[1] for e in advanced]
    rest = [d for d in range(len(y.shape)) if d not in adv_dims]
    extents = [y.shape[d] for d in adv_dims]
    # advanced dims first, merged into one, then one gather by linear index
    y = transpose(ctx, y, adv_dims + rest)
    y = reshape(
        ctx, y, [int(np.prod(extents, dtype=np.int64))] + [y.shape[len(adv_dims) + i] for i in range(len(rest))]
    )
    g = gather(ctx, y, _linear_index(ctx, [e[2] for e in advanced], extents), 0)
    nb = len(g.shape) - len(rest)
    # Adjacent advanced indices (ints and 0-d indices between them do not count) put their dims
    # in place; otherwise they come first. Dims of ints are size 1 here: where they go is moot.
    seq = [e for e in entries if e[0] not in ("int", "sel")]
    positions = [i for i, e in enumerate(seq) if e[0] == "adv"]
    if positions == list(range(positions[0], positions[-1] + 1)):
        first = entries.index(advanced[0])
        before = sum(1 for e in entries[:first] if e[0] in ("slice", "int", "sel"))
        perm = list(range(nb, nb + before)) + list(range(nb)) + list(range(nb + before, len(g.shape)))
        g = transpose(ctx, g, perm)
    return reshape(ctx, g, out_shape)


def _key_is_static(ctx, key):
    for it in _key_items(key):
        if isinstance(it, torch.Tensor) and not is_static_value(ctx, it):
            return False
        if isinstance(it, (list, tuple)) and not all(
            is_static_value(ctx, v) for v in it if isinstance(v, torch.Tensor)
        ):
            return False
        if isinstance(it, slice):
            for v in (it.start, it.stop, it.step):
                if isinstance(v, torch.Tensor) and not is_static_value(ctx, v):
                    return False
    return True


# ---------------------------------------------------------------------------------------------
# x[key]


@tensorrt_converter("torch.Tensor.__getitem__")
def convert_getitem(ctx):
    x_t, key = ctx.method_args[0], ctx.method_args[1]
    ret = ctx.method_return
    set_trt(ctx, ret, index_trt(ctx, trt_tensor(ctx, x_t), x_t, key, ret.shape))


def _storage_grid(ctx, x_t):
    """(root tensor, positions of x_t's elements in the root's row-major order).

    Writing through a view writes its base: the write goes to the root and the view is re-read."""
    root = x_t if x_t._base is None else x_t._base
    if root is x_t:
        return root, torch.arange(x_t.numel(), device=x_t.device).reshape(x_t.shape)
    if not root.is_contiguous() or root.storage_offset() != 0:
        raise NotImplementedError(
            f"{func_name(ctx)}: writing into a view of a non-contiguous tensor (shape {list(root.shape)}, "
            f"strides {root.stride()}) is not supported; clone() the tensor before writing into it"
        )
    grid = torch.arange(root.numel(), device=x_t.device).as_strided(x_t.shape, x_t.stride(), x_t.storage_offset())
    return root, grid


def _values_for(ctx, value, dtype, shape):
    """`value` (number or tensor) in engine dtype `dtype`, broadcast to `shape` (torch's rules for a
    value assigned to x[key]: leading size-1 dims beyond the target's rank are dropped)."""
    if isinstance(value, torch.Tensor):
        v = cast(ctx, trt_tensor(ctx, value), dtype)
    else:
        v = scalar_constant(ctx, value, trt_to_torch_dtype(dtype))
    vshape = list(v.shape)
    while len(vshape) > len(shape) and vshape[0] == 1:
        vshape = vshape[1:]
    v = reshape(ctx, v, vshape)
    return broadcast_to(ctx, v, shape)


@tensorrt_converter("torch.Tensor.__setitem__")
def convert_setitem(ctx):
    x_t, key, value = ctx.method_args[0], ctx.method_args[1], ctx.method_args[2]
    root, grid = _storage_grid(ctx, x_t)
    # the positions written, in the root's row-major order (torch computes them, so every key
    # torch accepts is honoured exactly)
    chosen = grid[key]
    if _key_is_static(ctx, key):
        positions = index_constant(ctx, chosen.cpu().numpy().reshape(-1))
    else:
        positions = flat(ctx, index_trt(ctx, index_constant(ctx, grid.cpu().numpy()), grid, key, chosen.shape))
    base = trt_tensor(ctx, root)
    updates = flat(ctx, _values_for(ctx, value, base.dtype, list(chosen.shape)))
    layer = ctx.network.add_scatter(flat(ctx, base), positions, updates, trt.ScatterMode.ELEMENT)
    written = layer.get_output(0)
    if root is not x_t:
        # the base holds the written values too; the view is read back from it
        set_trt(ctx, root, reshape(ctx, written, root.shape))
        set_trt(ctx, x_t, gather(ctx, written, index_constant(ctx, grid.cpu().numpy()), 0))
    else:
        set_trt(ctx, x_t, reshape(ctx, written, x_t.shape))


# ---------------------------------------------------------------------------------------------
# Functions


@tensorrt_converter("torch.select")
@tensorrt_converter("torch.Tensor.select")
def convert_select(ctx):
    a = parse_args(ctx, "input", "dim", "index")
    x_t = a["input"]
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), x_t.dim())
    index = as_int(ctx, a["index"], "index") % x_t.shape[dim]
    set_trt(ctx, ctx.method_return, select_index(ctx, trt_tensor(ctx, x_t), dim, index))


@tensorrt_converter("torch.index_select")
@tensorrt_converter("torch.Tensor.index_select")
def convert_index_select(ctx):
    a = parse_args(ctx, "input", "dim", "index")
    x_t = a["input"]
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), x_t.dim())
    x = trt_tensor(ctx, x_t)
    if x_t.dim() == 0:
        x = reshape(ctx, x, [1])
    out = gather(ctx, x, _index_tensor(ctx, _static_or_tensor(ctx, a["index"])), dim)
    set_trt(ctx, ctx.method_return, reshape(ctx, out, ctx.method_return.shape))


def _static_or_tensor(ctx, index):
    return index.detach().cpu().numpy() if is_static_value(ctx, index) else index


def _element_gather(ctx, x, index, dim):
    layer = ctx.network.add_gather(x, index, dim)
    layer.mode = trt.GatherMode.ELEMENT
    return layer.get_output(0)


@tensorrt_converter("torch.gather")
@tensorrt_converter("torch.Tensor.gather")
def convert_gather(ctx):
    a = parse_args(ctx, "input", "dim", "index", ("sparse_grad", False))  # sparse_grad only shapes gradients
    x_t = a["input"]
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), x_t.dim())
    x, index = trt_tensor(ctx, x_t), _index_tensor(ctx, _static_or_tensor(ctx, a["index"]))
    if x_t.dim() == 0:
        x, index = reshape(ctx, x, [1]), reshape(ctx, index, [1])
    out = _element_gather(ctx, x, index, dim)
    set_trt(ctx, ctx.method_return, reshape(ctx, out, ctx.method_return.shape))


@tensorrt_converter("torch.take_along_dim")
@tensorrt_converter("torch.Tensor.take_along_dim")
def convert_take_along_dim(ctx):
    a = parse_args(ctx, "input", "indices", ("dim", None))
    x_t, i_t = a["input"], a["indices"]
    x, index = trt_tensor(ctx, x_t), _index_tensor(ctx, _static_or_tensor(ctx, i_t))
    if a["dim"] is None:
        out = _element_gather(ctx, flat(ctx, x), flat(ctx, index), 0)
    else:
        dim = norm_dim(as_int(ctx, a["dim"], "dim"), x_t.dim())
        # torch broadcasts input and indices over every dim but `dim`
        both = torch.broadcast_shapes(
            tuple(1 if d == dim else s for d, s in enumerate(x_t.shape)),
            tuple(1 if d == dim else s for d, s in enumerate(i_t.shape)),
        )
        xs, is_ = list(both), list(both)
        xs[dim], is_[dim] = x_t.shape[dim], i_t.shape[dim]
        out = _element_gather(ctx, broadcast_to(ctx, x, xs), broadcast_to(ctx, index, is_), dim)
    set_trt(ctx, ctx.method_return, reshape(ctx, out, ctx.method_return.shape))


@tensorrt_converter("torch.take")
@tensorrt_converter("torch.Tensor.take")
def convert_take(ctx):
    a = parse_args(ctx, "input", "index")
    index = _index_tensor(ctx, _static_or_tensor(ctx, a["index"]))
    out = gather(ctx, flat(ctx, trt_tensor(ctx, a["input"])), index, 0)
    set_trt(ctx, ctx.method_return, reshape(ctx, out, ctx.method_return.shape))


@tensorrt_converter("torch.scatter")
@tensorrt_converter("torch.Tensor.scatter")
@tensorrt_converter("torch.Tensor.scatter_")
def convert_scatter(ctx):
    a = parse_args(ctx, "input", "dim", "index", ("src", None))
    value = ctx.method_kwargs.get("value", None)
    if a["src"] is not None and not isinstance(a["src"], torch.Tensor):
        value, a["src"] = a["src"], None
    reduce = ctx.method_kwargs.get("reduce", None)
    if reduce is not None:
        reject(ctx, "reduce", reduce, "only plain assignment is supported")
    x_t, i_t = a["input"], a["index"]
    dim = norm_dim(as_int(ctx, a["dim"], "dim"), x_t.dim())
    x = trt_tensor(ctx, x_t)
    index = _index_tensor(ctx, _static_or_tensor(ctx, i_t))
    shape = list(i_t.shape)
    if a["src"] is not None:
        src = cast(ctx, trt_tensor(ctx, a["src"]), x.dtype)
        # torch reads src only where index has entries
        src = slice_layer(ctx, src, [0] * len(shape), shape, [1] * len(shape))
    else:
        src = _values_for(ctx, value, x.dtype, shape)
    if x_t.dim() == 0:
        x, index, src = reshape(ctx, x, [1]), reshape(ctx, index, [1]), reshape(ctx, src, [1])
    layer = ctx.network.add_scatter(x, index, src, trt.ScatterMode.ELEMENT)
    layer.axis = dim
    set_result(ctx, reshape(ctx, layer.get_output(0), x_t.shape))


@tensorrt_converter("torch.masked_select")
@tensorrt_converter("torch.Tensor.masked_select")
def convert_masked_select(ctx):
    a = parse_args(ctx, "input", "mask")
    x_t, m_t = a["input"], a["mask"]
    if not is_static_value(ctx, m_t):
        raise data_dependent(ctx, "mask")
    shape = torch.broadcast_shapes(x_t.shape, m_t.shape)
    positions = torch.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[m_t.cpu().expand(shape)]
    x = flat(ctx, broadcast_to(ctx, trt_tensor(ctx, x_t), list(shape)))
    set_trt(ctx, ctx.method_return, gather(ctx, x, index_constant(ctx, positions.numpy()), 0))
