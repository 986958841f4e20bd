"""Activation converters: relu family, gelu, silu, hard*, softplus, sigmoid/tanh, prelu, threshold.

Functional, torch.*, Tensor-method and in-place forms share one converter. nn modules (nn.ReLU,
nn.GELU, ...) call these functionals from their forward, so the functional converters cover them
with the module's own arguments (inplace, beta, threshold, approximate, ...). In-place forms return
their input object: binding the new engine tensor to it is what makes later readers see the result.
"""

import torch2trt.trt as trt
from torch2trt.conversion import tensorrt_converter

from ._utils import (
    cast_to,
    elementwise,
    lazy_enum,
    name_converters,
    norm_dim,
    parse_args,
    reject,
    reshape,
    scalar_like,
    select,
    set_trt,
    trt_tensor,
)

A = lazy_enum("ActivationType")
E = lazy_enum("ElementWiseOperation")


def _activation(ctx, x, kind, alpha=None, beta=None):
    layer = ctx.network.add_activation(x, kind)
    if alpha is not None:
        layer.alpha = float(alpha)
    if beta is not None:
        layer.beta = float(beta)
    return layer.get_output(0)


def _mul_scalar(ctx, x, value):
    return elementwise(ctx, x, scalar_like(ctx, value, x), E.PROD)


def _finish(ctx, y):
    return set_trt(ctx, ctx.method_return, y)


@tensorrt_converter("torch.nn.functional.relu")
@tensorrt_converter("torch.nn.functional.relu_")
@tensorrt_converter("torch.relu")
@tensorrt_converter("torch.relu_")
@tensorrt_converter("torch.Tensor.relu")
@tensorrt_converter("torch.Tensor.relu_")
def convert_relu(ctx):
    a = parse_args(ctx, "input", ("inplace", False))
    x = trt_tensor(ctx, a["input"])
    if x.dtype in (trt.DataType.INT32, trt.DataType.INT64, trt.DataType.INT8):
        # torch.relu accepts integer tensors; the activation layer is float-only.
        _finish(ctx, elementwise(ctx, x, scalar_like(ctx, 0, x), E.MAX))
    else:
        _finish(ctx, _activation(ctx, x, A.RELU))


@tensorrt_converter("torch.nn.functional.relu6")
def convert_relu6(ctx):
    a = parse_args(ctx, "input", ("inplace", False))
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.CLIP, 0.0, 6.0))


@tensorrt_converter("torch.nn.functional.hardtanh")
@tensorrt_converter("torch.nn.functional.hardtanh_")
def convert_hardtanh(ctx):
    a = parse_args(ctx, "input", ("min_val", -1.0), ("max_val", 1.0), ("inplace", False))
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.CLIP, a["min_val"], a["max_val"]))


@tensorrt_converter("torch.nn.functional.leaky_relu")
@tensorrt_converter("torch.nn.functional.leaky_relu_")
def convert_leaky_relu(ctx):
    a = parse_args(ctx, "input", ("negative_slope", 0.01), ("inplace", False))
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.LEAKY_RELU, a["negative_slope"]))


@tensorrt_converter("torch.nn.functional.rrelu")
@tensorrt_converter("torch.nn.functional.rrelu_")
@tensorrt_converter("torch.rrelu")
@tensorrt_converter("torch.rrelu_")
def convert_rrelu(ctx):
    a = parse_args(ctx, "input", ("lower", 1.0 / 8), ("upper", 1.0 / 3), ("training", False), ("inplace", False))
    if a["training"]:
        reject(ctx, "training", True, "random slopes cannot be reproduced by an engine; call model.eval()")
    # In eval mode rrelu is a leaky relu with the mean slope.
    slope = (float(a["lower"]) + float(a["upper"])) / 2
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.LEAKY_RELU, slope))


@tensorrt_converter("torch.nn.functional.elu")
@tensorrt_converter("torch.nn.functional.elu_")
def convert_elu(ctx):
    a = parse_args(ctx, "input", ("alpha", 1.0), ("inplace", False))
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.ELU, a["alpha"]))


@tensorrt_converter("torch.nn.functional.selu")
@tensorrt_converter("torch.nn.functional.selu_")
@tensorrt_converter("torch.selu")
@tensorrt_converter("torch.selu_")
def convert_selu(ctx):
    a = parse_args(ctx, "input", ("inplace", False))
    # The layer's defaults are SELU's constants (TensorRT's alpha/beta for SELU).
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.SELU))


@tensorrt_converter("torch.nn.functional.celu")
@tensorrt_converter("torch.nn.functional.celu_")
@tensorrt_converter("torch.celu")
@tensorrt_converter("torch.celu_")
def convert_celu(ctx):
    a = parse_args(ctx, "input", ("alpha", 1.0), ("inplace", False))
    alpha = float(a["alpha"])
    x = trt_tensor(ctx, a["input"])
    if alpha == 1.0:
        _finish(ctx, _activation(ctx, x, A.ELU, 1.0))
        return
    # celu(x; a) = a * elu(x / a; 1): the ELU layer's alpha scales exp(x) - 1 but not the exponent.
    y = _activation(ctx, _mul_scalar(ctx, x, 1.0 / alpha), A.ELU, 1.0)
    _finish(ctx, _mul_scalar(ctx, y, alpha))


@tensorrt_converter("torch.nn.functional.gelu")
def convert_gelu(ctx):
    a = parse_args(ctx, "input", ("approximate", "none"))
    kind = {"none": A.GELU_ERF, "tanh": A.GELU_TANH}.get(a["approximate"])
    if kind is None:
        reject(ctx, "approximate", a["approximate"])
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), kind))


@tensorrt_converter("torch.nn.functional.silu")
def convert_silu(ctx):
    a = parse_args(ctx, "input", ("inplace", False))
    # One layer, not x * sigmoid(x): the builder can fuse an activation into the convolution before it.
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.SILU))


@tensorrt_converter("torch.nn.functional.hardsigmoid")
def convert_hardsigmoid(ctx):
    a = parse_args(ctx, "input", ("inplace", False))
    # torch: relu6(x + 3) / 6 = clamp(x / 6 + 1 / 2, 0, 1).
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.HARD_SIGMOID, 1.0 / 6, 0.5))


@tensorrt_converter("torch.nn.functional.hardswish")
def convert_hardswish(ctx):
    a = parse_args(ctx, "input", ("inplace", False))
    x = trt_tensor(ctx, a["input"])
    _finish(ctx, elementwise(ctx, x, _activation(ctx, x, A.HARD_SIGMOID, 1.0 / 6, 0.5), E.PROD))


@tensorrt_converter("torch.nn.functional.mish")
def convert_mish(ctx):
    a = parse_args(ctx, "input", ("inplace", False))
    x = trt_tensor(ctx, a["input"])
    sp = _activation(ctx, x, A.SOFTPLUS, 1.0, 20.0)
    _finish(ctx, elementwise(ctx, x, _activation(ctx, sp, A.TANH), E.PROD))


@tensorrt_converter("torch.nn.functional.softplus")
def convert_softplus(ctx):
    a = parse_args(ctx, "input", ("beta", 1.0), ("threshold", 20.0))
    if float(a["beta"]) == 0.0:
        reject(ctx, "beta", a["beta"], "softplus divides by beta")
    # The layer follows torch: x * beta > threshold ? x : log1p(exp(beta * x)) / beta.
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.SOFTPLUS, a["beta"], a["threshold"]))


@tensorrt_converter("torch.nn.functional.softsign")
def convert_softsign(ctx):
    a = parse_args(ctx, "input")
    _finish(ctx, _activation(ctx, trt_tensor(ctx, a["input"]), A.SOFTSIGN))


@tensorrt_converter("torch.nn.functional.sigmoid")
@tensorrt_converter("torch.sigmoid")
@tensorrt_converter("torch.sigmoid_")
@tensorrt_converter("torch.special.expit")
@tensorrt_converter("torch.Tensor.sigmoid")
@tensorrt_converter("torch.Tensor.sigmoid_")
def convert_sigmoid(ctx):
    a = parse_args(ctx, "input")
    _finish(ctx, _activation(ctx, _float_input(ctx, a["input"]), A.SIGMOID))


@tensorrt_converter("torch.nn.functional.tanh")
@tensorrt_converter("torch.tanh")
@tensorrt_converter("torch.tanh_")
@tensorrt_converter("torch.Tensor.tanh")
@tensorrt_converter("torch.Tensor.tanh_")
def convert_tanh(ctx):
    a = parse_args(ctx, "input")
    _finish(ctx, _activation(ctx, _float_input(ctx, a["input"]), A.TANH))


def _float_input(ctx, x):
    """torch promotes integer inputs of sigmoid/tanh to the result's float dtype."""
    return cast_to(ctx, trt_tensor(ctx, x), ctx.method_return.dtype)


@tensorrt_converter("torch.nn.functional.logsigmoid")
def convert_logsigmoid(ctx):
    a = parse_args(ctx, "input")
    x = trt_tensor(ctx, a["input"])
    # log(sigmoid(x)) = -softplus(-x), stable for large |x|.
    sp = _activation(ctx, _mul_scalar(ctx, x, -1.0), A.SOFTPLUS, 1.0, 20.0)
    _finish(ctx, _mul_scalar(ctx, sp, -1.0))


@tensorrt_converter("torch.nn.functional.tanhshrink")
def convert_tanhshrink(ctx):
    a = parse_args(ctx, "input")
    x = trt_tensor(ctx, a["input"])
    _finish(ctx, elementwise(ctx, x, _activation(ctx, x, A.TANH), E.SUB))


@tensorrt_converter("torch.nn.functional.prelu")
@tensorrt_converter("torch.prelu")
@tensorrt_converter("torch.Tensor.prelu")
def convert_prelu(ctx):
    a = parse_args(ctx, "input", "weight")
    inp, weight = a["input"], a["weight"]
    x = trt_tensor(ctx, inp)
    # One slope, or one per channel (dim 1); shape it to broadcast over the input.
    shape = [1] * inp.dim()
    if weight.numel() != 1:
        shape[1 if inp.dim() >= 2 else 0] = weight.numel()
    w = reshape(ctx, cast_to(ctx, trt_tensor(ctx, weight), ctx.method_return.dtype), shape)
    zero = scalar_like(ctx, 0.0, x)
    pos = elementwise(ctx, x, zero, E.MAX)
    neg = elementwise(ctx, x, zero, E.MIN)
    _finish(ctx, elementwise(ctx, pos, elementwise(ctx, neg, w, E.PROD), E.SUM))


@tensorrt_converter("torch.nn.functional.threshold")
@tensorrt_converter("torch.nn.functional.threshold_")
@tensorrt_converter("torch.threshold")
@tensorrt_converter("torch.threshold_")
def convert_threshold(ctx):
    a = parse_args(ctx, "input", "threshold", "value", ("inplace", False))
    x = trt_tensor(ctx, a["input"])
    keep = elementwise(ctx, x, scalar_like(ctx, a["threshold"], x), E.GREATER)
    fill = scalar_like(ctx, a["value"], x)
    _finish(ctx, select(ctx, keep, x, fill))


@tensorrt_converter("torch.nn.functional.hardshrink")
@tensorrt_converter("torch.hardshrink")
@tensorrt_converter("torch.Tensor.hardshrink")
def convert_hardshrink(ctx):
    a = parse_args(ctx, "input", ("lambd", 0.5))
    x = trt_tensor(ctx, a["input"])
    lambd = float(a["lambd"])
    # |x| > lambd ? x : 0
    outside = _or(ctx, elementwise(ctx, x, scalar_like(ctx, lambd, x), E.GREATER),
                  elementwise(ctx, x, scalar_like(ctx, -lambd, x), E.LESS))
    _finish(ctx, select(ctx, outside, x, scalar_like(ctx, 0.0, x)))


@tensorrt_converter("torch.nn.functional.softshrink")
def convert_softshrink(ctx):
    a = parse_args(ctx, "input", ("lambd", 0.5))
    x = trt_tensor(ctx, a["input"])
    lambd = float(a["lambd"])
    # x - clamp(x, -lambd, lambd): x - lambd above, x + lambd below, 0 between.
    _finish(ctx, elementwise(ctx, x, _activation(ctx, x, A.CLIP, -lambd, lambd), E.SUB))


@tensorrt_converter("torch.nn.functional.glu")
def convert_glu(ctx):
    a = parse_args(ctx, "input", ("dim", -1))
    inp = a["input"]
    x = trt_tensor(ctx, inp)
    dim = norm_dim(a["dim"], inp.dim())
    half = inp.shape[dim] // 2
    shape = list(inp.shape)
    shape[dim] = half
    start = [0] * inp.dim()
    stride = [1] * inp.dim()
    first = ctx.network.add_slice(x, start, shape, stride).get_output(0)
    start[dim] = half
    second = ctx.network.add_slice(x, start, shape, stride).get_output(0)
    _finish(ctx, elementwise(ctx, first, _activation(ctx, second, A.SIGMOID), E.PROD))


def _or(ctx, a, b):
    return elementwise(ctx, a, b, E.OR)

name_converters(globals())
