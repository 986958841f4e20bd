"""Matrix-multiply epilogue fusion seen from a converted model: each Linear's bias add, the activation after
it, a residual add, and an eval BatchNorm1d after a Linear fold into the MatrixMultiply layers, so the engine
has fewer layers than the converted network, and its outputs still match PyTorch."""

import pytest
import torch
from torch import nn
from torch2trt import torch2trt, trt

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


class FeedForward(nn.Module):
    """The transformer feed-forward block: x + Linear(act(Linear(x)))."""

    def __init__(self, d=32, hidden=64, act=None):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(d, hidden), act or nn.GELU(), nn.Linear(hidden, d))

    def forward(self, x):
        return x + self.mlp(x)


def convert(model, x):
    model = model.eval().to(x.device)
    with torch.no_grad():
        want = model(x)
        trt_model = torch2trt(model, [x])
        got = trt_model(x)
    return trt_model, got, want


def matmul_kernels(trt_model):
    return [layer.kernel for layer in trt_model.engine_layers() if layer.kind == "MatrixMultiply"]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "act, name",
    [
        (nn.GELU(), "GELU_ERF"),
        (nn.GELU(approximate="tanh"), "GELU_TANH"),
        (nn.ReLU(), "RELU"),
        (nn.Sigmoid(), "SIGMOID"),
    ],
)
def test_feed_forward_fuses_into_two_matmuls(device, act, name):
    torch.manual_seed(0)
    x = torch.randn(2, 10, 32, device=device)
    trt_model, got, want = convert(FeedForward(act=act), x)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    layers = trt_model.engine_layers()
    kinds = [layer.kind for layer in layers]
    assert not {"ElementWise", "Activation", "Pointwise"} & set(kinds), kinds
    kernels = matmul_kernels(trt_model)
    assert len(kernels) == 2, kernels
    assert any(f"+bias+{name}" in k for k in kernels), kernels
    assert any("+bias+residual" in k for k in kernels), kernels
    assert len(layers) < trt_model.network.num_layers


@pytest.mark.parametrize("device", DEVICES)
def test_batch_norm_after_linear_folds_into_the_matmul(device):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 24), nn.BatchNorm1d(24), nn.ReLU(), nn.Linear(24, 8))
    # Running statistics other than the initial ones, so the fold has something to fold.
    model[1].running_mean.uniform_(-1, 1)
    model[1].running_var.uniform_(0.5, 2)
    model[1].weight.data.uniform_(0.5, 1.5)
    model[1].bias.data.uniform_(-0.5, 0.5)
    x = torch.randn(5, 16, device=device)
    trt_model, got, want = convert(model, x)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    kinds = [layer.kind for layer in trt_model.engine_layers()]
    assert "Scale" not in kinds and "Activation" not in kinds and "ElementWise" not in kinds, kinds
    kernels = matmul_kernels(trt_model)
    assert any("+bias+RELU" in k for k in kernels), kernels


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_feed_forward_reduced_precision_on_gpu(dtype):
    torch.manual_seed(0)
    model = FeedForward().to(dtype)
    x = torch.randn(2, 10, 32, device="cuda", dtype=dtype)
    trt_model, got, want = convert(model, x)
    torch.testing.assert_close(got.float(), want.float(), rtol=2e-2, atol=2e-2)
    assert len(matmul_kernels(trt_model)) == 2


def test_network_layers_have_no_epilogue():
    """Only the builder fuses: a matmul added through the network API reads back with an empty epilogue."""
    network = trt.Builder(trt.Logger()).create_network()
    x = network.add_input("x", trt.float32, (2, 3))
    w = network.add_input("w", trt.float32, (3, 4))
    layer = network.add_matrix_multiply(x, trt.MatrixOperation.NONE, w, trt.MatrixOperation.NONE)
    assert layer.has_activation is False
    assert layer.bias.size == 0
    assert layer.num_inputs == 2
