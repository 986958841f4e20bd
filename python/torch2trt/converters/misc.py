"""Spellings that upstream torch2trt converts and the family modules do not register: the Python 2
operator ``Tensor.__div__`` and ``torch.instance_norm`` (the functional form's arguments in
another order). Each reuses its family's converter.
"""

from ._utils import parse_args, register
from .elementwise import convert_div
from .nn import convert_instance_norm

register(["torch.Tensor.__div__"], convert_div)


def convert_torch_instance_norm(ctx):
    # torch.instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
    # eps, cudnn_enabled); cudnn_enabled picks a CUDA kernel, never the result.
    a = parse_args(
        ctx,
        "input",
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "use_input_stats",
        "momentum",
        "eps",
        ("cudnn_enabled", True),
    )
    args, kwargs = ctx.method_args, ctx.method_kwargs
    ctx.method_args = (a["input"],)
    ctx.method_kwargs = {
        k: a[k] for k in ("running_mean", "running_var", "weight", "bias", "use_input_stats", "momentum", "eps")
    }
    try:
        convert_instance_norm(ctx)  # F.instance_norm's converter, under torch.instance_norm's name
    finally:
        ctx.method_args, ctx.method_kwargs = args, kwargs


register(["torch.instance_norm"], convert_torch_instance_norm)
