"""TRTModule: runs a torch2trt engine like a PyTorch module, and the output-nesting spec it uses."""

import collections
import importlib
import json
import os

import torch

from torch2trt import trt

__all__ = ["TRTModule", "flatten_outputs", "unflatten_outputs"]

_TORCH_DTYPE = {
    trt.DataType.FLOAT: torch.float32,
    trt.DataType.HALF: torch.float16,
    trt.DataType.BF16: torch.bfloat16,
    trt.DataType.INT8: torch.int8,
    trt.DataType.UINT8: torch.uint8,
    trt.DataType.INT32: torch.int32,
    trt.DataType.INT64: torch.int64,
    trt.DataType.BOOL: torch.bool,
}


def trt_to_torch_dtype(dtype):
    """The torch dtype of an engine DataType."""
    try:
        return _TORCH_DTYPE[dtype]
    except KeyError:
        raise TypeError(f"engine dtype {dtype} has no torch equivalent") from None


# ---------------------------------------------------------------------------------------------
# Output nesting. A model may return a tensor, tuple, list, dict (also OrderedDict, transformers'
# ModelOutput), namedtuple, None or plain Python values, nested. The spec is JSON so that it
# travels in a state_dict; container classes are recorded by import path.
# ---------------------------------------------------------------------------------------------

_JSON_SCALARS = (bool, int, float, str, type(None))


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_class(path, known=None):
    if known is not None and path in known:
        return known[path]
    # A nested qualname (Outer.Inner) has dots too: import the longest module prefix.
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for p in parts[i:]:
                obj = getattr(obj, p)
        except AttributeError:
            break
        return obj
    raise ImportError(
        f"the model's output container class {path} cannot be imported here; import the module that "
        f"defines it (or return plain tuples/dicts from the model) before loading this TRTModule"
    )


def flatten_outputs(value, classes=None, path="output"):
    """Splits a model's return value into (list of tensors, JSON-able spec).

    ``classes`` (a dict) collects the container classes met, keyed by import path, so that the
    converting process can rebuild classes that are not importable by path (defined in a function).
    """
    tensors = []

    def walk(v, where):
        if isinstance(v, torch.Tensor):
            tensors.append(v)
            return ["tensor", len(tensors) - 1]
        if isinstance(v, tuple) and hasattr(type(v), "_fields"):
            cls = type(v)
            if classes is not None:
                classes[_class_path(cls)] = cls
            return ["namedtuple", _class_path(cls), [walk(x, f"{where}.{f}") for f, x in zip(cls._fields, v)]]
        if isinstance(v, (tuple, list)):
            kind = "tuple" if isinstance(v, tuple) else "list"
            if type(v) not in (tuple, list):
                raise TypeError(f"{where}: outputs of type {type(v).__name__} (a {kind} subclass) are not supported")
            return [kind, [walk(x, f"{where}[{i}]") for i, x in enumerate(v)]]
        if isinstance(v, dict):
            items = []
            for k, x in v.items():
                if not isinstance(k, (str, int, bool)) or isinstance(k, float):
                    raise TypeError(f"{where}: dict key {k!r} of type {type(k).__name__} is not supported (use str or int keys)")
                items.append([k, walk(x, f"{where}[{k!r}]")])
            cls_path = None
            if type(v) is not dict:
                cls_path = _class_path(type(v))
                if classes is not None:
                    classes[cls_path] = type(v)
            return ["dict", cls_path, items]
        if isinstance(v, _JSON_SCALARS):
            return ["value", v]
        raise TypeError(
            f"{where}: the model returns a {type(v).__module__}.{type(v).__qualname__}; torch2trt supports "
            f"tensors, tuples, lists, dicts, namedtuples, None and Python numbers/strings as outputs"
        )

    spec = walk(value, path)
    return tensors, spec


def unflatten_outputs(spec, tensors, classes=None):
    """Rebuilds the model's return value from a spec made by flatten_outputs."""

    def build(s):
        kind = s[0]
        if kind == "tensor":
            return tensors[s[1]]
        if kind == "value":
            return s[1]
        if kind == "tuple":
            return tuple(build(x) for x in s[1])
        if kind == "list":
            return [build(x) for x in s[1]]
        if kind == "namedtuple":
            return _import_class(s[1], classes)(*[build(x) for x in s[2]])
        if kind == "dict":
            d = {k: build(x) for k, x in s[2]}
            if s[1] is None:
                return d
            cls = _import_class(s[1], classes)
            if all(isinstance(k, str) for k in d):
                return cls(**d)
            return cls(d)
        raise ValueError(f"unknown output spec node {kind!r}")

    return build(spec)


def _spec_tensor_count(spec):
    kind = spec[0]
    if kind == "tensor":
        return 1
    if kind in ("tuple", "list"):
        return sum(_spec_tensor_count(x) for x in spec[1])
    if kind == "namedtuple":
        return sum(_spec_tensor_count(x) for x in spec[2])
    if kind == "dict":
        return sum(_spec_tensor_count(x) for _, x in spec[2])
    return 0


def _spec_classes(spec, out):
    kind = spec[0]
    if kind in ("tuple", "list"):
        for x in spec[1]:
            _spec_classes(x, out)
    elif kind == "namedtuple":
        out.add(spec[1])
        for x in spec[2]:
            _spec_classes(x, out)
    elif kind == "dict":
        if spec[1] is not None:
            out.add(spec[1])
        for _, x in spec[2]:
            _spec_classes(x, out)
    return out


# ---------------------------------------------------------------------------------------------
# TRTModule
# ---------------------------------------------------------------------------------------------


def _current_stream_handle(device):
    """The raw handle of torch's current stream on `device` (what torch.cuda.current_stream(device).cuda_stream
    gives, without building a Stream object on every forward: batch-1 engines run in tens of microseconds)."""
    raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    if raw is not None:
        return raw(device.index)
    return torch.cuda.current_stream(device).cuda_stream


def _load_engine(engine):
    if engine is None or isinstance(engine, trt.ICudaEngine):
        return engine
    if isinstance(engine, (str, os.PathLike)):
        with open(engine, "rb") as f:
            data = f.read()
    elif isinstance(engine, torch.Tensor):
        data = engine.detach().cpu().contiguous().numpy().tobytes()
    elif isinstance(engine, (bytes, bytearray, memoryview)):
        data = bytes(engine)
    else:
        raise TypeError(
            f"TRTModule(engine=...): expected an ICudaEngine, engine bytes or a file path, got {type(engine).__name__}"
        )
    return trt.Runtime(trt.Logger(trt.Logger.ERROR)).deserialize_cuda_engine(data)


EngineLayer = collections.namedtuple("EngineLayer", ["name", "kind", "kernel", "precision", "time_ms"])


class TRTModule(torch.nn.Module):
    """Runs a built engine like the PyTorch module it was converted from.

    ``TRTModule(engine=None, input_names=None, output_names=None)``: ``engine`` is an ICudaEngine,
    engine-file bytes or a path to an engine file. Names default to the engine's inputs and
    outputs in order. ``output_spec`` (made by torch2trt) restores the original output nesting;
    without it a single output is returned as a tensor and several as a tuple.
    """

    def __init__(self, engine=None, input_names=None, output_names=None, output_spec=None, _output_classes=None):
        super().__init__()
        self.engine = None
        self.context = None
        self.input_names = list(input_names) if input_names is not None else None
        self.output_names = list(output_names) if output_names is not None else None
        self.output_spec = output_spec
        self._output_classes = dict(_output_classes or {})
        if engine is not None:
            self._set_engine(_load_engine(engine))

    # -- engine binding --------------------------------------------------------------------

    def _set_engine(self, engine):
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        ins = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        for what, given, actual in (("input", self.input_names, ins), ("output", self.output_names, outs)):
            if given is None:
                continue
            unknown = [n for n in given if n not in actual]
            if unknown or len(set(given)) != len(given) or len(given) != len(actual):
                raise ValueError(
                    f"TRTModule: {what}_names {given} do not match the engine's {what}s {actual}"
                )
        if self.input_names is None:
            self.input_names = ins
        if self.output_names is None:
            self.output_names = outs
        if self.output_spec is not None and _spec_tensor_count(self.output_spec) != len(self.output_names):
            raise ValueError(
                f"TRTModule: output_spec holds {_spec_tensor_count(self.output_spec)} tensors but the engine "
                f"has {len(self.output_names)} outputs"
            )
        if engine.device_type == trt.DeviceType.GPU:
            self._device = torch.device("cuda", engine.device_index)
        else:
            self._device = torch.device("cpu")
        self._inputs = [
            (n, tuple(engine.get_tensor_shape(n)), trt_to_torch_dtype(engine.get_tensor_dtype(n))) for n in self.input_names
        ]
        self._outputs = [
            (n, tuple(engine.get_tensor_shape(n)), trt_to_torch_dtype(engine.get_tensor_dtype(n))) for n in self.output_names
        ]
        self._io_names = [n for n, _, _ in self._inputs] + [n for n, _, _ in self._outputs]
        self.engine = engine
        self.context = engine.create_execution_context()

    @property
    def device(self):
        """The device the engine runs on (inputs must be there)."""
        return self._device if self.engine is not None else None

    # -- running ---------------------------------------------------------------------------

    def _check_input(self, i, name, shape, dtype, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"TRTModule input {i} ('{name}'): expected a torch.Tensor, got {type(x).__name__}")
        if x.dtype != dtype:
            raise TypeError(f"TRTModule input {i} ('{name}'): expected dtype {dtype}, got {x.dtype}")
        if len(shape) != x.dim() or any(e != -1 and e != a for e, a in zip(shape, x.shape)):
            raise ValueError(
                f"TRTModule input {i} ('{name}'): expected shape {list(shape)}, got {list(x.shape)} "
                f"(the engine was built for this shape; convert again for another)"
            )
        if x.device != self._device:
            raise ValueError(f"TRTModule input {i} ('{name}'): expected a tensor on {self._device}, got one on {x.device}")

    def forward(self, *inputs):
        # Batch-1 engines run in tens of microseconds: the common case (every input of the built shape, dtype
        # and device, contiguous) costs a few comparisons and one call into the engine.
        ctx = self.context
        if ctx is None:
            raise RuntimeError("TRTModule has no engine: pass one to TRTModule(...) or call load_state_dict first")
        if len(inputs) != len(self._inputs):
            names = ", ".join(n for n, _, _ in self._inputs)
            raise TypeError(f"TRTModule expects {len(self._inputs)} inputs ({names}), got {len(inputs)}")
        device = self._device
        bound = []  # keeps contiguous copies alive until the engine has run
        addresses = []
        for i, ((name, shape, dtype), x) in enumerate(zip(self._inputs, inputs)):
            if not (isinstance(x, torch.Tensor) and x.dtype == dtype and x.shape == shape and x.device == device):
                self._check_input(i, name, shape, dtype, x)  # raises, unless the engine takes this shape (-1s)
                if -1 in shape:
                    ctx.set_input_shape(name, tuple(x.shape))
            if not x.is_contiguous():
                x = x.contiguous()
            bound.append(x)
            addresses.append(x.data_ptr())
        outputs = []
        for name, shape, dtype in self._outputs:
            if -1 in shape:
                shape = tuple(ctx.get_tensor_shape(name))
            y = torch.empty(shape, dtype=dtype, device=device)
            outputs.append(y)
            addresses.append(y.data_ptr())
        stream = _current_stream_handle(device) if device.type == "cuda" else 0
        ctx.execute_with_addresses(self._io_names, addresses, stream)
        if self.output_spec is not None:
            return unflatten_outputs(self.output_spec, outputs, self._output_classes)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def engine_layers(self, *profile_inputs, runs=5):
        """The layers of the optimized engine (after fusion), one ``EngineLayer`` each: name, kind,
        kernel (what a run uses: the context is planned for its input shapes first), precision (the dtype
        it writes) and time_ms. Pass sample inputs to time every layer
        (median-free: the last of `runs` profiled runs; profiling waits for each layer and skips CUDA
        graphs, so the sum is above a normal run); without them time_ms is None."""
        if self.context is None:
            raise RuntimeError("TRTModule has no engine")
        if profile_inputs:
            self.context.profiling = True
            try:
                with torch.no_grad():
                    for _ in range(max(1, runs)):
                        self(*profile_inputs)
                rows = self.context.layer_profile()
            finally:
                self.context.profiling = False
        else:
            rows = self.context.layer_profile()
            for r in rows:
                r["time_ms"] = None
        return [EngineLayer(r["name"], r["kind"], r["kernel"], str(r["precision"]).split(".")[-1], r["time_ms"])
                for r in rows]

    # -- saving and loading ----------------------------------------------------------------

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        if self.engine is None:
            raise RuntimeError("TRTModule has no engine to save")
        data = self.engine.serialize()
        destination[prefix + "engine"] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        destination[prefix + "input_names"] = list(self.input_names)
        destination[prefix + "output_names"] = list(self.output_names)
        destination[prefix + "output_spec"] = json.dumps(self.output_spec)
        destination[prefix + "torch2trt_version"] = trt.__version__
        destination[prefix + "engine_format_version"] = int(trt.ENGINE_FORMAT_VERSION)

    _STATE_KEYS = ("engine", "input_names", "output_names", "output_spec", "torch2trt_version", "engine_format_version")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        if prefix + "engine" not in state_dict:
            missing_keys.append(prefix + "engine")
            return
        saved_by = state_dict.get(prefix + "torch2trt_version", "an unknown version")
        engine = state_dict[prefix + "engine"]
        try:
            engine = _load_engine(engine)
        except trt.EngineFormatError as e:
            raise trt.EngineFormatError(
                f"{prefix}engine (saved by torch2trt {saved_by}, loading with {trt.__version__}): {e}"
            ) from None
        self.input_names = list(state_dict.get(prefix + "input_names") or []) or None
        self.output_names = list(state_dict.get(prefix + "output_names") or []) or None
        spec = state_dict.get(prefix + "output_spec")
        self.output_spec = json.loads(spec) if spec is not None else None
        if self.output_spec is not None:
            for path in _spec_classes(self.output_spec, set()):
                if path not in self._output_classes:
                    self._output_classes[path] = _import_class(path)
        self._set_engine(engine)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key[len(prefix):] not in self._STATE_KEYS and "." not in key[len(prefix):]:
                    unexpected_keys.append(key)

    def __getstate__(self):
        # Engines and contexts are native objects: pickle (and deepcopy) carry the engine's bytes.
        state = self.__dict__.copy()
        state.pop("context", None)
        state.pop("network", None)
        engine = state.pop("engine", None)
        state["_engine_bytes"] = engine.serialize() if engine is not None else None
        for key in ("_device", "_inputs", "_outputs"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        data = state.pop("_engine_bytes", None)
        self.__dict__.update(state)
        self.engine = None
        self.context = None
        if data is not None:
            self._set_engine(_load_engine(data))

    def extra_repr(self):
        if self.engine is None:
            return "no engine"
        return f"device={self._device}, inputs={self.input_names}, outputs={self.output_names}"
