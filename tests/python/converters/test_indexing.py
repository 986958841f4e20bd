"""Indexing converters against PyTorch: x[key] reads and writes with every kind of key,
index_select, gather, scatter, take_along_dim, take, masked_select, select. Exact comparisons."""

import pytest
import torch
import torch2trt
from convert_check import Fn, check


def randn(*shapes):
    return lambda: [torch.randn(*s) for s in shapes]


def with_index(shape, index_fn):
    """A random tensor and an integer index tensor made by index_fn (a network input too)."""
    return lambda: [torch.randn(*shape), index_fn()]


X = randn((4, 5, 6))
IDX = torch.tensor([2, 0, -1, 3])
MASK = torch.tensor([True, False, True, True, False])
MASK2 = torch.rand(4, 5, generator=torch.Generator().manual_seed(0)) > 0.5

GETITEM = {
    "int": lambda x: x[1],
    "neg_int": lambda x: x[-1],
    "ints": lambda x: x[1, -2],
    "all_ints": lambda x: x[1, 2, 3],
    "slice": lambda x: x[1:3],
    "slice_step": lambda x: x[:, ::2],
    "slice_step_offset": lambda x: x[..., 1::3],
    "slice_neg": lambda x: x[-3:-1, :-2],
    "slice_clamped": lambda x: x[2:100, -100:2],
    "slice_tensor_bounds": lambda x: x[torch.tensor(1) : torch.tensor(3)],
    "mixed": lambda x: x[1:, 2, ::2],
    "none": lambda x: x[None],
    "none_mid": lambda x: x[:, None, 1:3, None],
    "ellipsis": lambda x: x[..., 0],
    "ellipsis_mid": lambda x: x[1, ..., 1:2],
    "ellipsis_none": lambda x: x[..., None],
    "list": lambda x: x[[0, 2, 3]],
    "list_dim1": lambda x: x[:, [4, 0, 0, -1]],
    "const_tensor": lambda x: x[IDX],
    "const_tensor_last": lambda x: x[..., IDX],
    "const_tensor_2d": lambda x: x[:, torch.tensor([[0, 1], [4, -2]])],
    "const_0d_tensor": lambda x: x[:, torch.tensor(2)],
    "two_adjacent": lambda x: x[:, torch.tensor([0, 4]), torch.tensor([1, 5])],
    "two_broadcast": lambda x: x[torch.tensor([[0], [3]]), :, torch.tensor([1, 2, -1])],
    "two_separated": lambda x: x[torch.tensor([0, 3]), 1:4, torch.tensor([2, 5])],
    "int_and_list": lambda x: x[0, :, [1, 2]],
    "int_and_list_adjacent": lambda x: x[:, 0, [1, 2]],
    "three": lambda x: x[[0, 1], [1, 2], [2, 3]],
    # torch (unlike numpy) selects ints and 0-d tensors away first: they never separate lists
    "list_int_list": lambda x: x[[0, 1], 2, [2, 3]],
    "0d_slice_list": lambda x: x[torch.tensor(1), :, [0, 5]],
    "list_slice_0d": lambda x: x[[3, 1], 1:3, torch.tensor(-1)],
    "slice_list_none_list": lambda x: x[:, [1, 2], None, [0, 3]],
    "adv_with_none": lambda x: x[None, [0, 1], 2:4],
    "bool_mask": lambda x: x[:, MASK],
    "bool_mask_2d": lambda x: x[MASK2],
    "bool_list": lambda x: x[[True, False, True, False]],
    "bool_mask_full": lambda x: x[torch.ones(4, 5, 6, dtype=torch.bool).tril()],
}


@pytest.mark.parametrize("name", list(GETITEM))
def test_getitem(name):
    check(GETITEM[name], X, tol=0.0, min_layers=0)


DYNAMIC_GETITEM = {
    "tensor": (lambda x, i: x[i], lambda: torch.randint(-4, 4, (3,))),
    "tensor_2d": (lambda x, i: x[:, i], lambda: torch.randint(-5, 5, (2, 3))),
    "tensor_last": (lambda x, i: x[..., i], lambda: torch.randint(0, 6, (4,))),
    "tensor_int32": (lambda x, i: x[1:, i], lambda: torch.randint(0, 5, (3,), dtype=torch.int32)),
    "tensor_and_const": (lambda x, i: x[i, :, torch.tensor([1, -1])], lambda: torch.randint(-4, 4, (2,))),
    "tensor_pair": (lambda x, i: x[:, i, i], lambda: torch.randint(-5, 5, (3,))),
    "tensor_separated": (lambda x, i: x[i, 1:3, i + 1], lambda: torch.randint(0, 4, (2, 2))),
    "tensor_and_int": (lambda x, i: x[2, i], lambda: torch.randint(-5, 5, (4,))),
    "network_0d": (lambda x, i: x[:, i[0], [1, 2]], lambda: torch.randint(-5, 5, (2,))),
    "network_0d_only": (lambda x, i: x[i[1], 1:, i[0]], lambda: torch.randint(-4, 4, (2,))),
}


# A list mixing 0-d network tensors and ints: torch reads it as an index list only while
# torch.Tensor has no sequence slot (the framework must not give it one by hooking __getitem__).
def test_getitem_list_of_network_0d():
    check(lambda x, i: x[:, [i[0], 3, i[1]]], with_index((4, 5, 6), lambda: torch.randint(-5, 5, (2,))), tol=0.0)


@pytest.mark.parametrize("name", list(DYNAMIC_GETITEM))
def test_getitem_network_index(name):
    fn, make_index = DYNAMIC_GETITEM[name]
    check(fn, with_index((4, 5, 6), make_index), tol=0.0, min_layers=1)


def test_getitem_int_tensor():
    check(lambda x: x[1:, ::2], lambda: [torch.randint(0, 100, (4, 5))], tol=0.0)


def _setitem(key, value):
    def fn(x, v=None):
        y = x.clone()
        y[key] = value if v is None else v
        return y

    return fn


SETITEM = {
    "int_scalar": (_setitem(1, 5.0), randn((4, 5))),
    "slice_scalar": (_setitem((slice(None), slice(1, 3)), -2.0), randn((4, 5))),
    "step_scalar": (_setitem((Ellipsis, slice(None, None, 2)), 0.0), randn((4, 5, 6))),
    "slice_tensor": (_setitem((slice(1, 3), slice(None)), None), randn((4, 5), (2, 5))),
    "slice_tensor_broadcast": (_setitem((slice(None), 2), None), randn((4, 5), (1,))),
    "slice_tensor_row": (_setitem((slice(None), slice(0, 5, 2)), None), randn((4, 5), (3,))),
    "leading_ones": (_setitem(0, None), randn((4, 5), (1, 1, 5))),
    "none_key": (_setitem((None, 1), None), randn((4, 5), (5,))),
    "list": (_setitem([0, 3], None), randn((4, 5), (2, 5))),
    "bool_mask": (_setitem(torch.tensor([True, False, False, True]), 1.5), randn((4, 5))),
    "const_index": (_setitem((slice(None), torch.tensor([4, 0])), None), randn((4, 5), (4, 2))),
    "int_dtype": (_setitem((slice(None), 0), None), lambda: [torch.randint(0, 9, (3, 4)), torch.randn(3)]),
}


@pytest.mark.parametrize("name", list(SETITEM))
def test_setitem(name):
    fn, inputs = SETITEM[name]
    check(fn, inputs, tol=0.0)


def test_setitem_reads_before_writing():
    def fn(x):
        y = x.clone()
        y[1:3] = y[:2] * 10
        return y

    check(fn, randn((4, 5)), tol=0.0)


def test_setitem_on_input():
    def fn(x):
        x[:, 0] = 0.0
        return x * 2

    check(fn, randn((3, 4)), tol=0.0)


def test_setitem_into_constant_then_used():
    def fn(x):
        out = torch.zeros(2, 6)
        out[:, 1:4] = x
        return out * 2 + 1

    check(fn, randn((2, 3)), tol=0.0)


# Writing through a view: the converter re-binds the base too, and the framework keeps that base
# valid while it invalidates the other aliases of the written memory.
def test_setitem_through_view_updates_base():
    def fn(x):
        y = x * 1
        v = y[1]
        v[2:] = -1.0
        return y, v + 0

    check(fn, randn((3, 5)), tol=0.0)


def test_setitem_through_reshaped_view():
    def fn(x):
        y = x.clone()
        v = y.view(-1)
        v[3:7] = v[:4] * 10
        return y

    check(fn, randn((3, 4)), tol=0.0)


def test_setitem_network_index():
    def fn(x, i):
        y = x.clone()
        y[i] = 0.0
        return y

    check(fn, lambda: [torch.randn(5, 3), torch.randperm(5)[:2]], tol=0.0)


def test_setitem_network_index_tensor_value():
    def fn(x, i, v):
        y = x.clone()
        y[:, i] = v
        return y

    check(fn, lambda: [torch.randn(3, 6), torch.randperm(6)[:2] - 3, torch.randn(3, 2)], tol=0.0)


FUNCS = {
    "select": (lambda x: x.select(1, 2), X),
    "select_neg": (lambda x: torch.select(x, -1, -2), X),
    "index_select": (lambda x: torch.index_select(x, 1, torch.tensor([4, 0, 2, 2])), X),
    "index_select_method": (lambda x: x.index_select(-1, torch.tensor([5])), X),
    "index_select_net": (lambda x, i: x.index_select(0, i), with_index((4, 5), lambda: torch.randint(0, 4, (6,)))),
    "gather": (lambda x, i: torch.gather(x, 1, i), with_index((3, 5), lambda: torch.randint(0, 5, (3, 7)))),
    "gather_smaller": (lambda x, i: x.gather(0, i), with_index((4, 5), lambda: torch.randint(0, 4, (2, 3)))),
    "gather_const": (lambda x: x.gather(-1, torch.tensor([[0, 0], [1, 0], [2, 2], [3, 1]])), randn((4, 5))),
    "take_along_dim": (
        lambda x, i: torch.take_along_dim(x, i, 1),
        with_index((3, 5), lambda: torch.randint(0, 5, (3, 2))),
    ),
    "take_along_dim_broadcast": (
        lambda x, i: x.take_along_dim(i, dim=2),
        with_index((2, 3, 5), lambda: torch.randint(0, 5, (1, 3, 4))),
    ),
    "take_along_dim_flat": (
        lambda x, i: torch.take_along_dim(x, i),
        with_index((3, 5), lambda: torch.randint(0, 15, (4,))),
    ),
    "argsort_take": (lambda x: torch.take_along_dim(x, torch.tensor([[1], [0], [2]]), 1), randn((3, 4))),
    "take": (lambda x, i: torch.take(x, i), with_index((3, 5), lambda: torch.randint(-15, 15, (2, 3)))),
    "scatter_src": (
        lambda x, i, s: x.scatter(1, i, s),
        lambda: [torch.randn(3, 5), torch.stack([torch.randperm(5)[:3] for _ in range(3)]), torch.randn(3, 4)],
    ),
    "scatter_value": (
        lambda x, i: torch.scatter(x, 0, i, 7.5),
        lambda: [torch.randn(4, 3), torch.stack([torch.randperm(4)[:2] for _ in range(3)], 1)],
    ),
    "scatter_value_kw": (lambda x: x.scatter(1, torch.tensor([[0], [2]]), value=-1.0), randn((2, 4))),
    "scatter_": (lambda x, s: (x * 1).scatter_(0, torch.tensor([[1, 0, 2]]), s), randn((3, 3), (2, 3))),
    "masked_select": (lambda x: x.masked_select(torch.tensor([[True, False, True]])), randn((2, 3))),
    "masked_select_broadcast": (
        lambda x: torch.masked_select(x, torch.tensor([True, False, True, True])),
        randn((2, 4)),
    ),
    "narrow_copy": (lambda x: x.narrow_copy(2, 1, 3), X),
}


@pytest.mark.parametrize("name", list(FUNCS))
def test_functions(name):
    fn, inputs = FUNCS[name]
    check(fn, inputs, tol=0.0, min_layers=0)


# ---------------------------------------------------------------------------------------------
# Errors


def _convert(fn, *inputs):
    return torch2trt.torch2trt(Fn(fn), list(inputs))


def test_network_bool_mask_raises():
    with pytest.raises(NotImplementedError, match="boolean mask"):
        _convert(lambda x: x[x > 0], torch.randn(3, 4))


def test_masked_select_network_mask_raises():
    with pytest.raises(NotImplementedError, match="mask"):
        _convert(lambda x: x.masked_select(x > 0), torch.randn(3, 4))


@pytest.mark.filterwarnings("ignore:The reduce argument")
def test_scatter_reduce_raises():
    with pytest.raises(NotImplementedError, match="reduce"):
        _convert(lambda x: x.scatter(0, torch.tensor([[0, 1]]), torch.ones(1, 2), reduce="add"), torch.randn(2, 2))


def test_write_into_view_of_noncontiguous_raises():
    def fn(x):
        z = x.t().clone()  # clone keeps the transposed strides: a non-contiguous tensor owning its storage
        v = z[0]
        v[0] = 2.0
        return z

    with pytest.raises(NotImplementedError, match="non-contiguous"):
        _convert(fn, torch.randn(3, 4))
