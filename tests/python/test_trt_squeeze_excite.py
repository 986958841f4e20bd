"""The SqueezeExcite layer and the fuse_squeeze_excite pass seen from Python.

``add_squeeze_excite`` networks match torchvision's SqueezeExcitation gate; converted models with
squeeze-excitation blocks build into one SqueezeExcite layer per block and still match PyTorch.
"""

import pytest
import torch
from conftest import rel_l2
from test_trt_attention import DEVICES, run_network, tolerance
from torch import nn
from torch2trt import torch2trt, trt
from torchvision.ops import SqueezeExcitation


def weights(*shape, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g) - 0.5) * 0.5


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_add_squeeze_excite_matches_torch(device, dtype):
    if device == "cpu" and dtype == torch.float16:
        pytest.skip("float16 engines run on the GPU")
    n, c, s = 2, 40, 10
    x = torch.randn(n, c, 9, 9)
    w1, b1, w2, b2 = weights(s, c, seed=1), weights(s, seed=2), weights(c, s, seed=3), weights(c, seed=4)
    A = trt.ActivationType

    def build(network, t):
        layer = network.add_squeeze_excite(t, w1.numpy(), w2.numpy(), b1.numpy(), b2.numpy(), A.SILU, A.SIGMOID)
        assert layer.squeeze_channels == s and layer.act1 == A.SILU and layer.act2 == A.SIGMOID
        assert not layer.channels_last
        return layer.get_output(0)

    y, kinds = run_network(build, [x.to(dtype)], device)
    assert kinds == ["SqueezeExcite"]
    h = torch.nn.functional.silu(x.double().mean((2, 3)) @ w1.double().T + b1.double())
    want = torch.sigmoid(h @ w2.double().T + b2.double()).reshape(n, c, 1, 1)
    assert y.shape == (n, c, 1, 1)
    assert rel_l2(y.double(), want) <= tolerance(dtype)


def test_add_squeeze_excite_errors_name_the_argument():
    network = trt.Builder(trt.Logger(trt.Logger.WARNING)).create_network()
    t = network.add_input("x", trt.float32, (1, 8, 4, 4))
    with pytest.raises(ValueError, match="w2"):
        network.add_squeeze_excite(t, torch.zeros(2, 8).numpy(), torch.zeros(7, 2).numpy())
    with pytest.raises(ValueError, match="squeeze_channels"):
        network.add_squeeze_excite(t, torch.zeros(3, 3).numpy(), torch.zeros(9).numpy())  # 9 values, C = 8
    with pytest.raises(ValueError, match="b1"):
        network.add_squeeze_excite(t, torch.zeros(2, 8).numpy(), torch.zeros(8, 2).numpy(), b1=torch.zeros(3).numpy())


class Block(nn.Module):
    """x * SE(x) after a convolution, as in EfficientNet and MobileNetV3."""

    def __init__(self, c=32, s=8, activation=nn.SiLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.conv = nn.Conv2d(16, c, 3, padding=1)
        self.se = SqueezeExcitation(c, s, activation=activation, scale_activation=scale_activation)

    def forward(self, x):
        return self.se(self.conv(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("act", ["efficientnet", "mobilenet_v3"])
def test_converted_squeeze_excitation_fuses(device, act):
    acts = (nn.SiLU, nn.Sigmoid) if act == "efficientnet" else (nn.ReLU, nn.Hardsigmoid)
    model = Block(activation=acts[0], scale_activation=acts[1]).eval().to(device)
    x = torch.randn(2, 16, 14, 14, device=device)
    trt_model = torch2trt(model, [x])
    kinds = [layer.kind for layer in trt_model.engine_layers()]
    assert kinds.count("SqueezeExcite") == 1 and "Pooling" not in kinds, kinds
    with torch.no_grad():
        assert rel_l2(trt_model(x), model(x)) <= 1e-5


class TimmStyleSE(nn.Module):
    """timm's SqueezeExcite: the squeeze is x.mean((2, 3), keepdim=True), not a pooling module."""

    def __init__(self, c=48, s=12):
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, s, 1)
        self.act = nn.ReLU()
        self.conv_expand = nn.Conv2d(s, c, 1)

    def forward(self, x):
        x_se = x.mean((2, 3), keepdim=True)
        x_se = self.conv_expand(self.act(self.conv_reduce(x_se)))
        return x * x_se.sigmoid()


@pytest.mark.parametrize("device", DEVICES)
def test_mean_squeeze_fuses(device):
    model = TimmStyleSE().eval().to(device)
    x = torch.randn(2, 48, 10, 10, device=device)
    trt_model = torch2trt(model, [x])
    kinds = [layer.kind for layer in trt_model.engine_layers()]
    assert kinds == ["SqueezeExcite"], kinds
    with torch.no_grad():
        assert rel_l2(trt_model(x), model(x)) <= 1e-5


class SENetStyleSE(nn.Module):
    """The original SENet block: Linear layers, a view, and `x * y.expand_as(x)`."""

    def __init__(self, c=64, r=4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(c, c // r, bias=False), nn.ReLU(inplace=True),
                                nn.Linear(c // r, c, bias=False), nn.Sigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)
        return x * y.expand_as(x)


@pytest.mark.parametrize("device", DEVICES)
def test_senet_block_fuses(device):
    # remove_broadcast_slices drops the expand_as (the product broadcasts the gate itself); the pooling, the
    # views and both Linear layers then fuse with the product into one layer.
    model = SENetStyleSE().eval().to(device)
    x = torch.randn(2, 64, 7, 7, device=device)
    trt_model = torch2trt(model, [x])
    kinds = [layer.kind for layer in trt_model.engine_layers()]
    assert kinds == ["SqueezeExcite"], kinds
    with torch.no_grad():
        assert rel_l2(trt_model(x), model(x)) <= 1e-5
