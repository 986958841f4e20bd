"""The two seed documents' examples, verbatim but for these changes:

- ``import tensorrt as trt`` becomes ``import torch2trt.trt as trt`` (the engine is torch2trt's own);
- ``alexnet(pretrained=True)`` becomes ``alexnet()`` (random weights: the tests download nothing);
- ``.cuda()`` is dropped: this machine has no GPU, so the engine targets the CPU like the inputs;
- ``import torch`` is added where the example uses torch without importing it.

Registering the seeds' ReLU converters replaces the built-in one; the ``saved_converters`` fixture
puts the registry back afterwards.
"""

import pytest
import torch
import torch2trt
from conftest import rel_l2


def relu_model():
    return torch.nn.Sequential(torch.nn.ReLU(), torch.nn.ReLU())


def test_seed_004_convert_alexnet():
    import torch
    from torch2trt import torch2trt
    from torchvision.models.alexnet import alexnet

    model = alexnet().eval()

    x = torch.ones((1, 3, 224, 224))

    # help(create_tensorrt_module) for more information
    model_trt = torch2trt(model, [x])

    y = model(x)
    y_trt = model_trt(x)

    print(torch.max(torch.abs(y - y_trt)))
    assert rel_l2(y_trt, y) <= 1e-4


def test_seed_000_custom_converter(saved_converters):
    import torch2trt.trt as trt
    from torch2trt import tensorrt_converter

    @tensorrt_converter('torch.nn.ReLU.forward')
    def convert_ReLU(ctx):
        input = ctx.method_args[1]
        output = ctx.method_return
        layer = ctx.network.add_activation(input=input._trt, type=trt.ActivationType.RELU)
        output._trt = layer.get_output(0)

    assert saved_converters["torch.nn.ReLU.forward"]["converter"] is convert_ReLU
    x = torch.randn(2, 5)
    model_trt = torch2trt.torch2trt(relu_model(), [x])
    assert torch.equal(model_trt(x), x.relu())
    network = model_trt.network  # the engine may fuse layers; the network shows what the converter added
    assert [type(network.get_layer(i)).__name__ for i in range(network.num_layers)] == ["IActivationLayer"] * 2


def test_seed_004_register_or_override_converter(saved_converters):
    import torch2trt.trt as trt
    from torch2trt import tensorrt_converter

    @tensorrt_converter('torch.nn.ReLU.forward')
    def convert_ReLU(ctx):
        input_tensor = ctx.method_args[1]
        output_tensor = ctx.method_return
        trt_input = ctx.trt_tensors[input_tensor.__hash__()]
        layer = ctx.network.add_activation(input=trt_input, type=trt.ActivationType.RELU)
        ctx.trt_tensors[output_tensor.__hash__()] = layer.get_output(0)

    assert saved_converters["torch.nn.ReLU.forward"]["converter"] is convert_ReLU
    x = torch.randn(2, 5)
    model_trt = torch2trt.torch2trt(relu_model(), [x])
    assert torch.equal(model_trt(x), x.relu())


def test_failed_conversion_leaves_torch_unpatched(saved_converters):
    from torch2trt import tensorrt_converter

    @tensorrt_converter('torch.nn.ReLU.forward')
    def broken(ctx):
        raise RuntimeError("converter bug")

    spaces = [torch, torch.Tensor, torch.nn.functional, torch.nn.ReLU, torch.nn.Linear, torch.nn.Conv2d]
    before = [dict(vars(s)) for s in spaces]
    with pytest.raises(RuntimeError, match="converter bug"):
        torch2trt.torch2trt(relu_model(), [torch.randn(2)])
    for space, b in zip(spaces, before):
        after = dict(vars(space))
        assert after.keys() == b.keys() and all(after[k] is b[k] for k in b), space
    # The model still runs in plain PyTorch, untouched.
    x = torch.randn(3)
    assert torch.equal(relu_model()(x), x.relu())
