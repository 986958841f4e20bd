"""Spellings upstream torch2trt converts that reuse a family's converter: Tensor.__div__ and
torch.instance_norm, against PyTorch."""

import pytest
import torch
from convert_check import check


def randn(*shapes):
    return lambda: [torch.randn(*s) for s in shapes]


def test_tensor_div_dunder():
    check(lambda x, y: x.__div__(y), lambda: [torch.randn(3, 4), torch.rand(4) + 0.5])


def test_tensor_div_dunder_by_number():
    check(lambda x: x.__div__(4.0), randn((3, 4)))


W, B = torch.randn(3), torch.randn(3)
RM, RV = torch.randn(3), torch.rand(3) + 0.5


@pytest.mark.parametrize(
    "args",
    [
        (None, None, None, None, True, 0.1, 1e-5, False),
        (W, B, None, None, True, 0.1, 1e-3, False),
        (W, B, RM, RV, False, 0.1, 1e-5, True),
        (None, None, RM, RV, False, 0.3, 1e-5, False),
    ],
    ids=["input_stats", "affine", "running_stats_affine", "running_stats"],
)
def test_torch_instance_norm(args):
    # positional, in torch.instance_norm's own order (weight and bias before the running statistics)
    check(lambda x: torch.instance_norm(x, *args), randn((2, 3, 5, 4)))


def test_torch_instance_norm_keywords():
    check(
        lambda x: torch.instance_norm(
            x,
            weight=W,
            bias=B,
            running_mean=None,
            running_var=None,
            use_input_stats=True,
            momentum=0.1,
            eps=1e-5,
            cudnn_enabled=False,
        ),
        randn((2, 3, 7)),
    )
