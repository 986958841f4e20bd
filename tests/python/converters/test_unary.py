"""Unary math converters against PyTorch, in torch.*, Tensor-method, in-place and operator forms."""

import math

import pytest
import torch
from convert_check import HALF_TOL, check

import torch2trt
from convert_check import Fn


def uniform(lo, hi, shape=(3, 4, 5)):
    return lambda: [torch.rand(*shape) * (hi - lo) + lo]


ANY = uniform(-3, 3)
POS = uniform(0.1, 5)
UNIT = uniform(-0.95, 0.95)

# name -> (function, input generator). Functions are called through `torch.<name>` at run time (a
# reference taken before conversion would bypass the hooks, as it would in a user's model). Domains
# keep each function well defined and, where the test says so, well conditioned.
CASES = {
    "exp": (lambda x: torch.exp(x), ANY),
    "Tensor.exp_": (lambda x: (x + 0).exp_(), ANY),
    "exp2": (lambda x: torch.exp2(x), ANY),
    "log": (lambda x: torch.log(x), POS),
    "Tensor.log": (lambda x: x.log(), POS),
    "log2": (lambda x: torch.log2(x), POS),
    "log10": (lambda x: torch.log10(x), POS),
    "log1p": (lambda x: torch.log1p(x), uniform(-0.9, 3)),
    "expm1": (lambda x: torch.expm1(x), ANY),
    "sqrt": (lambda x: torch.sqrt(x), POS),
    "sqrt_": (lambda x: (x + 0).sqrt_(), POS),
    "rsqrt": (lambda x: torch.rsqrt(x), POS),
    "reciprocal": (lambda x: torch.reciprocal(x), POS),
    "square": (lambda x: torch.square(x), ANY),
    "abs": (lambda x: torch.abs(x), ANY),
    "absolute": (lambda x: torch.absolute(x), ANY),
    "abs_op": (lambda x: abs(x), ANY),
    "abs_": (lambda x: (x + 0).abs_(), ANY),
    "neg": (lambda x: torch.neg(x), ANY),
    "negative": (lambda x: torch.negative(x), ANY),
    "neg_op": (lambda x: -x, ANY),
    "sin": (lambda x: torch.sin(x), ANY),
    "cos": (lambda x: torch.cos(x), ANY),
    "tan": (lambda x: torch.tan(x), uniform(-1.4, 1.4)),
    "sinh": (lambda x: torch.sinh(x), ANY),
    "cosh": (lambda x: torch.cosh(x), ANY),
    "asin": (lambda x: torch.asin(x), UNIT),
    "arcsin": (lambda x: torch.arcsin(x), UNIT),
    "acos": (lambda x: torch.acos(x), UNIT),
    "atan": (lambda x: torch.atan(x), ANY),
    "asinh": (lambda x: torch.asinh(x), ANY),
    "acosh": (lambda x: torch.acosh(x), uniform(1.1, 5)),
    "atanh": (lambda x: torch.atanh(x), UNIT),
    "ceil": (lambda x: torch.ceil(x), ANY),
    "floor": (lambda x: torch.floor(x), ANY),
    "floor_": (lambda x: (x + 0).floor_(), ANY),
    "trunc": (lambda x: torch.trunc(x), ANY),
    "fix": (lambda x: torch.fix(x), ANY),
    "frac": (lambda x: torch.frac(x), ANY),
    "round": (lambda x: torch.round(x), ANY),
    "round_half_even": (lambda x: torch.round(x), lambda: [torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5])]),
    "round_decimals": (lambda x: torch.round(x, decimals=2), ANY),
    "round_neg_decimals": (lambda x: torch.round(x * 100, decimals=-1), ANY),
    "erf": (lambda x: torch.erf(x), ANY),
    # 1 - erf(x): kept to |x| < 2 where erfc is not small enough to lose digits to the cancellation.
    "erfc": (lambda x: torch.erfc(x), uniform(-2, 2)),
    "sign": (lambda x: torch.sign(x), lambda: [torch.randn(4, 5).round()]),
    "sgn": (lambda x: torch.sgn(x), ANY),
    "deg2rad": (lambda x: torch.deg2rad(x), ANY),
    "rad2deg": (lambda x: torch.rad2deg(x), ANY),
    "special.expit": (lambda x: torch.special.expit(x), ANY),
    "special.erf": (lambda x: torch.special.erf(x), ANY),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_unary(name):
    fn, make = CASES[name]
    check(fn, make)


def test_log1p_expm1_keep_small_values_accurate():
    # Values around 1e-6: log(1 + x) and exp(x) - 1 in float32 would be off by several percent.
    make = lambda: [(torch.rand(64) - 0.5) * 2e-6]  # noqa: E731
    check(lambda x: torch.log1p(x), make, tol=1e-6)
    check(lambda x: torch.expm1(x), make, tol=1e-6)


def test_expm1_large_negative():
    check(lambda x: torch.expm1(x), lambda: [torch.tensor([-100.0, -30.0, -1.0, 30.0])])


def special_values():
    return [torch.tensor([0.0, -0.0, 1.5, -2.0, math.inf, -math.inf, math.nan, 3.0])]


def call(name):
    """torch.<name> looked up when called (so the conversion hook is the one that runs)."""
    return lambda x: getattr(torch, name)(x)


@pytest.mark.parametrize("name", ["isinf", "isnan", "isfinite", "isposinf", "isneginf", "signbit"])
def test_predicates(name):
    check(call(name), special_values)


def test_predicate_methods():
    check(lambda x: x.isnan() | x.isinf(), special_values)


@pytest.mark.parametrize("name", ["isinf", "isnan", "isfinite", "signbit"])
def test_predicates_on_integers(name):
    check(call(name), lambda: [torch.randint(-5, 5, (3, 4), dtype=torch.int32)])


@pytest.mark.parametrize("name", ["abs", "neg", "sign", "floor", "round", "square", "ceil", "trunc"])
def test_integer_inputs_keep_dtype(name):
    check(call(name), lambda: [torch.randint(-9, 9, (3, 4), dtype=torch.int32)])


@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "log1p"])
def test_integer_inputs_of_float_math_promote(name):
    check(call(name), lambda: [torch.randint(0, 5, (3, 4), dtype=torch.int64)])


def test_bool_ops():
    check(lambda x: torch.logical_not(x > 0), ANY)
    check(lambda x: ~(x > 0), ANY)
    check(lambda x: (x > 0).bitwise_not(), ANY)


def test_bitwise_not_of_int_is_rejected():
    with pytest.raises(NotImplementedError, match="bool tensors only"):
        torch2trt.torch2trt(Fn(lambda x: ~x.int()).eval(), [torch.randn(3)])


def test_half():
    check(lambda x: torch.exp(x).sqrt().sin(), lambda: [torch.randn(3, 4).half()], tol=HALF_TOL[torch.half])
