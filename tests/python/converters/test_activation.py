"""Activation converters against PyTorch: functional, torch.*, Tensor methods, nn modules, in-place forms."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from convert_check import HALF_TOL, Fn, check

import torch2trt
from torch2trt import trt


def randn(*shape, scale=3.0):
    return lambda: [torch.randn(*shape) * scale]


X = randn(2, 3, 5, 4)

CASES = {
    "F.relu": lambda x: F.relu(x),
    "F.relu_inplace": lambda x: F.relu(x * 1, inplace=True),
    "torch.relu": lambda x: torch.relu(x),
    "torch.relu_": lambda x: torch.relu_(x * 1),
    "Tensor.relu": lambda x: x.relu(),
    "Tensor.relu_": lambda x: (x * 1).relu_(),
    "nn.ReLU": nn.ReLU(),
    "nn.ReLU_inplace": nn.Sequential(nn.Identity(), nn.ReLU(inplace=True)),
    "F.relu6": lambda x: F.relu6(x),
    "nn.ReLU6": nn.ReLU6(),
    "F.leaky_relu": lambda x: F.leaky_relu(x),
    "F.leaky_relu_slope": lambda x: F.leaky_relu(x, 0.3),
    "F.leaky_relu_": lambda x: F.leaky_relu_(x * 1, 0.2),
    "nn.LeakyReLU": nn.LeakyReLU(0.05),
    "F.rrelu_eval": lambda x: F.rrelu(x, 0.1, 0.3, training=False),
    "nn.RReLU_eval": nn.RReLU(0.2, 0.4),
    "F.elu": lambda x: F.elu(x),
    "F.elu_alpha": lambda x: F.elu(x, alpha=0.5),
    "F.elu_": lambda x: F.elu_(x * 1, 2.0),
    "nn.ELU": nn.ELU(1.5),
    "F.selu": lambda x: F.selu(x),
    "torch.selu_": lambda x: torch.selu_(x * 1),
    "nn.SELU": nn.SELU(),
    "F.celu": lambda x: F.celu(x),
    "F.celu_alpha": lambda x: F.celu(x, alpha=0.7),
    "nn.CELU": nn.CELU(2.5),
    "F.gelu": lambda x: F.gelu(x),
    "F.gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "nn.GELU_tanh": nn.GELU(approximate="tanh"),
    "F.silu": lambda x: F.silu(x),
    "nn.SiLU": nn.SiLU(),
    "F.hardswish": lambda x: F.hardswish(x),
    "nn.Hardswish": nn.Hardswish(),
    "F.hardsigmoid": lambda x: F.hardsigmoid(x),
    "nn.Hardsigmoid": nn.Hardsigmoid(),
    "F.hardtanh": lambda x: F.hardtanh(x),
    "F.hardtanh_bounds": lambda x: F.hardtanh(x, -2.0, 0.5),
    "F.hardtanh_": lambda x: F.hardtanh_(x * 1, -0.5, 1.5),
    "nn.Hardtanh": nn.Hardtanh(-3, 2),
    "F.mish": lambda x: F.mish(x),
    "nn.Mish": nn.Mish(),
    "F.softplus": lambda x: F.softplus(x),
    "F.softplus_beta": lambda x: F.softplus(x, beta=2.0, threshold=3.0),
    "nn.Softplus": nn.Softplus(beta=0.5, threshold=1.0),
    "F.softsign": lambda x: F.softsign(x),
    "torch.sigmoid": lambda x: torch.sigmoid(x),
    "F.sigmoid": lambda x: F.sigmoid(x),
    "Tensor.sigmoid_": lambda x: (x * 1).sigmoid_(),
    "nn.Sigmoid": nn.Sigmoid(),
    "torch.tanh": lambda x: torch.tanh(x),
    "Tensor.tanh_": lambda x: (x * 1).tanh_(),
    "nn.Tanh": nn.Tanh(),
    "F.logsigmoid": lambda x: F.logsigmoid(x),
    "nn.LogSigmoid": nn.LogSigmoid(),
    "F.tanhshrink": lambda x: F.tanhshrink(x),
    "F.hardshrink": lambda x: F.hardshrink(x, 1.0),
    "F.softshrink": lambda x: F.softshrink(x, 0.7),
    "F.threshold": lambda x: F.threshold(x, 0.5, -2.0),
    "F.threshold_": lambda x: F.threshold_(x * 1, 0.1, 20.0),
    "nn.Threshold": nn.Threshold(-0.3, 1.0),
    "F.glu": lambda x: F.glu(x, dim=0),
    "nn.GLU": nn.GLU(dim=-1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation(name):
    check(CASES[name], X)


def test_softplus_large_inputs_use_threshold():
    # Beyond the threshold softplus returns x itself; log1p(exp(x)) would overflow for x = 100.
    check(lambda x: F.softplus(x, beta=1.0, threshold=20.0), randn(4, 8, scale=60.0))


def test_logsigmoid_is_stable_for_large_magnitudes():
    check(lambda x: F.logsigmoid(x), randn(4, 8, scale=50.0))


def test_sigmoid_of_int_tensor_promotes():
    check(lambda x: torch.sigmoid(x.long()), randn(3, 4))


def test_relu_of_int_tensor_stays_int():
    check(lambda x: torch.relu((x * 3).int()), randn(3, 4))


@pytest.mark.parametrize("weight_shape", [(1,), (3,)])
def test_prelu(weight_shape):
    m = nn.PReLU(num_parameters=weight_shape[0])
    with torch.no_grad():
        m.weight.copy_(torch.rand(weight_shape) * 0.5 + 0.1)
    check(m, X)
    w = torch.randn(weight_shape)
    check(lambda x: F.prelu(x, w), X)


def test_prelu_2d_input():
    w = torch.tensor([0.1, 0.2, 0.3, 0.4])
    check(lambda x: F.prelu(x, w), randn(5, 4))


def test_half_precision():
    m = nn.Sequential(nn.GELU(), nn.SiLU(), nn.Hardswish()).half()
    check(m, lambda: [torch.randn(2, 8, dtype=torch.half)], tol=HALF_TOL[torch.half])


def test_inplace_result_seen_by_later_ops():
    def f(x):
        y = x * 2
        F.relu(y, inplace=True)  # result unused: y itself is now relu(2x)
        return y + 1

    check(f, X)


def test_rrelu_training_raises():
    with pytest.raises(NotImplementedError, match="training=True"):
        torch2trt.torch2trt(torch2trt_fn(lambda x: F.rrelu(x, training=True)), [torch.randn(2, 3)])


def test_softplus_beta_zero_is_rejected():
    with pytest.raises(NotImplementedError, match="beta=0"):
        torch2trt.torch2trt(torch2trt_fn(lambda x: F.softplus(x, beta=0)), [torch.randn(2, 3)])


def torch2trt_fn(fn):
    return Fn(fn).eval()


# --- SiLU: one SILU activation, which the builder fuses into the convolution before it ---------------

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def activation_types(trt_model):
    net = trt_model.network
    layers = [net.get_layer(i) for i in range(net.num_layers)]
    return [layer.type for layer in layers if isinstance(layer, trt.IActivationLayer)]


@pytest.mark.parametrize(
    "fn",
    [lambda x: F.silu(x), nn.SiLU(), lambda x: F.silu(x * 1, inplace=True)],
    ids=["F.silu", "nn.SiLU", "F.silu_inplace"],
)
def test_silu_converts_to_one_silu_activation(fn):
    # No SIGMOID, so no x * sigmoid(x) product either.
    assert activation_types(check(fn, X)) == [trt.ActivationType.SILU]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_silu_at_large_magnitudes(dtype):
    # exp(-x) overflows (x < -88 in float32, < -11 in float16) or underflows: the result must be -0 or x,
    # not NaN; only -inf gives NaN, as in torch.
    inf, nan = float("inf"), float("nan")
    values = [-inf, -1e4, -100.0, -89.0, -88.0, -20.0, -12.0, 0.0, 12.0, 20.0, 88.0, 100.0, 1e4, inf, nan]
    check(lambda x: F.silu(x), lambda: [torch.tensor(values, dtype=dtype)], tol=1e-5 if dtype == torch.float32
          else HALF_TOL[dtype])


class ConvSilu(nn.Module):
    """Conv2d then SiLU, as torchvision's Conv2dNormActivation in EfficientNet, or written out."""

    def __init__(self, written_out):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.written_out = written_out

    def forward(self, x):
        y = self.conv(x)
        return y * torch.sigmoid(y) if self.written_out else F.silu(y)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("written_out", [False, True], ids=["F.silu", "x*sigmoid(x)"])
def test_conv_silu_becomes_one_convolution(device, written_out):
    torch.manual_seed(0)
    model = ConvSilu(written_out).eval().to(device)
    x = torch.randn(2, 3, 12, 12, device=device) * 2
    with torch.no_grad():
        want = model(x)
        trt_model = torch2trt.torch2trt(model, [x])
        got = trt_model(x)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    # The converted network has the activation as its own layer(s); the engine has the Convolution alone,
    # so with the outputs matching, the SiLU runs as the convolution's fused activation.
    want_acts = [trt.ActivationType.SIGMOID] if written_out else [trt.ActivationType.SILU]
    assert activation_types(trt_model) == want_acts
    layers = trt_model.engine_layers()
    assert [layer.kind for layer in layers] == ["Convolution"], layers
    assert "conv" in layers[0].kernel and "pointwise" not in layers[0].kernel, layers[0].kernel
