"""Conversion by tracing: converter registry, hooks, ConversionContext and torch2trt().

The sample inputs run through the model while registered PyTorch callables are replaced (with
``setattr`` on their owners) by hooks. After a hooked call returns, its converter adds layers to
the network. A ``TorchFunctionMode`` watches every other torch call so that a call with no
converter whose result feeds the network is named, with the user's file:line, where it is used.
"""

import functools
import importlib
import inspect
import os
import sys
import threading
import time
import types

import torch
import torch.overrides
from torch.overrides import TorchFunctionMode, resolve_name

from torch2trt import _tracing_flags, trt
from torch2trt.module import TRTModule, flatten_outputs

__all__ = [
    "CONVERTERS",
    "ConversionContext",
    "ConversionError",
    "tensorrt_converter",
    "torch2trt",
    "torch_dtype_to_trt",
    "trt_dtype_to_torch",
]


# torch.overrides caches the callables it finds in torch's namespaces the first time it is asked;
# filled during tracing, that cache would keep our hooks (and the network) forever.
resolve_name(torch.add)
torch.overrides.get_ignored_functions()
torch.overrides.get_default_nowrap_functions()
torch.overrides._get_tensor_methods()


class ConversionError(RuntimeError):
    """A model could not be converted; the message names the torch call and the user's file:line."""


CONVERTERS = {}
"""The converter registry: dotted torch name -> {"converter", "is_real", "owner", "attr", "name"}."""

_TORCH_TO_TRT = {
    torch.float32: trt.DataType.FLOAT,
    torch.float16: trt.DataType.HALF,
    torch.bfloat16: trt.DataType.BF16,
    torch.int8: trt.DataType.INT8,
    torch.uint8: trt.DataType.UINT8,
    torch.int32: trt.DataType.INT32,
    torch.int64: trt.DataType.INT64,
    torch.bool: trt.DataType.BOOL,
}
_TRT_TO_TORCH = {v: k for k, v in _TORCH_TO_TRT.items()}


def torch_dtype_to_trt(dtype):
    """The engine DataType of a torch dtype (TypeError for dtypes the engine has not)."""
    try:
        return _TORCH_TO_TRT[dtype]
    except KeyError:
        raise TypeError(
            f"torch dtype {dtype} has no engine equivalent (supported: "
            f"{', '.join(str(d) for d in _TORCH_TO_TRT)})"
        ) from None


def trt_dtype_to_torch(dtype):
    """The torch dtype of an engine DataType."""
    try:
        return _TRT_TO_TORCH[dtype]
    except KeyError:
        raise TypeError(f"engine dtype {dtype} has no torch equivalent") from None


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


def _lookup(name):
    """(owner, attribute) of a dotted name such as 'torch.nn.ReLU.forward' or 'torch.Tensor.__add__'."""
    parts = name.split(".")
    if len(parts) < 2:
        raise ValueError(f"tensorrt_converter: {name!r} is not a dotted name like 'torch.nn.functional.relu'")
    for i in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for p in parts[i:-1]:
                owner = getattr(owner, p)
            getattr(owner, parts[-1])
        except AttributeError:
            raise ValueError(f"tensorrt_converter: {name} does not exist in torch {torch.__version__}") from None
        return owner, parts[-1]
    raise ValueError(f"tensorrt_converter: no module of {name!r} can be imported")


def _callable_name(fn):
    """A dotted name under which ``fn`` can be found and replaced."""
    candidates = []
    name = getattr(fn, "__name__", None)
    objclass = getattr(fn, "__objclass__", None)
    if objclass is not None and issubclass(torch.Tensor, objclass) and name:
        candidates.append(f"torch.Tensor.{name}")
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if module and qualname and "<locals>" not in qualname:
        candidates.append(f"{module}.{qualname}")
    if module and name:
        candidates.append(f"{module}.{name}")
    if name:
        candidates += [f"torch.{name}", f"torch.nn.functional.{name}", f"torch.Tensor.{name}"]
    for c in candidates:
        try:
            owner, attr = _lookup(c)
        except ValueError:
            continue
        if getattr(owner, attr) is fn or getattr(owner, attr) == fn:
            return c
    raise ValueError(f"tensorrt_converter: cannot find a dotted name for {fn!r}; pass the name as a string")


# Slots of torch.Tensor that torch hands to __torch_function__ (indexing).
_DISPATCHED_SLOTS = {"__getitem__", "__setitem__"}


def _is_slot_wrapper(owner, attr):
    """True for a method that a class inherits from a C type's slot (Tensor.__getitem__).

    Assigning such a name on a class makes CPython fill every C slot of that name (for
    __getitem__ also the sequence slot sq_item, which torch.Tensor does not have); deleting the
    assignment cannot empty them again, so torch would be changed for the rest of the process
    (0-d tensors in a list would then count as sequences). These methods are never assigned:
    torch's __torch_function__ dispatch hands them to the conversion's TorchFunctionMode.
    """
    return (
        isinstance(owner, type)
        and attr not in vars(owner)
        and isinstance(inspect.getattr_static(owner, attr, None), types.WrapperDescriptorType)
    )


def _check_replaceable(owner, attr, name):
    """Raises now, at registration, if the hook could not be installed later."""
    if _is_slot_wrapper(owner, attr):
        if not (issubclass(owner, torch.Tensor) and attr in _DISPATCHED_SLOTS):
            raise ValueError(
                f"tensorrt_converter: {name} is a C slot of {owner.__name__}; hooking it would change the class for "
                f"good, and torch does not dispatch it to a TorchFunctionMode (of torch.Tensor's slots, "
                f"{' and '.join(sorted(_DISPATCHED_SLOTS))} can have converters)"
            )
        return
    own = attr in vars(owner)
    raw = vars(owner)[attr] if own else None
    try:
        if own:
            setattr(owner, attr, raw)
        else:
            setattr(owner, attr, getattr(owner, attr))
            delattr(owner, attr)
    except (TypeError, AttributeError) as e:
        raise ValueError(f"tensorrt_converter: {name} cannot be replaced by a hook ({e})") from None


def tensorrt_converter(method, enabled=True, is_real=True):
    """Registers ``converter(ctx)`` to run after each call of ``method``.

    ``method`` is a dotted name ('torch.nn.functional.relu', 'torch.Tensor.__add__',
    'torch.nn.ReLU.forward') or the callable itself. A later registration for the same callable
    replaces the earlier one (a user's converter replaces the built-in one). ``enabled=False``
    leaves the registry untouched. ``is_real=False`` marks converters that add no layers (such as
    ``Tensor.size``), for coverage listings.
    """
    name = method if isinstance(method, str) else _callable_name(method)

    def register(converter):
        owner, attr = _lookup(name)
        _check_replaceable(owner, attr, name)
        for other, entry in list(CONVERTERS.items()):
            if entry["owner"] is owner and entry["attr"] == attr:
                del CONVERTERS[other]
        CONVERTERS[name] = {"converter": converter, "is_real": is_real, "owner": owner, "attr": attr, "name": name}
        return converter

    if not enabled:
        return lambda converter: converter
    return register


# ---------------------------------------------------------------------------------------------
# Helpers for tracing
# ---------------------------------------------------------------------------------------------

_SKIP_DIRS = (
    os.path.dirname(torch.__file__) + os.sep,
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
)


def _short_path(path):
    marker = os.sep + "site-packages" + os.sep
    if marker in path:
        return path.split(marker, 1)[1]
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def user_location(frame=None):
    """'file:line' of the innermost stack frame outside torch and torch2trt."""
    f = frame or sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not fn.startswith(_SKIP_DIRS) and not fn.startswith("<"):
            return f"{_short_path(fn)}:{f.f_lineno}"
        f = f.f_back
    return "<unknown location>"


def _tensors_in(value, out):
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tensors_in(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _tensors_in(v, out)
    return out


_INPLACE_DUNDERS = {
    "__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
    "__ipow__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__imatmul__", "__idiv__",
}
# In-place by name but changing no values.
_METADATA_INPLACE = {"requires_grad_", "retain_grad", "share_memory_", "pin_memory", "record_stream"}


def _is_inplace(name, kwargs):
    last = name.rsplit(".", 1)[-1]
    if last in _INPLACE_DUNDERS:
        return True
    if last in _METADATA_INPLACE:
        return False
    if last.endswith("_") and not last.startswith("__"):
        return True
    return kwargs.get("inplace") is True


# Results depend only on the shapes/dtypes of their tensor arguments: with static shapes they are
# constants even when the argument comes from the network.
_SHAPE_ONLY = {
    "torch.zeros_like", "torch.ones_like", "torch.full_like", "torch.empty_like", "torch.rand_like",
    "torch.randn_like", "torch.randint_like", "torch.Tensor.new_zeros", "torch.Tensor.new_ones",
    "torch.Tensor.new_full", "torch.Tensor.new_empty",
}
# Self gives only the dtype and device; the values come from the other arguments.
_SELF_GIVES_DTYPE = {"torch.Tensor.new_tensor", "torch.Tensor.new"}


def _value_inputs(name, args, kwargs):
    """The tensors among a call's arguments whose values can reach its result."""
    if name in _SELF_GIVES_DTYPE:
        return _tensors_in((args[1:], kwargs), [])
    return _tensors_in((args, kwargs), [])
# Turn a tensor's values into Python values: the engine would bake in what tracing saw.
_VALUE_READS = {
    "torch.Tensor.__bool__", "torch.Tensor.item", "torch.Tensor.tolist", "torch.Tensor.__int__",
    "torch.Tensor.__float__", "torch.Tensor.__index__", "torch.Tensor.__complex__", "torch.Tensor.numpy",
    "torch.Tensor.__array__", "torch.equal", "torch.allclose", "torch.is_nonzero",
}
# Operator spellings of methods the mode reports by their method name.
_OPERATOR_FORMS = {
    "add": "__add__/__radd__/__iadd__", "sub": "__sub__/__isub__", "mul": "__mul__/__rmul__/__imul__",
    "div": "__truediv__/__itruediv__", "matmul": "__matmul__", "neg": "__neg__", "abs": "__abs__",
    "eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__",
    "bitwise_and": "__and__", "bitwise_or": "__or__", "bitwise_xor": "__xor__", "bitwise_not": "__invert__",
    "remainder": "__mod__", "add_": "__iadd__", "sub_": "__isub__", "mul_": "__imul__", "div_": "__itruediv__",
}


class Unconverted:
    """Stands in for ``_trt`` on a tensor the network cannot compute.

    Any use (attribute access, passing it to a layer) leads to a ConversionError naming the torch
    call that produced it and its source line, instead of an AttributeError one converter later.
    """

    __slots__ = ("message",)

    def __init__(self, message):
        object.__setattr__(self, "message", message)

    def error(self):
        e = ConversionError(object.__getattribute__(self, "message"))
        e.located = True
        return e

    def __getattr__(self, name):
        raise self.error()

    def __repr__(self):
        return f"<Unconverted: {object.__getattribute__(self, 'message')}>"


def _unsupported_message(name, location):
    hint = ""
    name = name.removesuffix(".__get__")  # a property such as torch.Tensor.T
    method = name.rsplit(".", 1)[-1]
    if name.startswith("torch.Tensor.") and method in _OPERATOR_FORMS:
        hint = f" (as an operator: torch.Tensor.{_OPERATOR_FORMS[method].split('/')[0]})"
    return (
        f"{name} ({location}) has no converter; its result feeds the network. Register one with "
        f"@tensorrt_converter('{name}'){hint} (see docs/usage.md), or run torch2trt.report(model, inputs) "
        f"to list every unsupported call."
    )


_ERROR_CLASSES = {}


def _error_like(exc, message):
    """A ConversionError that is also an instance of exc's type (so `except ValueError` still works)."""
    cls = type(exc)
    if issubclass(cls, ConversionError):
        new = cls(message)
    else:
        sub = _ERROR_CLASSES.get(cls)
        if sub is None:
            try:
                sub = type("ConversionError", (ConversionError, cls), {"__module__": __name__})
                sub(message)
            except TypeError:
                sub = ConversionError
            _ERROR_CLASSES[cls] = sub
        try:
            new = sub(message)
        except TypeError:
            new = ConversionError(message)
    new.located = True
    return new


# ---------------------------------------------------------------------------------------------
# ConversionContext
# ---------------------------------------------------------------------------------------------


class _TrtTensorMap:
    """``ctx.trt_tensors`` of the older API: ``tensor.__hash__()`` -> ITensor, a view of ``tensor._trt``."""

    def __init__(self, ctx):
        self._ctx = ctx
        self._orphans = {}  # hashes of tensors the context never saw

    def __getitem__(self, key):
        t = self._ctx._tensors.get(key)
        if t is not None and "_trt" in t.__dict__:
            return t.__dict__["_trt"]
        if key in self._orphans:
            return self._orphans[key]
        raise KeyError(f"no ITensor for the tensor with hash {key}")

    def __setitem__(self, key, value):
        t = self._ctx._tensors.get(key)
        if t is not None:
            t._trt = value
        else:
            self._orphans[key] = value

    def __delitem__(self, key):
        t = self._ctx._tensors.get(key)
        if t is not None and "_trt" in t.__dict__:
            del t._trt
        else:
            del self._orphans[key]

    def __contains__(self, key):
        try:
            self[key]
        except KeyError:
            return False
        return True

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self):
        ks = [k for k, t in self._ctx._tensors.items() if "_trt" in t.__dict__]
        return ks + [k for k in self._orphans if k not in self._ctx._tensors]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())


class ConversionContext:
    """What a converter sees: ``network``, ``method_args``, ``method_kwargs``, ``method_return``.

    Also ``method_name`` (the dotted name being converted), ``trt_tensors`` (older API: a dict
    from ``tensor.__hash__()`` to ITensor, kept in sync with ``tensor._trt``), and helpers:
    ``get_trt_tensor(value)`` (the ITensor of a tensor, a constant for parameters, buffers,
    tensors made in forward and Python numbers), ``add_constant(value)`` and
    ``is_network_tensor(tensor)``.
    """

    def __init__(self, network, report=None, log_level=None):
        self.network = network
        self._verbose = log_level is not None and log_level.value >= trt.Logger.VERBOSE.value
        self.method_args = None
        self.method_kwargs = None
        self.method_return = None
        self.method_name = None
        self.trt_tensors = _TrtTensorMap(self)
        self._tensors = {}  # id -> tensor: every tensor met, kept alive so ids stay unique
        self._derived = set()  # ids of tensors computed from the network inputs
        self._constants = {}  # (id, version, dtype) -> ITensor of a constant made from a tensor
        self._depth = 0
        self._thread = threading.get_ident()
        self._report = report  # a list collecting rows in report mode (errors are recorded, not raised)
        self._hooks = []
        self._originals = {}  # id(original callable) -> (name, entry, original), for calls that bypass hooks
        self._saved_trt = []
        self._output_classes = {}

    # -- helpers for converters -------------------------------------------------------------

    def set_trt(self, tensor, trt_tensor):
        """Binds ``trt_tensor`` to the torch tensor (the same as ``tensor._trt = trt_tensor``)."""
        self._tensors[id(tensor)] = tensor
        tensor._trt = trt_tensor
        return trt_tensor

    def is_network_tensor(self, tensor):
        """True if ``tensor`` is computed from the network inputs (not a constant)."""
        return id(tensor) in self._derived

    def get_trt_tensor(self, value, dtype=None):
        """The ITensor of a torch tensor, or a constant for a tensor not computed from the inputs
        (parameter, buffer, tensor created in forward) or for a Python number; cast to the torch
        dtype ``dtype`` when given."""
        if isinstance(value, torch.Tensor):
            trt_t = value.__dict__.get("_trt")
            if trt_t is None:
                trt_t = self.trt_tensors._orphans.get(id(value))
            if isinstance(trt_t, Unconverted):
                raise trt_t.error()
            if trt_t is None:
                if id(value) in self._derived:
                    raise ConversionError(
                        f"a tensor computed from the network inputs has no ITensor (shape {list(value.shape)}, "
                        f"{value.dtype}); the converter that produced it did not set its _trt"
                    )
                return self.add_constant(value, dtype=dtype)
        elif isinstance(value, (bool, int, float)):
            return self.add_constant(value, dtype=dtype)
        elif isinstance(value, trt.ITensor):
            trt_t = value
        elif isinstance(value, Unconverted):
            raise value.error()
        else:
            raise TypeError(f"get_trt_tensor: expected a torch tensor or a Python number, got {type(value).__name__}")
        if dtype is not None and trt_t.dtype != torch_dtype_to_trt(dtype):
            trt_t = self.network.add_cast(trt_t, torch_dtype_to_trt(dtype)).get_output(0)
        return trt_t

    def add_constant(self, value, dtype=None):
        """A constant layer's output holding ``value`` (tensor, numpy array or Python number),
        converted to the torch dtype ``dtype`` when given."""
        if isinstance(value, torch.Tensor):
            # The version counter tells a tensor modified in place since its last constant.
            key = (id(value), value._version, dtype)
            cached = self._constants.get(key)
            if cached is not None:
                return cached
            t = value.detach()
            if dtype is not None:
                t = t.to(dtype)
            if t.dtype == torch.float64:
                t = t.float()
            torch_dtype_to_trt(t.dtype)
            out = self.network.add_constant(tuple(t.shape), t.cpu().contiguous()).get_output(0)
            self._tensors[id(value)] = value
            self._constants[key] = out
            return out
        if isinstance(value, (bool, int, float)):
            if dtype is None:
                t = torch.tensor(value)
                if t.dtype == torch.float64:
                    t = t.float()
            else:
                t = torch.tensor(value, dtype=dtype)
            return self.network.add_constant(tuple(t.shape), t).get_output(0)
        import numpy as np

        if isinstance(value, np.ndarray):
            return self.add_constant(torch.from_numpy(value), dtype)
        raise TypeError(f"add_constant: expected a tensor, numpy array or Python number, got {type(value).__name__}")

    # -- inputs and outputs ----------------------------------------------------------------

    def _register(self, tensors):
        for t in tensors:
            self._tensors[id(t)] = t

    def add_inputs(self, inputs, names):
        for t, name in zip(inputs, names):
            trt_t = self.network.add_input(name=name, dtype=torch_dtype_to_trt(t.dtype), shape=tuple(t.shape))
            self._tensors[id(t)] = t
            self._derived.add(id(t))
            t._trt = trt_t

    def mark_outputs(self, tensors, names):
        for t, name in zip(tensors, names):
            if isinstance(t.__dict__.get("_trt"), Unconverted):
                raise t.__dict__["_trt"].error()
            trt_t = self.get_trt_tensor(t)
            if trt_t.is_network_input or trt_t.is_network_output:
                # An engine tensor has one name and one role: a repeated output or an input returned
                # as an output gets its own copy.
                trt_t = self.network.add_identity(trt_t).get_output(0)
            trt_t.name = name
            self.network.mark_output(trt_t)

    # -- the hook and the watcher ----------------------------------------------------------

    def _active(self):
        return threading.get_ident() == self._thread

    def _first_unconverted(self, tensors):
        for t in tensors:
            v = t.__dict__.get("_trt")
            if isinstance(v, Unconverted):
                return v
        return None

    def _converted_call(self, name, entry, original, args, kwargs):
        """Runs a call that has a converter, then the converter; calls inside it are not converted."""
        self._depth += 1
        try:
            if _is_inplace(name, kwargs):
                self._before_inplace_call(args, kwargs)
            ret = original(*args, **kwargs)
            self._after_hooked_call(name, entry, args, kwargs, ret)
        finally:
            self._depth -= 1
        return ret

    def _before_inplace_call(self, args, kwargs):
        """A constant tensor about to be modified in place by a call involving network tensors:
        its converter runs after the call, so capture the value it had before now."""
        if not args or not isinstance(args[0], torch.Tensor):
            return
        target = args[0]
        if id(target) in self._derived or "_trt" in target.__dict__:
            return
        others = _tensors_in((args[1:], kwargs), [])
        if any(id(t) in self._derived for t in others):
            self.set_trt(target, self.add_constant(target))

    def _after_hooked_call(self, name, entry, args, kwargs, ret):
        ins = _tensors_in((args, kwargs), [])
        if not any(id(t) in self._derived for t in _value_inputs(name, args, kwargs)):
            return  # a computation on constants: PyTorch's result becomes a constant where used
        outs = _tensors_in(ret, [])
        self._register(ins)
        self._register(outs)
        inplace = _is_inplace(name, kwargs)
        mutated = args[0] if inplace and args and isinstance(args[0], torch.Tensor) else None
        before = mutated.__dict__.get("_trt") if mutated is not None else None
        aliases_before = {id(t): t.__dict__["_trt"] for t in self._aliases(mutated)} if mutated is not None else None
        row = None
        if self._report is not None:
            row = {"function": name, "converter": _converter_label(entry), "status": "converted", "location": user_location()}
            self._report.append(row)
        self.method_args, self.method_kwargs, self.method_return, self.method_name = args, kwargs, ret, name
        layers_before = self.network.num_layers
        try:
            entry["converter"](self)
        except Exception as e:  # noqa: BLE001 -- re-raised with the call's name and the user's line
            root = self._first_unconverted(ins)
            if root is not None:
                err = root.error()
            elif getattr(e, "located", False):
                err = e
            else:
                hint = ""
                if isinstance(e, AttributeError) and "'_trt'" in str(e):
                    hint = (
                        " (an argument that is not computed from the network inputs, such as a parameter, a buffer "
                        "or a tensor made in forward, has no _trt; the converter can use ctx.get_trt_tensor(tensor))"
                    )
                err = _error_like(e, f"{name} ({user_location()}): {e}{hint}")
            if self._report is None:
                try:
                    raise err from e
                finally:
                    err = None  # no cycle through this frame: the network is freed with the error
            if root is not None:
                row["status"] = "skipped: an input could not be converted"
            else:
                row["status"] = f"error: {err}"
            marker = root or Unconverted(f"{name} ({row['location']}) failed to convert: {e}")
            for t in outs + ([mutated] if mutated is not None else []):
                self._derived.add(id(t))
                t._trt = marker
            return
        finally:
            self.method_args = self.method_kwargs = self.method_return = self.method_name = None
        if self._verbose:
            added = self.network.num_layers - layers_before
            print(f"[torch2trt] {name} ({user_location()}): {added} layers by {_converter_label(entry)}", file=sys.stderr)
        if mutated is not None:
            if mutated.__dict__.get("_trt") is before:  # the converter did not re-bind it: stale
                mutated.__dict__.pop("_trt", None)
            if not any(t is mutated for t in outs):
                outs.append(mutated)
            self._invalidate_aliases(mutated, name, aliases_before)
        for t in outs:
            self._derived.add(id(t))
            if "_trt" not in t.__dict__:
                t._trt = self._first_unconverted(ins) or Unconverted(
                    f"the converter {_converter_label(entry)} for {name} ({user_location()}) did not set _trt "
                    f"on a tensor it returns or modifies"
                )

    def _after_unhooked_call(self, func, args, kwargs):
        """Runs a torch call that no hook caught (nested hooked calls inside it still convert)."""
        hooked = self._originals.get(id(func))
        if hooked is not None and hooked[2] is func:
            # A callable with a converter that the hooks do not see: a C slot of torch.Tensor
            # (x[i], x[i] = v), or a reference taken before the hooks were installed
            # (`self.act = F.gelu` in __init__, `from torch import cat`).
            return self._converted_call(hooked[0], hooked[1], func, args, kwargs)
        ins = _tensors_in((args, kwargs), [])
        derived = [t for t in ins if id(t) in self._derived]
        if not derived:
            return func(*args, **kwargs)
        name = resolve_name(func) or getattr(func, "__qualname__", repr(func))
        if name in _SHAPE_ONLY or not any(id(t) in self._derived for t in _value_inputs(name, args, kwargs)):
            return func(*args, **kwargs)
        location = user_location()
        if name in _VALUE_READS:
            err = ConversionError(
                f"{name} ({location}) reads the values of a tensor computed from the network inputs into "
                f"Python (data-dependent control flow or a Python number); an engine cannot do that and would "
                f"keep the value seen while tracing. Compute it with tensor operations instead."
                f"{_tracing_flags.value_read_hint(location)}"
            )
            err.located = True
            if self._report is None:
                try:
                    raise err
                finally:
                    err = None
            self._report.append({"function": name, "converter": "-", "status": f"error: {err}", "location": location})
            return func(*args, **kwargs)
        inplace = _is_inplace(name, kwargs)
        targets = []
        if inplace and args and isinstance(args[0], torch.Tensor):
            targets.append(args[0])
        if isinstance(kwargs.get("out"), torch.Tensor):
            targets.append(kwargs["out"])
            inplace = True
        before = [t.__dict__.get("_trt") for t in targets]
        ret = func(*args, **kwargs)
        outs = _tensors_in(ret, [])
        if not outs and not targets:
            return ret
        self._register(ins)
        self._register(outs)
        marker = self._first_unconverted(derived) or Unconverted(_unsupported_message(name, location))
        marked = False
        for t, b in zip(targets, before):
            if t.__dict__.get("_trt") is b:  # not re-bound by a converter nested in this call
                self._derived.add(id(t))
                t._trt = marker
                marked = True
            self._invalidate_aliases(t, name)
        for t in outs:
            if any(t is x for x in ins) and not inplace:
                continue  # returned an argument unchanged (contiguous, dropout in eval, ...)
            if id(t) in self._derived and not isinstance(t.__dict__.get("_trt"), Unconverted) and "_trt" in t.__dict__:
                continue  # computed by converters nested in this call
            self._derived.add(id(t))
            t._trt = marker
            marked = True
        if marked and self._report is not None:
            self._report.append({"function": name, "converter": "-", "status": "unsupported", "location": location})
        return ret

    def _aliases(self, mutated):
        """Tensors met so far that share memory with ``mutated`` and have an engine tensor."""
        if mutated.numel() == 0:
            return []
        ptr = mutated.untyped_storage().data_ptr()
        return [
            t
            for t in self._tensors.values()
            if t is not mutated
            and t.numel() != 0
            and "_trt" in t.__dict__
            and not isinstance(t.__dict__["_trt"], Unconverted)
            and t.untyped_storage().data_ptr() == ptr
        ]

    def _invalidate_aliases(self, mutated, name, rebound=None):
        """Tensors sharing memory with one modified in place changed too, which their engine
        tensors do not reflect: using them later raises. ``rebound`` maps id(alias) to the _trt it
        had before the converter ran; an alias the converter re-bound (the base of a view written
        through) is up to date and kept."""
        marker = None
        for t in self._aliases(mutated):
            if rebound is not None and id(t) in rebound and t.__dict__["_trt"] is not rebound[id(t)]:
                continue
            if marker is None:
                marker = Unconverted(
                    f"{name} ({user_location()}) modified in place a tensor that shares memory with another one "
                    f"(a view) used later; the engine cannot follow in-place changes through views. Use an "
                    f"out-of-place operation there (y = y + 1 instead of y += 1, F.relu(y) instead of F.relu_(y))"
                )
            self._derived.add(id(t))
            t._trt = marker

    # -- installing and removing --------------------------------------------------------------

    def _install_hooks(self):
        targets = {}
        for name, entry in CONVERTERS.items():
            targets[(id(entry["owner"]), entry["attr"])] = (name, entry)
        for name, entry in targets.values():
            owner, attr = entry["owner"], entry["attr"]
            own = attr in vars(owner)
            raw = vars(owner)[attr] if own else None
            static = inspect.getattr_static(owner, attr)
            if _is_slot_wrapper(owner, attr):
                # Never assigned (see _is_slot_wrapper): the watcher converts calls of the original.
                original = getattr(owner, attr)
                self._originals[id(original)] = (name, entry, original)
                continue
            if isinstance(owner, type) and _is_property(static):
                # Tensor.T, Tensor.mT, ...: the converter sees method_args == (tensor,).
                hook = property(_make_hook(self, name, entry, functools.partial(_get_property, static)))
            else:
                original = getattr(owner, attr)
                hook = _make_hook(self, name, entry, original)
                self._originals[id(original)] = (name, entry, original)
                if isinstance(static, (staticmethod, classmethod)):
                    hook = staticmethod(hook)
            setattr(owner, attr, hook)
            self._hooks.append((owner, attr, own, raw))
        for owner, attr, replacement, original in _tracing_flags.patches(self):
            setattr(owner, attr, replacement)
            self._hooks.append((owner, attr, True, original))

    def _remove_hooks(self):
        self._originals.clear()
        errors = []
        while self._hooks:
            owner, attr, own, raw = self._hooks.pop()
            try:
                if own:
                    setattr(owner, attr, raw)
                else:
                    delattr(owner, attr)
            except Exception as e:  # noqa: BLE001 -- keep restoring the others, then report
                errors.append(f"{owner!r}.{attr}: {e}")
        if errors:
            raise RuntimeError("torch2trt could not restore: " + "; ".join(errors))

    def _save_module_trt(self, module):
        # A model tensor may carry _trt from an earlier tool; put back exactly what was there.
        seen = set()
        for m in module.modules():
            for t in list(m._parameters.values()) + list(m._buffers.values()) + list(vars(m).values()):
                if isinstance(t, torch.Tensor) and id(t) not in seen:
                    seen.add(id(t))
                    self._saved_trt.append((t, t.__dict__.get("_trt", _MISSING)))

    def _cleanup(self):
        for t in self._tensors.values():
            t.__dict__.pop("_trt", None)
        for t, v in self._saved_trt:
            t.__dict__.pop("_trt", None)
            if v is not _MISSING:
                t._trt = v
        self._tensors.clear()
        self._constants.clear()
        self._derived.clear()
        self.trt_tensors._orphans.clear()


_MISSING = object()


def _converter_label(entry):
    c = entry["converter"]
    label = f"{getattr(c, '__module__', '?')}.{getattr(c, '__qualname__', repr(c))}"
    return label.replace(".<locals>.", ".")


def _is_property(attr):
    return isinstance(attr, property) or type(attr).__name__ in ("getset_descriptor", "member_descriptor")


def _get_property(descriptor, obj):
    return descriptor.__get__(obj, type(obj))


def _make_hook(ctx, name, entry, original):
    def hook(*args, **kwargs):
        if ctx._depth > 0 or not ctx._active():
            return original(*args, **kwargs)
        return ctx._converted_call(name, entry, original, args, kwargs)

    try:
        functools.update_wrapper(hook, original)
    except (AttributeError, TypeError):
        pass
    hook.__torch2trt_hook__ = name
    return hook


class _Watcher(TorchFunctionMode):
    """Sees every torch call that no hook handles."""

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        ctx = self.ctx
        if ctx._depth > 0 or not ctx._active():
            return func(*args, **kwargs)
        return ctx._after_unhooked_call(func, args, kwargs)


# Hooks are process-wide: conversions run one at a time (other threads wait; nesting is an error).
_CONVERTING = threading.Lock()
_converting_thread = None


class _Tracing:
    """Installs hooks and the watcher for one forward pass; always removes them."""

    def __init__(self, ctx, module):
        self.ctx = ctx
        self.module = module

    def __enter__(self):
        global _converting_thread
        if _converting_thread == threading.get_ident():
            raise RuntimeError("torch2trt cannot be called while it is converting (from a model or a converter)")
        _CONVERTING.acquire()
        _converting_thread = threading.get_ident()
        try:
            self.ctx._save_module_trt(self.module)
            self.no_grad = torch.no_grad()
            self.no_grad.__enter__()
            self.ctx._install_hooks()
            self.watcher = _Watcher(self.ctx)
            self.watcher.__enter__()
        except BaseException:
            self._exit()
            raise
        return self.ctx

    def _exit(self):
        global _converting_thread
        try:
            if hasattr(self, "watcher"):
                self.watcher.__exit__(None, None, None)
            try:
                self.ctx._remove_hooks()
            finally:
                if hasattr(self, "no_grad"):
                    self.no_grad.__exit__(None, None, None)
                self.ctx._cleanup()
        finally:
            _converting_thread = None
            _CONVERTING.release()

    def __exit__(self, *exc):
        self._exit()
        return False


def trace(ctx, module, inputs, input_names, output_names):
    """Runs ``module(*inputs)`` under hooks, adding the network's inputs and outputs; returns the
    output spec and the output names."""
    with _Tracing(ctx, module):
        ctx.add_inputs(inputs, input_names)
        outputs = module(*inputs)
        tensors, spec = flatten_outputs(outputs, classes=ctx._output_classes)
        if output_names is None:
            output_names = [f"output_{i}" for i in range(len(tensors))]
        elif len(output_names) != len(tensors):
            raise ValueError(f"output_names has {len(output_names)} names but the model returns {len(tensors)} tensors")
        if not tensors:
            raise ConversionError("the model returns no tensors")
        ctx.mark_outputs(tensors, output_names)
    return spec, list(output_names)


# ---------------------------------------------------------------------------------------------
# torch2trt()
# ---------------------------------------------------------------------------------------------

# Upstream torch2trt arguments this engine has no use for: accepted at their upstream default,
# refused otherwise (never silently ignored).
_UPSTREAM_DEFAULTS = {
    "use_onnx": False,
    "onnx_opset": None,
    "dla_core": 0,
    "gpu_fallback": True,
    "device_types": {},
    "avg_timing_iterations": None,
    "int8_calib_batch_size": 1,
}


def _input_list(inputs):
    if isinstance(inputs, torch.Tensor):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"torch2trt: inputs must be a list of tensors, got {type(inputs).__name__}")
    for i, x in enumerate(inputs):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"torch2trt: inputs[{i}] is a {type(x).__name__}; only tensors can be network inputs")
    if not inputs:
        raise ValueError("torch2trt: at least one sample input is needed")
    return list(inputs)


def _log(level, min_level, message):
    if level.value <= min_level.value:
        print(f"[torch2trt] {message}", file=sys.stderr)


def torch2trt(
    module,
    inputs,
    input_names=None,
    output_names=None,
    log_level=trt.Logger.ERROR,
    fp16_mode=False,
    int8_mode=False,
    int8_calib_dataset=None,
    int8_calib_algorithm=None,
    max_batch_size=None,
    min_shapes=None,
    opt_shapes=None,
    max_shapes=None,
    strict_type_constraints=False,
    keep_network=True,
    max_workspace_size=1 << 30,
    bf16_mode=False,
    timing_cache=None,
    **kwargs,
):
    """Converts ``module`` by running it on the sample ``inputs``; returns a TRTModule.

    The engine runs on the device of the inputs (CPU tensors: CPU engine; CUDA tensors: a GPU
    engine for that device) with the inputs' shapes and dtypes.

    ``timing_cache`` (GPU builds): a file path or a ``trt.ITimingCache``. The builder times the
    kernels that can run a layer several ways and keeps the fastest; the cache remembers those
    choices, so a second build of the same model times nothing. A path is read when it exists and
    written back after the build.
    """
    default_device_type = kwargs.pop("default_device_type", None)
    for key in list(kwargs):
        if key in _UPSTREAM_DEFAULTS:
            if kwargs[key] != _UPSTREAM_DEFAULTS[key]:
                raise NotImplementedError(
                    f"torch2trt: {key}={kwargs[key]!r} is not supported by this engine (only the default "
                    f"{_UPSTREAM_DEFAULTS[key]!r})"
                )
            del kwargs[key]
    if kwargs:
        raise TypeError(f"torch2trt() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
    if int8_mode:
        raise NotImplementedError("torch2trt: int8_mode=True is not implemented yet (no int8 calibration in this engine)")
    if int8_calib_dataset is not None or int8_calib_algorithm is not None:
        raise NotImplementedError("torch2trt: int8 calibration (int8_calib_dataset/int8_calib_algorithm) is not implemented yet")
    for key, value in (("min_shapes", min_shapes), ("opt_shapes", opt_shapes), ("max_shapes", max_shapes)):
        if value is not None:
            raise NotImplementedError(
                f"torch2trt: dynamic shapes ({key}) are not implemented yet; engines have the sample inputs' shapes"
            )
    inputs = _input_list(inputs)
    if max_batch_size is not None:
        batch = inputs[0].shape[0] if inputs[0].dim() > 0 else None
        if max_batch_size != batch:
            raise NotImplementedError(
                f"torch2trt: max_batch_size={max_batch_size} differs from the sample batch {batch}; engines use "
                f"explicit batch with the sample inputs' shapes (convert with inputs of the batch you need)"
            )
    devices = {x.device for x in inputs}
    if len(devices) != 1:
        raise ValueError(f"torch2trt: the sample inputs are on several devices ({sorted(map(str, devices))})")
    device = devices.pop()
    if device.type not in ("cpu", "cuda"):
        raise NotImplementedError(f"torch2trt: inputs on {device} are not supported (CPU or CUDA only)")
    if default_device_type is not None:
        wanted = trt.DeviceType.GPU if device.type == "cuda" else trt.DeviceType.CPU
        if default_device_type != wanted:
            raise ValueError(
                f"torch2trt: default_device_type={default_device_type} but the sample inputs are on {device}; "
                f"the engine runs where the inputs are"
            )
    if input_names is None:
        input_names = [f"input_{i}" for i in range(len(inputs))]
    elif len(input_names) != len(inputs):
        raise ValueError(f"torch2trt: input_names has {len(input_names)} names for {len(inputs)} inputs")
    input_names = list(input_names)
    names = input_names + list(output_names or [])
    if len(set(names)) != len(names):
        raise ValueError(f"torch2trt: input and output names must be unique, got {names}")
    for i, x in enumerate(inputs):
        if x.dtype not in _TORCH_TO_TRT:
            raise TypeError(
                f"torch2trt: input {i} ('{input_names[i]}') has dtype {x.dtype}, which engines do not take "
                f"(use one of {', '.join(str(d) for d in _TORCH_TO_TRT)})"
            )

    logger = trt.Logger(log_level)
    builder = trt.Builder(logger)
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH.value))
    ctx = ConversionContext(network, log_level=log_level)
    start = time.perf_counter()
    # Clones: the model may modify its inputs in place, and the user's tensors stay untouched.
    samples = [x.clone() for x in inputs]
    spec, output_names = trace(ctx, module, samples, input_names, output_names)
    _log(trt.Logger.INFO, log_level, f"traced {network.num_layers} layers in {time.perf_counter() - start:.2f} s")

    config = builder.create_builder_config()
    if device.type == "cuda":
        config.default_device_type = trt.DeviceType.GPU
        config.device_index = device.index if device.index is not None else torch.cuda.current_device()
    else:
        config.default_device_type = trt.DeviceType.CPU
    config.max_workspace_size = int(max_workspace_size)
    if fp16_mode and bf16_mode:
        raise ValueError("torch2trt: fp16_mode and bf16_mode are exclusive: choose one reduced precision")
    if fp16_mode:
        config.set_flag(trt.BuilderFlag.FP16)
    if bf16_mode:
        config.set_flag(trt.BuilderFlag.BF16)
    if strict_type_constraints:
        config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
    cache_path = None
    # Entries are keyed by device, so one cache (or file) may serve several GPUs: no mismatch check here.
    if isinstance(timing_cache, trt.ITimingCache):
        config.set_timing_cache(timing_cache, ignore_mismatch=True)
    elif timing_cache is not None:
        if not isinstance(timing_cache, (str, os.PathLike)):
            raise TypeError(
                f"torch2trt: timing_cache must be a file path or a trt.ITimingCache, got {type(timing_cache).__name__}"
            )
        cache_path = os.fspath(timing_cache)
        data = b""
        if os.path.exists(cache_path):
            with open(cache_path, "rb") as f:
                data = f.read()
        try:
            config.set_timing_cache(config.create_timing_cache(data), ignore_mismatch=True)
        except ValueError as e:
            raise ValueError(f"torch2trt: timing_cache {cache_path!r}: {e}") from None
    start = time.perf_counter()
    engine = builder.build_engine(network, config)
    _log(trt.Logger.INFO, log_level, f"built the engine in {time.perf_counter() - start:.2f} s")
    if cache_path is not None:
        tmp = cache_path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(config.get_timing_cache().serialize())
        os.replace(tmp, cache_path)  # atomic: a concurrent build never reads half a file

    module_trt = TRTModule(engine, input_names, output_names, output_spec=spec, _output_classes=ctx._output_classes)
    if keep_network:
        module_trt.network = network
    return module_trt
