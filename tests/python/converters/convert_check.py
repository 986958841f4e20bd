"""Test helper for converters: convert a tiny module on CPU, run it on fresh inputs, compare with PyTorch.

The engine is built from one set of sample inputs and checked on a second set drawn the same way:
a converter that baked a traced value into the engine as a constant fails the comparison.
"""

import torch

import torch2trt


# Relative L2 bounds for 16-bit results. torch rounds to 16 bits after every op while the engine
# computes inside a layer in float32, so the two differ by a few 16-bit ulps per op (measured over
# 300 draws: chains of three activations reach 1.1e-3 in float16 and 1.3e-2 in bfloat16).
HALF_TOL = {torch.float16: 5e-3, torch.bfloat16: 4e-2}


class Fn(torch.nn.Module):
    """Wraps a function of tensors as a module."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def rel_l2(actual, expected):
    a, e = actual.detach().double(), expected.detach().double()
    denom = e.norm()
    diff = (a - e).norm()
    return float(diff) if denom == 0 else float(diff / denom)


def _flatten(v, out, where="output"):
    if isinstance(v, torch.Tensor):
        out.append((where, v))
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            _flatten(x, out, f"{where}[{i}]")
    elif isinstance(v, dict):
        for k, x in v.items():
            _flatten(x, out, f"{where}[{k!r}]")
    elif v is not None:
        raise AssertionError(f"{where}: unexpected output type {type(v).__name__}")
    return out


def compare(actual, expected, tol):
    a, e = _flatten(actual, []), _flatten(expected, [])
    assert len(a) == len(e), f"{len(a)} outputs vs {len(e)} expected"
    for (where, x), (_, y) in zip(a, e):
        assert tuple(x.shape) == tuple(y.shape), f"{where}: shape {tuple(x.shape)} != {tuple(y.shape)}"
        expected_dtype = torch.float32 if y.dtype == torch.float64 else y.dtype
        assert x.dtype == expected_dtype, f"{where}: dtype {x.dtype} != {y.dtype}"
        if y.dtype.is_floating_point:
            # Non-finite values must match exactly, position by position.
            fin = torch.isfinite(y)
            assert torch.equal(fin, torch.isfinite(x)), f"{where}: non-finite positions differ"
            assert torch.equal(x[~fin].double().nan_to_num(0), y[~fin].double().nan_to_num(0)), \
                f"{where}: non-finite values differ"
            err = rel_l2(x[fin], y[fin])
            assert err <= tol, f"{where}: relative L2 error {err:.3g} > {tol:g}"
        else:
            assert torch.equal(x, y), f"{where}: values differ:\n{x}\nvs\n{y}"


def check(fn, make_inputs, tol=1e-5, min_layers=1):
    """Converts `fn` (a module or a function of tensors) with inputs from `make_inputs()` and
    compares the engine with PyTorch on a second draw. Returns the TRTModule."""
    model = fn if isinstance(fn, torch.nn.Module) else Fn(fn)
    model.eval()
    sample = list(make_inputs())
    trt_model = torch2trt.torch2trt(model, [x.clone() for x in sample])
    assert trt_model.network.num_layers >= min_layers
    for inputs in (sample, list(make_inputs())):
        with torch.no_grad():
            expected = model(*[x.clone() for x in inputs])
        actual = trt_model(*inputs)
        compare(actual, expected, tol)
    return trt_model


def layer_types(trt_model):
    """The layer kinds of the converted network, for asserting how something was converted."""
    net = trt_model.network
    return [net.get_layer(i).type for i in range(net.num_layers)]
