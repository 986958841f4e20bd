"""Elementwise converters against PyTorch: arithmetic with operators, reflected and in-place forms,
broadcasting, scalars and dtype promotion; comparisons, logic, clamp, where, masked_fill."""

import pytest
import torch
from convert_check import HALF_TOL, Fn, check

import torch2trt


def two(shape_a=(2, 3, 4), shape_b=(2, 3, 4), dtype=torch.float32, positive_b=False):
    def make():
        a = torch.randn(*shape_a) * 3
        b = torch.randn(*shape_b) * 3
        if positive_b:
            b = b.abs() + 0.5
        return [a.to(dtype), b.to(dtype)]

    return make


def ints(shape_a=(3, 5), shape_b=(3, 5), nonzero_b=True):
    def make():
        a = torch.randint(-20, 20, shape_a, dtype=torch.int32)
        b = torch.randint(-6, 7, shape_b, dtype=torch.int32)
        if nonzero_b:
            b[b == 0] = 3
        return [a, b]

    return make


F32 = two()
BCAST = two((2, 3, 4), (3, 1))
POS = two(positive_b=True)

ARITH = {
    "add": (lambda a, b: a + b, F32),
    "add_bcast": (lambda a, b: a + b, BCAST),
    "add_bcast_left": (lambda a, b: b + a, BCAST),
    "torch.add_alpha": (lambda a, b: torch.add(a, b, alpha=2.5), F32),
    "Tensor.add_alpha": (lambda a, b: a.add(b, alpha=-1), BCAST),
    "add_scalar": (lambda a, b: a + 2.5, F32),
    "radd_scalar": (lambda a, b: 3 + a, F32),
    "add_0d_constant": (lambda a, b: a + torch.tensor(1.5), F32),
    "add_constant_tensor": (lambda a, b: a + torch.arange(4.0), F32),
    "iadd": (lambda a, b: a.__iadd__(b), F32),
    "add_": (lambda a, b: (a * 1).add_(b, alpha=0.5), BCAST),
    "sub": (lambda a, b: a - b, BCAST),
    "rsub_scalar": (lambda a, b: 1.5 - a, F32),
    "torch.rsub": (lambda a, b: torch.rsub(a, b, alpha=2), F32),
    "torch.sub_alpha": (lambda a, b: torch.sub(a, b, alpha=3), F32),
    "subtract": (lambda a, b: torch.subtract(a, b), F32),
    "isub": (lambda a, b: a.__isub__(b), F32),
    "sub_": (lambda a, b: (a + 0).sub_(2), F32),
    "mul": (lambda a, b: a * b, BCAST),
    "rmul_scalar": (lambda a, b: 0.5 * a, F32),
    "mul_": (lambda a, b: (a + 0).mul_(b), F32),
    "imul": (lambda a, b: a.__imul__(3), F32),
    "multiply": (lambda a, b: torch.multiply(a, b), F32),
    "div": (lambda a, b: a / b, POS),
    "rdiv_scalar": (lambda a, b: 2.0 / b, POS),
    "div_floor": (lambda a, b: torch.div(a, b, rounding_mode="floor"), POS),
    "div_trunc": (lambda a, b: torch.div(a, b, rounding_mode="trunc"), POS),
    "div_neg_floor": (lambda a, b: torch.div(a, -b, rounding_mode="floor"), POS),
    "div_": (lambda a, b: (a + 0).div_(b), POS),
    "itruediv": (lambda a, b: a.__itruediv__(4.0), F32),
    "true_divide": (lambda a, b: torch.true_divide(a, b), POS),
    "floordiv": (lambda a, b: a // b, POS),
    "rfloordiv": (lambda a, b: 7.0 // b, POS),
    "floor_divide": (lambda a, b: torch.floor_divide(a, b), POS),
    "remainder": (lambda a, b: torch.remainder(a, b), POS),
    "remainder_neg": (lambda a, b: torch.remainder(a, -b), POS),
    "mod_op": (lambda a, b: a % 1.5, F32),
    "rmod": (lambda a, b: 5.0 % b, POS),
    "fmod": (lambda a, b: torch.fmod(a, b), POS),
    "fmod_neg": (lambda a, b: torch.fmod(a, -b), POS),
    "pow_scalar": (lambda a, b: a ** 2, F32),
    "pow_tensor": (lambda a, b: b ** a.clamp(-2, 2), POS),
    "rpow": (lambda a, b: 2 ** a, F32),
    "torch.pow": (lambda a, b: torch.pow(b, 0.5), POS),
    "torch.pow_scalar_base": (lambda a, b: torch.pow(1.5, a), F32),
    "pow_": (lambda a, b: (b + 0).pow_(1.5), POS),
    "float_power": (lambda a, b: torch.float_power(b, 2), POS),
    "maximum": (lambda a, b: torch.maximum(a, b), BCAST),
    "minimum": (lambda a, b: torch.minimum(a, b), BCAST),
    "max_binary": (lambda a, b: torch.max(a, b), F32),
    "min_binary": (lambda a, b: a.min(b), F32),
    "addcmul": (lambda a, b: torch.addcmul(a, a, b, value=0.5), BCAST),
    "addcdiv": (lambda a, b: a.addcdiv(a, b, value=2), POS),
    "neg": (lambda a, b: -a, F32),
    "abs": (lambda a, b: abs(a), F32),
}


@pytest.mark.parametrize("name", sorted(ARITH))
def test_arithmetic(name):
    fn, make = ARITH[name]
    check(fn, make)


INT_CASES = {
    "add": lambda a, b: a + b,
    "add_scalar": lambda a, b: a + 3,
    "mul": lambda a, b: a * b,
    "sub_alpha": lambda a, b: torch.sub(a, b, alpha=2),
    "true_div_promotes": lambda a, b: a / b,
    "div_trunc": lambda a, b: torch.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda a, b: torch.div(a, b, rounding_mode="floor"),
    "floordiv": lambda a, b: a // b,
    "remainder": lambda a, b: a % b,
    "fmod": lambda a, b: torch.fmod(a, b),
    "pow": lambda a, b: a ** 2,
    "maximum": lambda a, b: torch.maximum(a, b),
    "int_plus_float_scalar": lambda a, b: a + 0.5,
    "int_times_float_tensor": lambda a, b: a * torch.tensor([0.5, 1.5, 2.0, -1.0, 3.0]),
    "long": lambda a, b: a.long() * b.long(),
}


@pytest.mark.parametrize("name", sorted(INT_CASES))
def test_integer_arithmetic(name):
    check(INT_CASES[name], ints())


def test_mixed_dtypes_promote():
    check(lambda a, b: a + b.int(), F32)
    check(lambda a, b: a.half() * b, F32, tol=HALF_TOL[torch.half])


CMP = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "torch.eq": lambda a, b: torch.eq(a, b),
    "torch.greater_equal": lambda a, b: torch.greater_equal(a, b),
    "torch.less": lambda a, b: torch.less(a, b),
    "Tensor.not_equal": lambda a, b: a.not_equal(b),
    "gt_scalar": lambda a, b: a > 0.5,
    "le_scalar": lambda a, b: a <= 0,
    "scalar_left": lambda a, b: 0.5 < a,
    "eq_bool": lambda a, b: (a > 0) == (b > 0),
    "gt_bool": lambda a, b: (a > 0) > (b > 0),
    "gt_": lambda a, b: (a + 0).gt_(b),
}


@pytest.mark.parametrize("name", sorted(CMP))
def test_comparison(name):
    # Round to a coarse grid so that equal values actually occur.
    def make():
        a, b = two((3, 4), (3, 4))()
        return [a.round(), b.round()]

    check(CMP[name], make)


def test_comparison_with_nan():
    def make():
        a, b = two((4, 5), (4, 5))()
        a[0, :2] = float("nan")
        b[1, 1] = float("nan")
        return [a, b]

    for fn in CMP.values():
        check(fn, make)


def test_comparison_mixed_int_float():
    check(lambda a, b: a.int() < b, F32)


LOGIC = {
    "logical_and": lambda a, b: torch.logical_and(a > 0, b > 0),
    "logical_or": lambda a, b: (a > 0).logical_or(b > 0),
    "logical_xor": lambda a, b: torch.logical_xor(a, b > 0),
    "logical_and_float": lambda a, b: torch.logical_and(a, b.round()),
    "and": lambda a, b: (a > 0) & (b > 0),
    "or": lambda a, b: (a > 0) | (b < 0),
    "xor": lambda a, b: (a > 0) ^ (b < 0),
    "iand": lambda a, b: (a > 0).__iand__(b > 0),
    "bitwise_or": lambda a, b: torch.bitwise_or(a > 0, b > 0),
    "invert": lambda a, b: ~(a > 0),
    "logical_not": lambda a, b: torch.logical_not(a.round()),
    "mul_bool": lambda a, b: (a > 0) * (b > 0),
    "maximum_bool": lambda a, b: torch.maximum(a > 0, b > 0),
}


@pytest.mark.parametrize("name", sorted(LOGIC))
def test_logic(name):
    check(LOGIC[name], F32)


def test_bitwise_on_integers_is_rejected():
    with pytest.raises(NotImplementedError, match="bool"):
        torch2trt.torch2trt(Fn(lambda a: a.int() & 3).eval(), [torch.randn(2, 3)])


CLAMP = {
    "clamp": lambda a, b: torch.clamp(a, -1.0, 2.0),
    "clamp_min_only": lambda a, b: a.clamp(min=0.5),
    "clamp_max_only": lambda a, b: a.clamp(max=-0.5),
    "clamp_inverted": lambda a, b: a.clamp(2.0, -1.0),  # torch: every element becomes max
    "clamp_tensor_bounds": lambda a, b: torch.clamp(a, min=b - 1, max=b + 1),
    "clamp_tensor_min": lambda a, b: torch.clamp(a, min=b),
    "clip": lambda a, b: torch.clip(a, -0.5, 0.5),
    "clamp_": lambda a, b: (a + 0).clamp_(-1, 1),
    "clamp_min": lambda a, b: torch.clamp_min(a, 0.0),
    "clamp_max": lambda a, b: a.clamp_max(b),
    "clamp_int": lambda a, b: (a * 3).int().clamp(-2, 3),
}


@pytest.mark.parametrize("name", sorted(CLAMP))
def test_clamp(name):
    check(CLAMP[name], F32)


WHERE = {
    "where": lambda a, b: torch.where(a > b, a, b),
    "where_scalar": lambda a, b: torch.where(a > 0, a, 0.0),
    "where_scalars": lambda a, b: torch.where(a > 0, 1.0, -1.0),
    "where_bcast": lambda a, b: torch.where(b > 0, a, b),
    "Tensor.where": lambda a, b: a.where(a > 0, b),
    "where_int": lambda a, b: torch.where(a > 0, a.int(), 5),
    "masked_fill": lambda a, b: a.masked_fill(b > 0, -1e4),
    "masked_fill_inf": lambda a, b: a.masked_fill(b > 0, float("-inf")),
    "masked_fill_tensor_value": lambda a, b: a.masked_fill(a < 0, torch.tensor(2.0)),
    "masked_fill_": lambda a, b: (a + 0).masked_fill_(a > 1, 0.0),
}


@pytest.mark.parametrize("name", sorted(WHERE))
def test_where(name):
    check(WHERE[name], BCAST if name == "where_bcast" or name.startswith("masked_fill") else F32)


def test_where_single_argument_is_rejected():
    with pytest.raises(NotImplementedError, match="torch.where"):
        torch2trt.torch2trt(Fn(lambda a: torch.where(a > 0)[0]).eval(), [torch.randn(5)])


def test_out_argument_is_rejected():
    with pytest.raises(NotImplementedError, match="out="):
        torch2trt.torch2trt(Fn(lambda a: torch.add(a, 1, out=torch.empty(3))).eval(), [torch.randn(3)])
