"""Creation and dtype converters against PyTorch: Tensor.to / type / float / half / ... casts,
tensors made in forward (constants), tensors made from network values, tril / triu."""

import warnings

import pytest
import torch
import torch2trt
from convert_check import Fn, check


def randn(*shapes, scale=4.0):
    return lambda: [torch.randn(*s) * scale for s in shapes]


X = randn((3, 4))
XI = lambda: [torch.randint(-50, 50, (3, 4))]
XB = lambda: [torch.rand(3, 4) > 0.5]

CASTS = {
    "to_dtype": (lambda x: x.to(torch.int32), X),
    "to_dtype_kw": (lambda x: x.to(dtype=torch.int64), X),
    "to_device_dtype": (lambda x: x.to("cpu", torch.int32), X),
    "to_device_only": (lambda x: x.to("cpu") * 2, X),
    "to_other": (lambda x, y: x.to(y), lambda: [torch.randn(3, 4) * 4, torch.randint(0, 3, (2,), dtype=torch.int32)]),
    "to_copy": (lambda x: x.to(torch.float32, copy=True), X),
    "to_non_blocking": (lambda x: x.to(torch.int32, non_blocking=True), X),
    "to_half": (lambda x: x.to(torch.float16), X),
    "to_bfloat16": (lambda x: x.bfloat16(), X),
    "to_bool": (lambda x: x.bool(), X),
    "int_to_float": (lambda x: x.float() / 3, XI),
    "int_to_bool": (lambda x: x.bool(), XI),
    "bool_to_int": (lambda x: x.int(), XB),
    "bool_to_float": (lambda x: x.float(), XB),
    "float": (lambda x: x.float(), XI),
    "half": (lambda x: x.half(), X),
    "int": (lambda x: x.int(), X),
    "long": (lambda x: x.long(), X),
    "char": (lambda x: x.char(), randn((3, 4), scale=40.0)),
    "byte": (lambda x: x.byte(), lambda: [torch.rand(3, 4) * 200]),
    "type_dtype": (lambda x: x.type(torch.int32), X),
    "type_string": (lambda x: x.type("torch.LongTensor"), X),
    "type_none": (lambda x: x * 1 if x.type() == "torch.FloatTensor" else x, X),
    "type_as": (lambda x, y: x.type_as(y), lambda: [torch.randn(3, 4) * 4, torch.zeros(1, dtype=torch.int64)]),
    "cpu": (lambda x: x.cpu() + 1, X),
    "chain": (lambda x: x.int().float().long(), X),
}


@pytest.mark.parametrize("name", list(CASTS))
def test_casts(name):
    fn, inputs = CASTS[name]
    check(fn, inputs, tol=0.0, min_layers=0)


def test_double_computes_in_float32_with_a_note():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = torch2trt.torch2trt(Fn(lambda x: x.double() * 2), [torch.randn(3, 4)])
    assert any("float64" in str(w.message) for w in caught)
    x = torch.randn(3, 4)
    y = m(x)
    assert y.dtype == torch.float32
    assert torch.equal(y, (x * 2))


CONSTANTS = {
    # values made in forward from Python values: constants in the engine
    "arange": (lambda x: x + torch.arange(4), X),
    "arange_start_step": (lambda x: x * torch.arange(1, 9, 2, dtype=torch.float32), X),
    "arange_size": (lambda x: x + torch.arange(x.size(1)), X),
    "zeros_ones_full": (lambda x: x + torch.zeros(3, 4) + torch.ones(4) * torch.full((3, 1), 2.5), X),
    "zeros_like": (lambda x: x + torch.zeros_like(x), X),
    "ones_like_dtype": (lambda x: x * torch.ones_like(x, dtype=torch.int32), X),
    "full_like": (lambda x: x - torch.full_like(x, 3.0), X),
    "empty_like_filled": (lambda x: torch.empty_like(x).fill_(1.0) + x, X),
    "new_ones": (lambda x: x.new_ones((3, 4)) + x, X),
    "new_sizes_filled": (lambda x: x.new(2, 3).fill_(1.5) + x[:2, :3], X),
    "new_size_filled": (lambda x: x.new(torch.Size([4])).zero_() + x, X),
    "new_constant_data": (lambda x: x.new([1.0, 2.0, 3.0, 4.0]) * x, X),
    "eye": (lambda x: x @ torch.eye(4), X),
    "linspace": (lambda x: x + torch.linspace(0, 1, 4), X),
    "tensor": (lambda x: x * torch.tensor([1.0, 2.0, 3.0, 4.0]), X),
    "as_tensor_list": (lambda x: x + torch.as_tensor([[1], [2], [3]]), X),
    "tril_const_mask": (lambda x: x.masked_fill(torch.ones(3, 4).tril() == 0, -1.0), X),
}


@pytest.mark.parametrize("name", list(CONSTANTS))
def test_constants(name):
    fn, inputs = CONSTANTS[name]
    check(fn, inputs, tol=1e-6, min_layers=0)


FROM_NETWORK = {
    "tensor_of_network": (lambda x: torch.tensor(x) * 2, X),
    "as_tensor_cast": (lambda x: torch.as_tensor(x, dtype=torch.int32), X),
    "as_tensor_same": (lambda x: torch.as_tensor(x) + 1, X),
    "new_tensor": (lambda x: x.new_tensor(x[0]) + 1, X),
    "new_tensor_list": (lambda x: x.new_tensor([x[0, 1], 2.0, x.amax()], dtype=torch.float16), X),
    "new_list": (lambda x: x.new([x[0, 1], x.amax(), 2.0]) * 2, X),
    "new_nested": (lambda x: x.new([[x[0, 0], 1.0], (x.amin(), x[2, 3])]), X),
    "new_alias": (lambda x: x.new(x[1]) + 1, X),
    "full_network_fill": (lambda x: torch.full((2, 3), x[0, 0]), X),
    "linspace_network_bounds": (lambda x: torch.linspace(x[0, 0], x[1, 1], 7), X),
    "linspace_network_bounds_even": (lambda x: torch.linspace(x[0, 0], x[1, 1], 8), X),
    "tril": (lambda x: torch.tril(x), X),
    "tril_k": (lambda x: x.tril(1), X),
    "tril_neg_k_batched": (lambda x: x.tril(-1), randn((2, 3, 4))),
    "triu": (lambda x: torch.triu(x), X),
    "triu_k": (lambda x: x.triu(-2), randn((2, 4, 3))),
    "triu_": (lambda x: (x * 1).triu_(1), X),
    "tril_int": (lambda x: x.tril(), XI),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(FROM_NETWORK))
def test_from_network(name):
    fn, inputs = FROM_NETWORK[name]
    check(fn, inputs, tol=1e-6, min_layers=1)


def test_tensor_of_list_of_network_0d():
    check(lambda x: torch.tensor([x[0, 1], x.amax(), x.amin()]), X, tol=0.0)


def _convert(fn, *inputs):
    return torch2trt.torch2trt(Fn(fn), list(inputs))


def test_arange_of_network_value_raises():
    with pytest.raises(NotImplementedError, match="size, bound or count"):
        _convert(lambda x: torch.arange(x.sum().long().clamp(1, 5)), torch.ones(2))


def test_new_with_network_size_raises():
    with pytest.raises(NotImplementedError, match="size"):
        _convert(lambda x: x.new(x.sum().long().clamp(1, 3), 2), torch.ones(2))


def test_unsupported_dtype_raises():
    with pytest.raises(TypeError, match="int16"):
        _convert(lambda x: x.short(), torch.randn(2, 3))
