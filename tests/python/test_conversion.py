"""The conversion framework: registry, hooks, both converter APIs, errors, options, report()."""

import collections
import ctypes
import inspect
import io
import re
import sys
import threading

import pytest
import torch
import torch.nn.functional as F
import torch2trt
from torch2trt import ConversionError, tensorrt_converter, trt
from torch2trt import torch2trt as convert
from torch2trt.conversion import _lookup, _short_path


def line_of(fn, text):
    """'file:line' of the first line of ``fn`` containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if text in line:
            return f"{_short_path(inspect.getsourcefile(fn))}:{start + i}"
    raise AssertionError(f"{text!r} not in {fn.__name__}")


# Minimal converters written against the seed API; the tests that use them run with an otherwise
# empty registry (isolated_converters) so that they decide exactly what converts.


def register_relu(counter=None):
    @tensorrt_converter("torch.nn.ReLU.forward")
    def convert_relu_module(ctx):
        if counter is not None:
            counter.append("torch.nn.ReLU.forward")
        x, out = ctx.method_args[1], ctx.method_return
        out._trt = ctx.network.add_activation(input=x._trt, type=trt.ActivationType.RELU).get_output(0)

    @tensorrt_converter("torch.nn.functional.relu")
    def convert_relu(ctx):
        if counter is not None:
            counter.append("torch.nn.functional.relu")
        x, out = ctx.method_args[0], ctx.method_return
        out._trt = ctx.network.add_activation(input=x._trt, type=trt.ActivationType.RELU).get_output(0)


def operand(ctx, value, like):
    """Engine tensor of a tensor argument, or of a number as a constant shaped to broadcast."""
    if isinstance(value, torch.Tensor):
        return ctx.get_trt_tensor(value)
    return ctx.add_constant(torch.full((1,) * like.dim(), value, dtype=like.dtype))


def register_binary(name, op):
    @tensorrt_converter(name)
    def convert(ctx):
        a, b = ctx.method_args[:2]
        out = ctx.method_return
        out._trt = ctx.network.add_elementwise(operand(ctx, a, out), operand(ctx, b, out), op).get_output(0)

    return convert


def register_basic():
    register_relu()
    register_binary("torch.Tensor.__add__", trt.ElementWiseOperation.SUM)
    register_binary("torch.Tensor.__mul__", trt.ElementWiseOperation.PROD)
    register_binary("torch.Tensor.__sub__", trt.ElementWiseOperation.SUB)


class AddRelu(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.relu = torch.nn.ReLU()

    def forward(self, x, y):
        return self.relu(x) + y


def snapshot_torch():
    spaces = [torch, torch.Tensor, torch.nn.functional, torch.nn.ReLU, torch.nn.Module, torch.nn.Conv2d]
    return [(space, dict(vars(space))) for space in spaces]


def assert_unchanged(snap):
    for space, before in snap:
        after = dict(vars(space))
        assert after.keys() == before.keys(), f"{space}: attributes added or removed"
        changed = [k for k in before if after[k] is not before[k]]
        assert not changed, f"{space}: {changed} changed"


# ---------------------------------------------------------------------------------------------
# Converting


def test_seed_api_converts(isolated_converters):
    register_basic()
    model = AddRelu().eval()
    x, y = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    model_trt = convert(model, [x, y])
    torch.testing.assert_close(model_trt(x, y), model(x, y), rtol=0, atol=0)
    assert model_trt.input_names == ["input_0", "input_1"]
    assert model_trt.output_names == ["output_0"]
    network = model_trt.network  # the engine may fuse layers; the network shows what the converters added
    assert [type(network.get_layer(i)).__name__ for i in range(network.num_layers)] == ["IActivationLayer", "IElementWiseLayer"]
    assert model_trt.engine_layers()


def test_legacy_trt_tensors_api_and_sync(isolated_converters):
    # Seed 004: converters read and write ctx.trt_tensors keyed by tensor.__hash__().
    @tensorrt_converter("torch.nn.ReLU.forward")
    def convert_ReLU(ctx):
        input_tensor = ctx.method_args[1]
        output_tensor = ctx.method_return
        trt_input = ctx.trt_tensors[input_tensor.__hash__()]
        layer = ctx.network.add_activation(input=trt_input, type=trt.ActivationType.RELU)
        ctx.trt_tensors[output_tensor.__hash__()] = layer.get_output(0)

    seen = {}

    # A seed-000 converter after it reads `_trt` of what the legacy one stored.
    @tensorrt_converter("torch.Tensor.__add__")
    def convert_add(ctx):
        a, b = ctx.method_args
        seen["a_in_dict"] = a.__hash__() in ctx.trt_tensors
        seen["same"] = ctx.trt_tensors[a.__hash__()] is a._trt
        out = ctx.method_return
        out._trt = ctx.network.add_elementwise(a._trt, b._trt, trt.ElementWiseOperation.SUM).get_output(0)

    # And a legacy converter reads `_trt` that a seed-000 converter set.
    @tensorrt_converter("torch.Tensor.__mul__")
    def convert_mul(ctx):
        a, b = ctx.method_args
        out = ctx.method_return
        layer = ctx.network.add_elementwise(ctx.trt_tensors[a.__hash__()], ctx.trt_tensors[b.__hash__()], trt.ElementWiseOperation.PROD)
        ctx.trt_tensors[out.__hash__()] = layer.get_output(0)

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = torch.nn.ReLU()

        def forward(self, x, y):
            return (self.relu(x) + y) * x

    x, y = torch.randn(3, 5), torch.randn(3, 5)
    model_trt = convert(M(), [x, y])
    assert seen == {"a_in_dict": True, "same": True}
    torch.testing.assert_close(model_trt(x, y), M()(x, y))


def test_nested_calls_convert_once(isolated_converters):
    calls = []
    register_relu(calls)
    model = torch.nn.Sequential(torch.nn.ReLU())
    x = torch.randn(4, 4)
    convert(model, [x])
    # nn.ReLU.forward calls F.relu inside: only the outer converter runs.
    assert calls == ["torch.nn.ReLU.forward"]


def test_unhooked_function_converts_through_hooked_inner_calls(isolated_converters):
    # F.softsign has no converter here; it computes input / (input.abs() + 1) with calls that do.
    @tensorrt_converter("torch.Tensor.abs")
    def convert_abs(ctx):
        ctx.method_return._trt = ctx.network.add_unary(ctx.method_args[0]._trt, trt.UnaryOperation.ABS).get_output(0)

    register_binary("torch.Tensor.__add__", trt.ElementWiseOperation.SUM)
    register_binary("torch.Tensor.__truediv__", trt.ElementWiseOperation.DIV)
    register_binary("torch.Tensor.__rtruediv__", trt.ElementWiseOperation.DIV)

    class M(torch.nn.Module):
        def forward(self, x):
            return F.softsign(x)

    x = torch.randn(2, 8)
    model_trt = convert(M(), [x])
    torch.testing.assert_close(model_trt(x), F.softsign(x))


def test_outputs_nesting_and_names(isolated_converters):
    register_basic()
    Pair = collections.namedtuple("Pair", "first second")

    class M(torch.nn.Module):
        def forward(self, x, y):
            a = F.relu(x)
            b = a + y
            return {"a": a, "rest": [Pair(b, a * y), (b - x,)], "n": None, "k": 3}

    x, y = torch.randn(2, 3), torch.randn(2, 3)
    model_trt = convert(M(), [x, y], input_names=["x", "y"], output_names=["a", "b", "c", "d"])
    out, ref = model_trt(x, y), M()(x, y)
    assert model_trt.input_names == ["x", "y"] and model_trt.output_names == ["a", "b", "c", "d"]
    assert out.keys() == ref.keys() and out["n"] is None and out["k"] == 3
    assert isinstance(out["rest"], list) and isinstance(out["rest"][0], Pair) and isinstance(out["rest"][1], tuple)
    torch.testing.assert_close(out, ref)


def test_ordered_dict_output(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            return collections.OrderedDict(out=F.relu(x), aux=x * x)

    x = torch.randn(1, 4)
    out = convert(M(), [x])(x)
    assert type(out) is collections.OrderedDict and list(out) == ["out", "aux"]
    torch.testing.assert_close(out["aux"], x * x)


def test_input_and_repeated_outputs_get_their_own_copies(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            return x, y, y

    x = torch.randn(3, 3)
    model_trt = convert(M(), [x])
    a, b, c = model_trt(x)
    torch.testing.assert_close(a, x)
    torch.testing.assert_close(b, x.relu())
    torch.testing.assert_close(c, x.relu())
    assert len(set(model_trt.output_names)) == 3


def test_constants_from_parameters_and_forward(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.randn(4))
            self.register_buffer("shift", torch.randn(4))

        def forward(self, x):
            ones = torch.ones_like(x)  # no converter: shape only, so a constant
            return (x * self.scale + self.shift) * ones

    model = M().eval()
    x = torch.randn(2, 4)
    model_trt = convert(model, [x])
    torch.testing.assert_close(model_trt(x), model(x))
    # The model's tensors carry no _trt afterwards.
    assert not any("_trt" in t.__dict__ for t in list(model.parameters()) + list(model.buffers()))


def test_user_tensors_and_model_left_as_they_were(isolated_converters):
    register_basic()
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU())
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 3)
    snap = snapshot_torch()
    with pytest.raises(ConversionError):
        convert(model, [x])  # F.linear has no converter in this registry
    assert_unchanged(snap)
    assert model.training and all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert "_trt" not in x.__dict__
    assert not any("_trt" in p.__dict__ for p in model.parameters())
    assert torch.is_grad_enabled()


def test_hooks_removed_after_success_and_failure():
    snap = snapshot_torch()
    x = torch.randn(1, 3)
    convert(torch.nn.ReLU(), [x])
    assert_unchanged(snap)

    class Bad(torch.nn.Module):
        def forward(self, x):
            return torch.special.erfcx(x).relu()

    with pytest.raises(ConversionError):
        convert(Bad(), [x])
    assert_unchanged(snap)

    class Raises(torch.nn.Module):
        def forward(self, x):
            raise KeyError("model bug")

    with pytest.raises(KeyError):
        convert(Raises(), [x])
    assert_unchanged(snap)
    # torch.overrides caches torch's callables; it must not have cached a hook.
    names = torch.overrides._get_overridable_functions()[1]
    assert not any(hasattr(f, "__torch2trt_hook__") for f in names)


def c_slots(cls):
    """The C slot functions of a heap type (CPython 3.8+ layout of PyTypeObject/PyHeapTypeObject):
    tp_* function pointers and the number/mapping/sequence/async/buffer tables."""
    if sys.implementation.name != "cpython" or type.__dictoffset__ != 33 * 8:
        pytest.skip("C slots are read for CPython's PyTypeObject layout only")
    words = (ctypes.c_size_t * 42).from_address(id(cls))
    # tp_dealloc, tp_getattr, tp_setattr, tp_repr, tp_hash, tp_call, tp_str, tp_getattro, tp_setattro,
    # tp_traverse, tp_clear, tp_richcompare, tp_iter, tp_iternext, tp_descr_get, tp_descr_set,
    # tp_init, tp_alloc, tp_new, tp_free, tp_is_gc
    functions = [words[i] for i in (6, 8, 9, 11, 15, 16, 17, 18, 19, 23, 24, 25, 27, 28, 34, 35, 37, 38, 39, 40, 41)]
    tables = [words[i] for i in (10, 12, 13, 14, 20)]  # tp_as_async ... tp_as_buffer, inside the heap type
    start, end = min(tables), max(tables) + 2 * ctypes.sizeof(ctypes.c_size_t)
    assert id(cls) < start and end <= id(cls) + type.__basicsize__
    return functions + list((ctypes.c_size_t * ((end - start) // ctypes.sizeof(ctypes.c_size_t))).from_address(start))


def test_tensor_c_slots_left_exactly_as_they_were():
    # Assigning Tensor.__getitem__ (even once, and deleting it again) gives torch.Tensor a sequence
    # slot for good: 0-d tensors then count as sequences and torch.tensor([t0, t1]) fails.
    is_sequence = ctypes.pythonapi.PySequence_Check
    is_sequence.argtypes = [ctypes.py_object]
    assert is_sequence(torch.zeros(())) == 0
    before = c_slots(torch.Tensor)

    class M(torch.nn.Module):
        def forward(self, x):
            y = x[1:] * 2.0
            y[0] = 1.0
            return y[[0, 2]]

    x = torch.randn(4)
    torch.testing.assert_close(convert(M(), [x])(x), M()(x))

    class Fails(torch.nn.Module):
        def forward(self, x):
            return torch.special.erfcx(x[1:]).relu()

    with pytest.raises(ConversionError):
        convert(Fails(), [x])
    assert c_slots(torch.Tensor) == before
    assert is_sequence(torch.zeros(())) == 0
    assert torch.equal(torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]), torch.tensor([1.0, 2.0]))


class SlotInt(int):
    """A class with an inherited C slot (int.__add__) that torch does not dispatch."""


def test_slots_torch_does_not_dispatch_are_refused(saved_converters):
    with pytest.raises(ValueError, match="C slot of SlotInt"):
        tensorrt_converter(f"{__name__}.SlotInt.__add__")(lambda ctx: None)
    with pytest.raises(ValueError, match="C slot of Tensor"):
        tensorrt_converter("torch.Tensor.__str__")(lambda ctx: None)


def test_model_sample_inputs_not_modified(isolated_converters):
    register_basic()

    class InPlace(torch.nn.Module):
        def forward(self, x):
            x += 1  # no converter for __iadd__ here: the mutation makes x unconvertible
            return x

    x = torch.randn(2, 2)
    x0 = x.clone()
    with pytest.raises(ConversionError, match=r"torch.Tensor.add_ \(\S*test_conversion.py:\d+\) has no converter"):
        convert(InPlace(), [x])
    assert torch.equal(x, x0)


# ---------------------------------------------------------------------------------------------
# Registry


def test_register_by_callable_and_names(saved_converters):
    def c(ctx):
        pass

    for fn, name in [
        (torch.nn.functional.relu, "torch.nn.functional.relu"),
        (torch.Tensor.__add__, "torch.Tensor.__add__"),
        (torch.cat, "torch.cat"),
        (torch.Tensor.view, "torch.Tensor.view"),
    ]:
        tensorrt_converter(fn)(c)
        assert saved_converters[name]["converter"] is c
        owner, attr = _lookup(name)
        assert saved_converters[name]["owner"] is owner and saved_converters[name]["attr"] == attr
    tensorrt_converter(torch.nn.ReLU.forward)(c)
    assert any(e["owner"] is torch.nn.ReLU and e["attr"] == "forward" and e["converter"] is c for e in saved_converters.values())


def test_user_converter_replaces_builtin(saved_converters):
    x = torch.randn(2, 3)
    calls = []

    def mine(ctx):
        calls.append(ctx.method_name)
        x, out = ctx.method_args[1], ctx.method_return
        out._trt = ctx.network.add_activation(input=x._trt, type=trt.ActivationType.RELU).get_output(0)

    # Registered under another spelling of the same callable: it still replaces the built-in one.
    tensorrt_converter("torch.nn.modules.activation.ReLU.forward")(mine)
    same = [n for n, e in saved_converters.items() if e["owner"] is torch.nn.ReLU and e["attr"] == "forward"]
    assert same == ["torch.nn.modules.activation.ReLU.forward"]
    model_trt = convert(torch.nn.ReLU(), [x])
    assert calls == ["torch.nn.modules.activation.ReLU.forward"]
    torch.testing.assert_close(model_trt(x), x.relu())


def test_disabled_converter_not_registered(saved_converters):
    before = dict(saved_converters)

    @tensorrt_converter("torch.special.erfcx", enabled=False)
    def c(ctx):
        pass

    assert saved_converters == before and callable(c)


def test_is_real_recorded(saved_converters):
    @tensorrt_converter("torch.special.erfcx", is_real=False)
    def c(ctx):
        pass

    assert saved_converters["torch.special.erfcx"]["is_real"] is False


def test_unknown_names_rejected():
    with pytest.raises(ValueError, match="torch.nn.functional.not_a_function does not exist"):
        tensorrt_converter("torch.nn.functional.not_a_function")(lambda ctx: None)
    with pytest.raises(ValueError, match="dotted name"):
        tensorrt_converter("relu")(lambda ctx: None)


# ---------------------------------------------------------------------------------------------
# Errors


def test_unsupported_call_named_with_source_line(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            y = torch.special.erfcx(x)
            z = F.relu(y)
            return z + x

    with pytest.raises(ConversionError) as info:
        convert(M(), [torch.randn(2, 2)])
    msg = str(info.value)
    assert msg.startswith(f"torch.special.erfcx ({line_of(M.forward, 'erfcx')}) has no converter")
    assert "@tensorrt_converter('torch.special.erfcx')" in msg
    assert "_trt" not in msg


def test_unsupported_call_reaching_the_output(isolated_converters):
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.special.erfcx(x)

    with pytest.raises(ConversionError, match=r"torch.special.erfcx \(\S*test_conversion.py:\d+\) has no converter"):
        convert(M(), [torch.randn(2, 2)])


def test_unsupported_result_not_used_is_fine(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            torch.special.erfcx(x)  # unused: no error
            return F.relu(x)

    x = torch.randn(2, 2)
    torch.testing.assert_close(convert(M(), [x])(x), x.relu())


def test_converter_error_gets_name_and_line_and_keeps_type(isolated_converters):
    @tensorrt_converter("torch.nn.functional.relu")
    def convert_relu(ctx):
        if ctx.method_kwargs.get("inplace"):
            raise NotImplementedError("inplace=True is not supported")

    class M(torch.nn.Module):
        def forward(self, x):
            return F.relu(x, inplace=True)

    with pytest.raises(NotImplementedError) as info:
        convert(M(), [torch.randn(2)])
    assert isinstance(info.value, ConversionError)
    assert str(info.value) == f"torch.nn.functional.relu ({line_of(M.forward, 'inplace=True')}): inplace=True is not supported"


def test_converter_reading_trt_of_unsupported_result(isolated_converters):
    register_relu()

    class M(torch.nn.Module):
        def forward(self, x):
            return F.relu(torch.special.erfcx(x))

    with pytest.raises(ConversionError, match=r"^torch.special.erfcx \(\S*test_conversion.py:\d+\) has no converter"):
        convert(M(), [torch.randn(2)])


def test_converter_that_sets_no_output(isolated_converters):
    @tensorrt_converter("torch.nn.functional.relu")
    def lazy(ctx):
        pass

    class M(torch.nn.Module):
        def forward(self, x):
            return F.relu(x)

    with pytest.raises(ConversionError, match=r"lazy for torch.nn.functional.relu \(\S*test_conversion.py:\d+\) did not set _trt"):
        convert(M(), [torch.randn(2)])


def test_value_read_into_python_is_an_error(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            if y.sum() > 0:  # no converter for sum here either; the check comes first
                return y
            return x

    with pytest.raises(ConversionError, match="reads the values of a tensor"):
        convert(M(), [torch.ones(2)])

    class Item(torch.nn.Module):
        def forward(self, x):
            return x * F.relu(x)[0].item()

    with pytest.raises(ConversionError, match=r"torch.Tensor.item \(\S*test_conversion.py:\d+\) reads the values"):
        convert(Item(), [torch.ones(2)])


def test_tensor_new_is_a_constant_only_when_its_data_is(isolated_converters):
    register_basic()

    class ConstantData(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            return y.new([1.0, 2.0, 3.0]) + y  # y gives only the dtype

    x = torch.randn(3)
    torch.testing.assert_close(convert(ConstantData(), [x])(x), x.relu() + torch.tensor([1.0, 2.0, 3.0]))

    class NetworkData(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            return x.new(y) + x  # copies y's values: never a constant

    with pytest.raises(ConversionError, match=r"^torch.Tensor.new \(\S*test_conversion.py:\d+\) has no converter"):
        convert(NetworkData(), [x])


def test_unhooked_inplace_on_network_tensor(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            y.clamp_(max=0.5)  # no converter: y's engine tensor would be stale
            return y + x

    with pytest.raises(ConversionError, match=r"torch.Tensor.clamp_ \(\S*test_conversion.py:\d+\) has no converter"):
        convert(M(), [torch.randn(4)])


def test_inplace_kwarg_function_without_converter(isolated_converters):
    register_binary("torch.Tensor.__add__", trt.ElementWiseOperation.SUM)

    class M(torch.nn.Module):
        def forward(self, x):
            y = x + x
            F.relu(y, inplace=True)
            return y

    with pytest.raises(ConversionError, match=r"torch.nn.functional.relu \(\S*test_conversion.py:\d+\) has no converter"):
        convert(M(), [torch.randn(4)])


def test_returned_argument_keeps_its_engine_tensor(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            return F.dropout(y, training=False).contiguous() + x  # both return y itself

    x = torch.randn(5)
    torch.testing.assert_close(convert(M(), [x])(x), x.relu() + x)


# ---------------------------------------------------------------------------------------------
# Options


def test_option_errors():
    m, x = torch.nn.ReLU(), torch.randn(2, 3)
    with pytest.raises(NotImplementedError, match="int8_mode=True is not implemented yet"):
        convert(m, [x], int8_mode=True)
    with pytest.raises(NotImplementedError, match="int8 calibration"):
        convert(m, [x], int8_calib_dataset=[x])
    for key in ("min_shapes", "opt_shapes", "max_shapes"):
        with pytest.raises(NotImplementedError, match=f"dynamic shapes \\({key}\\) are not implemented yet"):
            convert(m, [x], **{key: [(1, 3)]})
    with pytest.raises(NotImplementedError, match="max_batch_size=8 differs from the sample batch 2"):
        convert(m, [x], max_batch_size=8)
    with pytest.raises(TypeError, match="unexpected keyword arguments: bogus, fp32_mode"):
        convert(m, [x], bogus=1, fp32_mode=True)
    with pytest.raises(NotImplementedError, match="use_onnx=True is not supported"):
        convert(m, [x], use_onnx=True)
    with pytest.raises(ValueError, match="default_device_type"):
        convert(m, [x], default_device_type=trt.DeviceType.GPU)
    with pytest.raises(TypeError, match="inputs\\[1\\] is a int"):
        convert(m, [x, 3])
    with pytest.raises(TypeError, match="float64"):
        convert(m, [x.double()])
    with pytest.raises(ValueError, match="input_names has 2 names for 1 inputs"):
        convert(m, [x], input_names=["a", "b"])
    with pytest.raises(ValueError, match="output_names has 2 names but the model returns 1 tensors"):
        convert(m, [x], output_names=["a", "b"])


def test_options_honoured():
    m, x = torch.nn.ReLU(), torch.randn(2, 3)
    # Upstream arguments at their defaults, the sample batch, and a bare tensor are accepted.
    model_trt = convert(m, x, max_batch_size=2, use_onnx=False, dla_core=0, gpu_fallback=True,
                        default_device_type=trt.DeviceType.CPU, keep_network=False)
    assert not hasattr(model_trt, "network")
    assert model_trt.engine.device_type == trt.DeviceType.CPU
    model_trt = convert(m, [x], strict_type_constraints=True, max_workspace_size=1 << 20)
    assert model_trt.engine.flags & (1 << int(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS.value))
    assert isinstance(model_trt.network, trt.INetworkDefinition)


@pytest.mark.parametrize("mode,flag,precision", [("fp16_mode", "FP16", "HALF"), ("bf16_mode", "BF16", "BF16")])
def test_reduced_precision_modes(mode, flag, precision):
    m = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 4)).eval()
    x = torch.randn(3, 8)
    model_trt = convert(m, [x], **{mode: True})
    assert model_trt.engine.flags & (1 << int(getattr(trt.BuilderFlag, flag).value))
    # Inside, the layers run reduced; the engine's inputs and outputs stay float32 as the model's are.
    assert precision in {layer.precision for layer in model_trt.engine_layers()}
    y = model_trt(x)
    assert y.dtype == torch.float32
    err = float((y - m(x)).norm() / m(x).norm())
    assert 0 < err < 2e-2  # reduced precision was really used, and is close


def test_fp16_and_bf16_modes_are_exclusive():
    with pytest.raises(ValueError, match="exclusive"):
        convert(torch.nn.ReLU(), [torch.randn(2)], fp16_mode=True, bf16_mode=True)


def test_log_level_info_prints(capsys):
    convert(torch.nn.ReLU(), [torch.randn(2)], log_level=trt.Logger.INFO)
    err = capsys.readouterr().err
    assert "[torch2trt] built the engine" in err and "layers by" not in err
    convert(torch.nn.ReLU(), [torch.randn(2)], log_level=trt.Logger.VERBOSE)
    err = capsys.readouterr().err
    assert re.search(r"\[torch2trt\] torch\.\S+ \(\S*test_conversion.py:\d+\): 1 layers by ", err), err
    convert(torch.nn.ReLU(), [torch.randn(2)])
    assert capsys.readouterr().err == ""


def test_integer_and_bool_inputs(isolated_converters):
    register_binary("torch.Tensor.__add__", trt.ElementWiseOperation.SUM)

    class M(torch.nn.Module):
        def forward(self, a, b):
            return a + b

    a = torch.randint(-5, 5, (3, 4), dtype=torch.int32)
    model_trt = convert(M(), [a, a])
    assert model_trt(a, a).dtype == torch.int32
    assert torch.equal(model_trt(a, a), a + a)


def test_other_threads_are_not_traced(isolated_converters):
    calls = []
    register_relu(calls)
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def other():
        started.set()
        release.wait(5)
        for _ in range(100):
            F.relu(torch.randn(3))
        done.set()

    class M(torch.nn.Module):
        def forward(self, x):
            release.set()
            assert done.wait(5)  # the other thread calls F.relu while the hooks are installed
            return F.relu(x)

    t = threading.Thread(target=other)
    t.start()
    started.wait(5)
    convert(M(), [torch.randn(3)])
    t.join()
    assert calls == ["torch.nn.functional.relu"]


# ---------------------------------------------------------------------------------------------
# report()


def test_report_lists_calls(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            z = torch.special.erfcx(y)
            return z + y

    out = io.StringIO()
    r = torch2trt.report(M(), [torch.randn(2, 3)], file=out)
    rows = [(row["function"], row["status"]) for row in r.rows]
    assert rows == [
        ("torch.nn.functional.relu", "converted"),
        ("torch.special.erfcx", "unsupported"),
        ("torch.Tensor.__add__", "skipped: an input could not be converted"),
    ]
    assert r.rows[1]["location"].endswith(line_of(M.forward, "erfcx"))
    assert r.rows[0]["converter"].endswith("register_relu.convert_relu")
    assert not r.ok
    text = out.getvalue()
    assert "torch.special.erfcx" in text and "unsupported" in text and "1 unsupported" in text
    assert str(r) == text.rstrip("\n")


def test_report_records_converter_errors_and_goes_on(isolated_converters):
    @tensorrt_converter("torch.nn.functional.relu")
    def broken(ctx):
        raise ValueError("no good")

    register_binary("torch.Tensor.__mul__", trt.ElementWiseOperation.PROD)

    class M(torch.nn.Module):
        def forward(self, x):
            return F.relu(x) * x, torch.special.erfcx(x)

    r = torch2trt.report(M(), [torch.randn(2)], file=None)
    assert [row["status"].split(":")[0] for row in r.rows] == ["error", "skipped", "unsupported"]
    assert "no good" in r.rows[0]["status"]
    assert r.errors == [r.rows[0]] and r.unsupported == [r.rows[2]]


def test_report_ok_model(isolated_converters):
    register_basic()
    r = torch2trt.report(AddRelu(), [torch.randn(2), torch.randn(2)], file=None)
    assert r.ok and [row["function"] for row in r.rows] == ["torch.nn.ReLU.forward", "torch.Tensor.__add__"]


def test_inplace_through_a_view_invalidates_the_base(isolated_converters):
    register_basic()

    @tensorrt_converter("torch.Tensor.__iadd__")
    def convert_iadd(ctx):
        a, b = ctx.method_args
        ctx.method_return._trt = ctx.network.add_elementwise(
            ctx.get_trt_tensor(a), ctx.get_trt_tensor(b), trt.ElementWiseOperation.SUM).get_output(0)

    @tensorrt_converter("torch.Tensor.__getitem__")
    def convert_getitem(ctx):
        x, index = ctx.method_args
        assert index == slice(None)
        ctx.method_return._trt = x._trt

    class Fine(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            y += x  # y has no views: its engine tensor is re-bound
            return y

    x = torch.randn(6)
    torch.testing.assert_close(convert(Fine(), [x])(x), x.relu() + x)

    class ThroughView(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            v = y[:]
            v += x  # changes y too
            return y * x

    with pytest.raises(ConversionError, match=r"torch.Tensor.__iadd__ \(\S*test_conversion.py:\d+\) modified in place a tensor that shares memory"):
        convert(ThroughView(), [x])


def test_inplace_converter_that_rebinds_the_base_keeps_it(isolated_converters):
    register_basic()

    @tensorrt_converter("torch.Tensor.__getitem__")
    def convert_getitem(ctx):
        x, index = ctx.method_args
        assert index == slice(None)
        ctx.method_return._trt = x._trt

    @tensorrt_converter("torch.Tensor.__iadd__")
    def convert_iadd(ctx):
        # Knows its first argument is a view of a whole tensor, so it brings the base up to date too.
        a, b = ctx.method_args
        out = ctx.network.add_elementwise(a._trt, ctx.get_trt_tensor(b), trt.ElementWiseOperation.SUM).get_output(0)
        ctx.method_return._trt = out
        a._base._trt = out

    class Rebound(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            v = y[:]
            v += x
            return y * x

    x = torch.randn(6)
    torch.testing.assert_close(convert(Rebound(), [x])(x), (x.relu() + x) * x)

    class OtherAliasIsStale(torch.nn.Module):
        def forward(self, x):
            y = F.relu(x)
            other = y[:]  # not re-bound by the converter: it still holds relu(x)
            v = y[:]
            v += x
            return other * x

    with pytest.raises(ConversionError, match=r"torch.Tensor.__iadd__ \(\S*test_conversion.py:\d+\) modified in place"):
        convert(OtherAliasIsStale(), [x])


def test_inplace_converter_makes_a_constant_part_of_the_network(isolated_converters):
    register_basic()

    @tensorrt_converter("torch.Tensor.__iadd__")
    def convert_iadd(ctx):
        a, b = ctx.method_args
        ctx.method_return._trt = ctx.network.add_elementwise(
            ctx.get_trt_tensor(a), ctx.get_trt_tensor(b), trt.ElementWiseOperation.SUM).get_output(0)

    class M(torch.nn.Module):
        def forward(self, x):
            acc = torch.full((4,), 2.0)
            y = x * acc  # a constant 2
            acc += x  # acc now depends on the input; its converter needs the value before the call
            return acc * acc + y  # so acc must be converted, not taken as a constant

    x = torch.randn(4)
    model_trt = convert(M(), [x])
    x2 = torch.randn(4)
    torch.testing.assert_close(model_trt(x2), M()(x2))


def test_conversions_from_two_threads_wait_for_each_other():
    x = torch.randn(2, 3)
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append(torch.equal(convert(torch.nn.ReLU(), [x])(x), x.relu()))
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [True] * 6


def test_converting_inside_a_model_is_an_error():
    class M(torch.nn.Module):
        def forward(self, x):
            convert(torch.nn.ReLU(), [x])
            return x.relu()

    with pytest.raises(RuntimeError, match="cannot be called while it is converting"):
        convert(M(), [torch.randn(2)])


def test_converters_md_lists_the_registry(saved_converters, tmp_path):
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = tmp_path / "converters.md"
    subprocess.run([sys.executable, os.path.join(root, "tools", "gen_converters_md.py"), str(out)], check=True,
                   capture_output=True)
    text = out.read_text()
    for name in torch2trt.CONVERTERS:
        assert f"| `{name}` |" in text
    assert f"{len(torch2trt.CONVERTERS)} torch names have a converter" in text
    check = subprocess.run([sys.executable, os.path.join(root, "tools", "gen_converters_md.py"), "--check", str(out)], check=False)
    assert check.returncode == 0
    out.write_text(text + "edited by hand\n")
    check = subprocess.run([sys.executable, os.path.join(root, "tools", "gen_converters_md.py"), "--check", str(out)],
                           capture_output=True, check=False)
    assert check.returncode == 1


def test_references_taken_before_conversion_still_convert(isolated_converters):
    register_basic()
    calls = []

    @tensorrt_converter("torch.nn.functional.gelu")
    def convert_gelu(ctx):
        calls.append(ctx.method_name)
        x = ctx.method_args[0]
        ctx.method_return._trt = ctx.network.add_activation(input=x._trt, type=trt.ActivationType.GELU_ERF).get_output(0)

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.act = F.gelu  # bound before the hooks exist, as transformers' GELUActivation does

        def forward(self, x):
            return self.act(x) + x

    x = torch.randn(3, 4)
    model_trt = convert(M(), [x])
    assert calls == ["torch.nn.functional.gelu"]
    torch.testing.assert_close(model_trt(x), F.gelu(x) + x)


def test_property_converter(isolated_converters):
    register_basic()

    class M(torch.nn.Module):
        def forward(self, x):
            return F.relu(x).T * 2.0

    x = torch.randn(3, 5)
    with pytest.raises(ConversionError, match=r"^torch.Tensor.T \(\S*test_conversion.py:\d+\) has no converter"):
        convert(M(), [x])

    @tensorrt_converter("torch.Tensor.T")
    def convert_T(ctx):
        (t,) = ctx.method_args
        layer = ctx.network.add_shuffle(t._trt)
        layer.first_transpose = tuple(reversed(range(t.dim())))
        ctx.method_return._trt = layer.get_output(0)

    snap = snapshot_torch()
    model_trt = convert(M(), [x])
    assert_unchanged(snap)
    torch.testing.assert_close(model_trt(x), M()(x))
    assert x.T.shape == (5, 3)  # the property works again after conversion


def test_get_trt_tensor_and_add_constant(isolated_converters):
    seen = {}

    @tensorrt_converter("torch.nn.functional.relu")
    def convert_relu(ctx):
        x = ctx.method_args[0]
        w = torch.arange(4.0)
        seen["net"] = ctx.get_trt_tensor(x)
        seen["net_int"] = ctx.get_trt_tensor(x, dtype=torch.int32)
        seen["const"] = ctx.get_trt_tensor(w)
        seen["const_again"] = ctx.get_trt_tensor(w)
        seen["const_half"] = ctx.get_trt_tensor(w, dtype=torch.float16)
        seen["number"] = ctx.get_trt_tensor(2)
        seen["number_float"] = ctx.get_trt_tensor(2, dtype=torch.float32)
        seen["is_net"] = (ctx.is_network_tensor(x), ctx.is_network_tensor(w))
        with pytest.raises(TypeError, match="expected a torch tensor or a Python number, got str"):
            ctx.get_trt_tensor("x")
        ctx.method_return._trt = ctx.network.add_activation(input=x._trt, type=trt.ActivationType.RELU).get_output(0)

    convert(torch.nn.Sequential(torch.nn.ReLU()), [torch.randn(2, 4)])
    assert seen["net"].is_network_input and seen["net"].dtype == trt.DataType.FLOAT
    assert seen["net_int"].dtype == trt.DataType.INT32 and seen["net_int"].shape == (2, 4)
    assert seen["const"].shape == (4,) and seen["const_again"].name == seen["const"].name  # made once
    assert seen["const_half"].dtype == trt.DataType.HALF
    assert seen["number"].dtype == trt.DataType.INT64 and seen["number"].shape == ()
    assert seen["number_float"].dtype == trt.DataType.FLOAT
    assert seen["is_net"] == (True, False)


def test_converter_reading_trt_of_a_constant_gets_a_hint(isolated_converters):
    @tensorrt_converter("torch.Tensor.__mul__")
    def convert_mul(ctx):
        a, b = ctx.method_args
        ctx.method_return._trt = ctx.network.add_elementwise(a._trt, b._trt, trt.ElementWiseOperation.PROD).get_output(0)

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(3))

        def forward(self, x):
            return x * self.w

    with pytest.raises(AttributeError, match=r"torch.Tensor.__mul__ \(\S*test_conversion.py:\d+\): .*has no attribute '_trt'.*ctx.get_trt_tensor"):
        convert(M(), [torch.randn(3)])
