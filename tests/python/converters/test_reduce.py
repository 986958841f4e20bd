"""Reduction converters against PyTorch: sum/mean/prod, max/min forms, arg*, var/std, norms,
logsumexp, all/any, cumsum, softmax/log_softmax, topk, sort."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from convert_check import HALF_TOL, check


def randn(*shape, scale=1.0):
    return lambda: [torch.randn(*shape) * scale]


X = randn(2, 3, 4, 5)
# Positive values for sums and products: sums of mixed signs can cancel to near zero, where float32
# rounding alone (in torch's own result) gives large relative errors.
XP = lambda: [torch.rand(2, 3, 4, 5) + 0.5]  # noqa: E731

SUMS = {
    "sum_all": lambda x: x.sum(),
    "sum_dim": lambda x: torch.sum(x, 1),
    "sum_neg_dim_keep": lambda x: x.sum(-1, keepdim=True),
    "sum_dims": lambda x: x.sum(dim=(0, 2)),
    "sum_dims_list_keep": lambda x: torch.sum(x, [1, 3], keepdim=True),
    "sum_empty_dims": lambda x: torch.sum(x, dim=[]),
    "sum_dtype": lambda x: x.sum(1, dtype=torch.float16),
    "sum_int": lambda x: (x * 10).int().sum(2),
    "sum_bool": lambda x: (x > 1).sum(1),
    "mean_all": lambda x: x.mean(),
    "mean_dim": lambda x: torch.mean(x, dim=2),
    "mean_dims_keep": lambda x: x.mean((-1, -2), keepdim=True),
    "prod": lambda x: x.prod(3),
    "prod_keep": lambda x: torch.prod(x, 0, keepdim=True),
    "prod_all": lambda x: x.prod(),
}


@pytest.mark.parametrize("name", sorted(SUMS))
def test_sum_mean_prod(name):
    check(SUMS[name], XP, tol=HALF_TOL[torch.half] if name == "sum_dtype" else 1e-5)


MAXMIN = {
    "max_all": lambda x: x.max(),
    "min_all": lambda x: torch.min(x),
    "max_dim": lambda x: x.max(1),
    "max_dim_keep": lambda x: torch.max(x, dim=-1, keepdim=True),
    "min_dim": lambda x: torch.min(x, 2),
    "max_values_only": lambda x: x.max(dim=0)[0],
    "max_indices_only": lambda x: x.max(dim=3).indices,
    "amax": lambda x: torch.amax(x, dim=(1, 2)),
    "amax_all": lambda x: x.amax(),
    "amin_keep": lambda x: x.amin(-1, keepdim=True),
    "argmax": lambda x: x.argmax(1),
    "argmax_flat": lambda x: torch.argmax(x),
    "argmax_flat_keep": lambda x: torch.argmax(x, keepdim=True),
    "argmin_keep": lambda x: x.argmin(dim=-1, keepdim=True),
    "max_bool": lambda x: (x > 0).max(1),
    "amax_bool": lambda x: (x > 0).amax(1),
    "max_int": lambda x: (x * 5).int().max(),
}


def plain(fn):
    """Returns a torch.return_types named tuple as a plain tuple (model outputs are plain nestings)."""
    def f(x):
        y = fn(x)
        return tuple(y) if isinstance(y, tuple) else y

    return f


@pytest.mark.parametrize("name", sorted(MAXMIN))
def test_max_min(name):
    check(plain(MAXMIN[name]), X)


def test_max_ties_give_first_index():
    check(lambda x: tuple(x.round().max(1)), randn(4, 20))
    check(lambda x: x.round().argmin(1), randn(4, 20))


VAR = {
    "var": lambda x: x.var(),
    "var_dim": lambda x: torch.var(x, 1),
    "var_unbiased_false": lambda x: x.var(2, unbiased=False),
    "var_correction": lambda x: torch.var(x, dim=(1, 3), correction=0, keepdim=True),
    "var_correction_2": lambda x: x.var(-1, correction=2),
    "var_positional_unbiased": lambda x: torch.var(x, 1, False, True),
    "var_bool_only": lambda x: torch.var(x, False),
    "std": lambda x: x.std(),
    "std_dim_keep": lambda x: torch.std(x, dim=2, keepdim=True),
    "std_mean": lambda x: torch.std_mean(x, dim=1),
    "var_mean_keep": lambda x: torch.var_mean(x, dim=(2, 3), keepdim=True, correction=0),
}


@pytest.mark.parametrize("name", sorted(VAR))
def test_var_std(name):
    check(VAR[name], X)


NORMS = {
    "norm": lambda x: x.norm(),
    "norm_dim": lambda x: torch.norm(x, dim=1),
    "norm_p1": lambda x: torch.norm(x, p=1, dim=(2, 3)),
    "norm_p3_keep": lambda x: x.norm(p=3, dim=-1, keepdim=True),
    "norm_inf": lambda x: torch.norm(x, p=float("inf"), dim=1),
    "norm_fro": lambda x: torch.norm(x, p="fro", dim=(1, 2)),
    "vector_norm": lambda x: torch.linalg.vector_norm(x, dim=-1),
    "vector_norm_ord0": lambda x: torch.linalg.vector_norm(x.round(), ord=0, dim=1),
    "vector_norm_neg_inf": lambda x: torch.linalg.vector_norm(x, ord=-math.inf, dim=(0, 1)),
    "vector_norm_ord_half": lambda x: torch.linalg.vector_norm(x, ord=0.5, dim=3, keepdim=True),
    "linalg_norm_vector": lambda x: torch.linalg.norm(x, dim=2),
    "linalg_norm_fro": lambda x: torch.linalg.norm(x, ord="fro", dim=(2, 3)),
}


@pytest.mark.parametrize("name", sorted(NORMS))
def test_norms(name):
    check(NORMS[name], X)


def test_matrix_norms_rejected():
    from convert_check import Fn

    import torch2trt

    with pytest.raises(NotImplementedError, match="nuc"):
        torch2trt.torch2trt(Fn(lambda x: torch.norm(x, p="nuc")).eval(), [torch.randn(3, 4)])
    with pytest.raises(NotImplementedError, match="ord"):
        torch2trt.torch2trt(Fn(lambda x: torch.linalg.norm(x, ord=2)).eval(), [torch.randn(3, 4)])


def test_logsumexp():
    check(lambda x: torch.logsumexp(x, 1), X)
    check(lambda x: x.logsumexp((2, 3), keepdim=True), randn(2, 3, 4, 5, scale=30.0))


def test_logsumexp_with_infinities():
    def make():
        x = torch.randn(3, 4)
        x[0, :] = -math.inf
        x[1, 2] = math.inf
        return [x]

    check(lambda x: torch.logsumexp(x, 1), make)


ALLANY = {
    "all": lambda x: (x > -1).all(),
    "any_dim": lambda x: torch.any(x > 1.5, dim=1),
    "all_dim_keep": lambda x: (x > -2).all(2, keepdim=True),
    "any_float": lambda x: x.round().any(-1),
    "all_dims": lambda x: torch.all(x > -1.5, dim=(1, 2)),
}


@pytest.mark.parametrize("name", sorted(ALLANY))
def test_all_any(name):
    check(ALLANY[name], X)


CUMSUM = {
    "cumsum": lambda x: torch.cumsum(x, 1),
    "cumsum_neg": lambda x: x.cumsum(-1),
    "cumsum_dtype": lambda x: x.cumsum(2, dtype=torch.float16),
    "cumsum_int": lambda x: (x * 4).int().cumsum(0),
    "cumsum_": lambda x: (x + 0).cumsum_(3),
    "cumsum_bool": lambda x: (x > 0).cumsum(1),
}


@pytest.mark.parametrize("name", sorted(CUMSUM))
def test_cumsum(name):
    tol = HALF_TOL[torch.half] if name == "cumsum_dtype" else 1e-5
    check(CUMSUM[name], XP if name != "cumsum_bool" else X, tol=tol)


SOFTMAX = {
    "F.softmax": lambda x: F.softmax(x, dim=1),
    "F.softmax_last": lambda x: F.softmax(x, -1),
    "torch.softmax": lambda x: torch.softmax(x, 2),
    "Tensor.softmax": lambda x: x.softmax(0),
    "softmax_dtype": lambda x: F.softmax(x.half(), dim=1, dtype=torch.float32),
    "nn.Softmax": nn.Softmax(dim=-1),
    "nn.Softmax2d": nn.Softmax2d(),
    "F.log_softmax": lambda x: F.log_softmax(x, dim=3),
    "Tensor.log_softmax": lambda x: x.log_softmax(1),
    "nn.LogSoftmax": nn.LogSoftmax(dim=1),
    "F.softmin": lambda x: F.softmin(x, dim=2),
    "softmax_large_values": lambda x: F.softmax(x * 100, dim=1),
}


@pytest.mark.parametrize("name", sorted(SOFTMAX))
def test_softmax(name):
    check(SOFTMAX[name], X)


def test_softmax_implicit_dim():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about the implicit dim
        check(lambda x: F.softmax(x), randn(3, 4, 5))
        check(lambda x: F.softmax(x), randn(2, 3, 4, 5))


TOPK = {
    "topk": lambda x: torch.topk(x, 3),
    "topk_dim": lambda x: x.topk(2, dim=1),
    "topk_smallest": lambda x: x.topk(4, dim=-1, largest=False),
    "topk_values": lambda x: x.topk(1, 2)[0],
    "topk_unsorted": lambda x: torch.topk(x, 5, sorted=False).values.sort(-1).values,
    "sort": lambda x: torch.sort(x),
    "sort_desc": lambda x: x.sort(dim=1, descending=True),
    "sort_stable": lambda x: torch.sort(x.round(), stable=True, dim=-1),
    "argsort": lambda x: x.argsort(dim=2),
    "argsort_desc": lambda x: torch.argsort(x, descending=True),
}


@pytest.mark.parametrize("name", sorted(TOPK))
def test_topk_sort(name):
    check(plain(TOPK[name]), X)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", ["softmax", "sum", "var", "max", "logsumexp", "topk"])
def test_half_types(dtype, name):
    fn = {
        "softmax": lambda x: x.softmax(-1),
        "sum": lambda x: x.sum(1),
        "var": lambda x: x.var(1),
        "max": lambda x: tuple(x.max(1)),
        "logsumexp": lambda x: x.logsumexp(2),
        "topk": lambda x: tuple(x.topk(2)),
    }[name]
    if name in ("max", "topk"):
        # Distinct values, exact in 16 bits: with ties the index torch picks is not specified.
        make = lambda: [(torch.randperm(60).reshape(3, 4, 5) / 8 - 4).to(dtype)]  # noqa: E731
    else:
        make = lambda: [torch.randn(3, 4, 5).to(dtype)]  # noqa: E731
    check(fn, make, tol=HALF_TOL[dtype])
