"""Patchify convolutions (kernel == stride, no padding) seen from a converted model: the builder's
convolution_to_matmul pass turns them into patch shuffles and one matrix multiply, ViT's following
flatten(2).transpose(1, 2) cancels with the transpose back to channels-first, and the outputs still match
PyTorch."""

import pytest
import torch
from torch import nn
from torch2trt import torch2trt

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


class PatchEmbed(nn.Module):
    """ViT's patch embedding: Conv2d(3, dim, p, stride p), then (N, dim, H/p, W/p) -> (N, P, dim)."""

    def __init__(self, dim=32, patch=4):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


def convert(model, x):
    model = model.eval().to(x.device)
    with torch.no_grad():
        want = model(x)
        trt_model = torch2trt(model, [x])
        got = trt_model(x)
    return trt_model, got, want


def kinds(trt_model):
    return [layer.kind for layer in trt_model.engine_layers()]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch", [1, 3])
def test_vit_patch_embedding_becomes_one_matmul(device, batch):
    torch.manual_seed(0)
    x = torch.randn(batch, 3, 16, 16, device=device)
    trt_model, got, want = convert(PatchEmbed(), x)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    layers = trt_model.engine_layers()
    k = [layer.kind for layer in layers]
    assert "Convolution" not in k, k
    assert k.count("MatrixMultiply") == 1, k
    # The patch transpose and a free reshape to rows; nothing after the matmul (its output is the result).
    assert k.count("Shuffle") == 2, k
    assert layers[-1].kind == "MatrixMultiply", layers
    assert "+bias" in layers[-1].kernel, layers[-1]


@pytest.mark.parametrize("device", DEVICES)
def test_extents_the_kernel_does_not_divide(device):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 18, 19, device=device)
    trt_model, got, want = convert(nn.Conv2d(3, 8, (4, 2), (4, 2)), x)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    assert "Convolution" not in kinds(trt_model)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "conv, shape",
    [
        (nn.Conv1d(4, 8, 3, 3, bias=False), (2, 4, 12)),
        (nn.Conv3d(2, 6, 2, 2), (2, 2, 4, 6, 4)),
    ],
)
def test_one_and_three_spatial_dims(device, conv, shape):
    torch.manual_seed(0)
    x = torch.randn(*shape, device=device)
    trt_model, got, want = convert(nn.Sequential(conv, nn.ReLU()), x)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    k = kinds(trt_model)
    assert "Convolution" not in k and "Activation" not in k, k


@pytest.mark.parametrize("device", DEVICES)
def test_overlapping_or_padded_windows_stay_convolutions(device):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16, device=device)
    for conv in (nn.Conv2d(3, 8, 4, 4, padding=1), nn.Conv2d(3, 8, 4, 2), nn.Conv2d(3, 8, 1, 1)):
        trt_model, got, want = convert(conv, x)
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
        assert "Convolution" in kinds(trt_model), conv
