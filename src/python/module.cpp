// torch2trt._C: the engine's Python binding, in TensorRT's Python names.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/tuple.h>

#include <algorithm>

#include "backends/backend.h"
#include "python/bind.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"
#include "torch2trt/version.h"

namespace torch2trt::py {

Dims to_dims(nb::handle obj, const char* what) {
  if (!nb::hasattr(obj, "__len__") || !nb::hasattr(obj, "__getitem__"))
    throw InvalidArgument(std::string(what) + ": expected a sequence of ints (tuple, list, Dims), got " +
                          nb::cast<std::string>(nb::str(obj.type().attr("__name__"))));
  size_t n = nb::len(obj);
  if (n > static_cast<size_t>(kMaxDims))
    throw InvalidArgument(std::string(what) + ": at most " + std::to_string(kMaxDims) + " dimensions, got " + std::to_string(n));
  Dims d;
  d.nb_dims = static_cast<int32_t>(n);
  for (size_t i = 0; i < n; ++i) {
    nb::object x = obj[i];
    if (!nb::hasattr(x, "__index__"))
      throw InvalidArgument(std::string(what) + ": element " + std::to_string(i) + " is not an int");
    d.d[i] = nb::cast<int64_t>(x.attr("__index__")());
  }
  return d;
}

nb::tuple from_dims(const Dims& d) {
  nb::list l;
  for (int i = 0; i < d.nb_dims; ++i) l.append(d.d[i]);
  return nb::tuple(l);
}

std::vector<int64_t> to_ints(nb::handle obj, const char* what) {
  if (nb::isinstance<nb::int_>(obj)) return {nb::cast<int64_t>(obj)};
  return to_dims(obj, what).vec();
}

Weights to_weights(nb::handle obj, const char* what) {
  if (obj.is_none()) return Weights();
  if (nb::isinstance<Weights>(obj)) return nb::cast<Weights>(obj);
  nb::object o = nb::borrow(obj);
  if (nb::hasattr(o, "detach") && nb::hasattr(o, "is_cuda")) {  // a torch tensor
    o = o.attr("detach")().attr("cpu")();
    std::string dt = nb::cast<std::string>(o.attr("dtype").attr("__str__")());
    if (dt == "torch.bfloat16") {
      // numpy has no bfloat16: pass the raw bits.
      nb::object bits = o.attr("contiguous")().attr("view")(nb::module_::import_("torch").attr("int16")).attr("numpy")();
      int64_t n = nb::cast<int64_t>(bits.attr("size"));
      auto ptr = reinterpret_cast<const void*>(nb::cast<uintptr_t>(bits.attr("ctypes").attr("data")));
      return Weights(DataType::kBF16, ptr, n);
    }
    o = o.attr("contiguous")().attr("numpy")();
  }
  nb::module_ np = nb::module_::import_("numpy");
  nb::object arr = np.attr("ascontiguousarray")(o);
  std::string name = nb::cast<std::string>(arr.attr("dtype").attr("name"));
  DataType t;
  if (name == "float64") {
    arr = arr.attr("astype")("float32");
    t = DataType::kFLOAT;
  } else if (name == "float32") {
    t = DataType::kFLOAT;
  } else if (name == "float16") {
    t = DataType::kHALF;
  } else if (name == "int32") {
    t = DataType::kINT32;
  } else if (name == "int64") {
    t = DataType::kINT64;
  } else if (name == "int8") {
    t = DataType::kINT8;
  } else if (name == "uint8") {
    t = DataType::kUINT8;
  } else if (name == "bool") {
    t = DataType::kBOOL;
  } else {
    throw InvalidArgument(std::string(what) + ": weights of numpy dtype " + name +
                          " are not supported (use float32, float16, int32, int64, int8, uint8 or bool)");
  }
  int64_t n = nb::cast<int64_t>(arr.attr("size"));
  auto ptr = reinterpret_cast<const void*>(nb::cast<uintptr_t>(arr.attr("ctypes").attr("data")));
  return Weights(t, ptr, n);
}

namespace {

// Owns what a Python-level object keeps alive.
struct EngineHandle {
  std::shared_ptr<Engine> engine;
};
struct ContextHandle {
  std::shared_ptr<Engine> engine;  // keeps the engine alive while a context exists
  std::unique_ptr<ExecutionContext> ctx;
};
struct Logger {
  enum class Severity : int32_t { INTERNAL_ERROR = 0, ERROR = 1, WARNING = 2, INFO = 3, VERBOSE = 4 };
  Severity min_severity = Severity::WARNING;
};
enum class NetworkDefinitionCreationFlag : int32_t { EXPLICIT_BATCH = 0, STRONGLY_TYPED = 1 };
enum class MemoryPoolType : int32_t { WORKSPACE = 0 };

struct BuilderHandle {
  Logger logger;
  bool cuda_available() const {
    std::string why;
    return cuda_backend(0, &why) != nullptr;
  }
};

std::vector<uint8_t> bytes_of(nb::handle obj) {
  nb::object b = nb::borrow(obj);
  if (nb::isinstance<nb::str>(obj))
    throw EngineFormatError("expected engine bytes, got a str; read the file with open(path, 'rb')");
  if (!nb::isinstance<nb::bytes>(obj)) b = nb::module_::import_("builtins").attr("bytes")(obj);
  nb::bytes bb = nb::cast<nb::bytes>(b);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bb.c_str());
  return std::vector<uint8_t>(p, p + bb.size());
}

nb::bytes to_bytes(const std::vector<uint8_t>& v) { return nb::bytes(reinterpret_cast<const char*>(v.data()), v.size()); }

}  // namespace
}  // namespace torch2trt::py

using namespace torch2trt;
using namespace torch2trt::py;

NB_MODULE(_C, m) {
  m.doc() = "torch2trt engine (network definition, builder, runtime) with TensorRT's Python names";
  m.attr("__version__") = kVersion;
  m.attr("ENGINE_FORMAT_VERSION") = kEngineFormatVersion;
#ifdef T2T_WITH_ONEDNN
  m.attr("WITH_ONEDNN") = true;  // the CPU backend's convolution, matrix multiply and pooling use oneDNN
#else
  m.attr("WITH_ONEDNN") = false;
#endif

  auto base = nb::exception<Error>(m, "EngineError", PyExc_RuntimeError);
  nb::exception<InvalidArgument>(m, "InvalidArgumentError", PyExc_ValueError);
  nb::exception<Unsupported>(m, "UnsupportedError", PyExc_NotImplementedError);
  nb::exception<EngineFormatError>(m, "EngineFormatError", PyExc_ValueError);
  nb::exception<RuntimeFailure>(m, "ExecutionError", PyExc_RuntimeError);
  (void)base;

  nb::enum_<DataType>(m, "DataType")
      .value("FLOAT", DataType::kFLOAT)
      .value("HALF", DataType::kHALF)
      .value("INT8", DataType::kINT8)
      .value("INT32", DataType::kINT32)
      .value("BOOL", DataType::kBOOL)
      .value("UINT8", DataType::kUINT8)
      .value("FP8", DataType::kFP8)
      .value("BF16", DataType::kBF16)
      .value("INT64", DataType::kINT64);
  m.def("nptype_name", [](DataType t) { return std::string(dtype_name(t)); }, "PyTorch-style name of a DataType");
  m.def("dtype_size", [](DataType t) { return dtype_size(t); }, "Bytes per element of a DataType");

  nb::enum_<LayerKind> lt(m, "LayerType");
#define T2T_LAYER(Name, family) lt.value(layer_kind_name(LayerKind::k##Name), LayerKind::k##Name);
#include "torch2trt/layers.def"
#undef T2T_LAYER

  nb::class_<Weights>(m, "Weights", "Constant array passed to add_* calls (numpy or CPU torch tensors also work)")
      .def("__init__", [](Weights* w) { new (w) Weights(); })
      .def("__init__", [](Weights* w, nb::handle a) { new (w) Weights(to_weights(a, "Weights")); }, nb::arg("a"))
      .def_prop_ro("dtype", [](const Weights& w) { return w.dtype; })
      .def_prop_ro("size", [](const Weights& w) { return w.count; })
      .def_prop_ro("nbytes", [](const Weights& w) { return w.nbytes(); })
      .def("numpy", [](const Weights& w) {
        std::vector<double> v(static_cast<size_t>(w.count));
        for (int64_t i = 0; i < w.count; ++i) v[i] = w.at(i);
        return v;
      }, "Values as a list of floats (for inspection)")
      .def("__len__", [](const Weights& w) { return w.count; });

  nb::class_<Logger> logger(m, "Logger");
  nb::enum_<Logger::Severity>(logger, "Severity")
      .value("INTERNAL_ERROR", Logger::Severity::INTERNAL_ERROR)
      .value("ERROR", Logger::Severity::ERROR)
      .value("WARNING", Logger::Severity::WARNING)
      .value("INFO", Logger::Severity::INFO)
      .value("VERBOSE", Logger::Severity::VERBOSE);
  logger.def(nb::init<>())
      .def("__init__", [](Logger* l, Logger::Severity s) { new (l) Logger{s}; }, nb::arg("min_severity"))
      .def_rw("min_severity", &Logger::min_severity);
  logger.attr("INTERNAL_ERROR") = Logger::Severity::INTERNAL_ERROR;
  logger.attr("ERROR") = Logger::Severity::ERROR;
  logger.attr("WARNING") = Logger::Severity::WARNING;
  logger.attr("INFO") = Logger::Severity::INFO;
  logger.attr("VERBOSE") = Logger::Severity::VERBOSE;

  nb::class_<Tensor>(m, "ITensor", "A tensor of a network definition")
      .def_prop_rw("name", &Tensor::name, &Tensor::set_name)
      .def_prop_rw("shape", [](const Tensor& t) { return from_dims(t.dims()); },
                   [](Tensor& t, nb::handle s) { t.set_dims(to_dims(s, "ITensor.shape")); })
      .def_prop_rw("dtype", &Tensor::dtype, &Tensor::set_dtype)
      .def_prop_ro("is_network_input", &Tensor::is_input)
      .def_prop_ro("is_network_output", &Tensor::is_output)
      .def("set_dynamic_range", [](Tensor& t, float lo, float hi) { t.set_dynamic_range(lo, hi); return true; })
      .def("__repr__", [](const Tensor& t) {
        return "<ITensor '" + t.name() + "' " + dtype_name(t.dtype()) + " " + t.dims().str() + ">";
      });

  nb::class_<Layer>(m, "ILayer", "A layer of a network definition")
      .def_prop_rw("name", &Layer::name, &Layer::set_name)
      .def_prop_ro("type", &Layer::kind)
      .def_prop_ro("num_inputs", &Layer::num_inputs)
      .def_prop_ro("num_outputs", &Layer::num_outputs)
      .def("get_input", &Layer::input, nb::rv_policy::reference_internal, nb::arg("index"))
      .def("get_output", &Layer::output, nb::rv_policy::reference_internal, nb::arg("index"))
      .def("set_input", &Layer::set_input, nb::arg("index"), nb::arg("tensor"))
      .def_prop_rw("precision", &Layer::precision, &Layer::set_precision)
      .def_prop_ro("precision_is_set", &Layer::precision_is_set)
      .def("reset_precision", &Layer::reset_precision)
      .def("__repr__", [](const Layer& l) { return std::string("<") + layer_kind_name(l.kind()) + " layer '" + l.name() + "'>"; });

  auto net = nb::class_<Network>(m, "INetworkDefinition", "A network definition (TensorRT's INetworkDefinition)");
  net.def(nb::init<>())
      .def("add_input", [](Network& n, const std::string& name, DataType t, nb::handle shape) {
        return n.add_input(name, t, to_dims(shape, "add_input shape"));
      }, nb::rv_policy::reference_internal, nb::arg("name"), nb::arg("dtype"), nb::arg("shape"))
      .def("mark_output", &Network::mark_output, nb::arg("tensor"))
      .def("unmark_output", &Network::unmark_output, nb::arg("tensor"))
      .def_prop_ro("num_layers", &Network::num_layers)
      .def_prop_ro("num_inputs", &Network::num_inputs)
      .def_prop_ro("num_outputs", &Network::num_outputs)
      .def_prop_ro("has_implicit_batch_dimension", [](const Network&) { return false; })
      .def("get_layer", &Network::layer, nb::rv_policy::reference_internal, nb::arg("index"))
      .def("get_input", &Network::input, nb::rv_policy::reference_internal, nb::arg("index"))
      .def("get_output", &Network::output, nb::rv_policy::reference_internal, nb::arg("index"))
      .def("__len__", &Network::num_layers)
      .def("__getitem__", &Network::layer, nb::rv_policy::reference_internal);

#define T2T_LAYER(Name, family) bind_##Name(m, net);
#include "torch2trt/layers.def"
#undef T2T_LAYER

  nb::enum_<BuilderFlag>(m, "BuilderFlag")
      .value("FP16", BuilderFlag::kFP16)
      .value("INT8", BuilderFlag::kINT8)
      .value("BF16", BuilderFlag::kBF16)
      .value("STRICT_TYPES", BuilderFlag::kSTRICT_TYPES)
      .value("OBEY_PRECISION_CONSTRAINTS", BuilderFlag::kOBEY_PRECISION_CONSTRAINTS)
      .value("PREFER_PRECISION_CONSTRAINTS", BuilderFlag::kPREFER_PRECISION_CONSTRAINTS)
      .value("DISABLE_CUDA_GRAPHS", BuilderFlag::kDISABLE_CUDA_GRAPHS)
      .value("TF32", BuilderFlag::kTF32);
  nb::enum_<DeviceType>(m, "DeviceType").value("CPU", DeviceType::kCPU).value("GPU", DeviceType::kGPU);
  nb::enum_<NetworkDefinitionCreationFlag>(m, "NetworkDefinitionCreationFlag")
      .value("EXPLICIT_BATCH", NetworkDefinitionCreationFlag::EXPLICIT_BATCH)
      .value("STRONGLY_TYPED", NetworkDefinitionCreationFlag::STRONGLY_TYPED);
  nb::enum_<MemoryPoolType>(m, "MemoryPoolType").value("WORKSPACE", MemoryPoolType::WORKSPACE);
  nb::enum_<TensorIOMode>(m, "TensorIOMode")
      .value("NONE", TensorIOMode::kNONE)
      .value("INPUT", TensorIOMode::kINPUT)
      .value("OUTPUT", TensorIOMode::kOUTPUT);

  nb::class_<TimingCache>(m, "ITimingCache",
                          "Tactic choices measured by builds (TensorRT's ITimingCache): share one between builds, "
                          "or save serialize() to a file, so a second build of the same model times nothing")
      .def("serialize", [](const TimingCache& c) { return to_bytes(c.serialize()); })
      .def("combine", [](TimingCache& c, const TimingCache& other, bool ignore_mismatch) {
        // Keys carry the device, so mixing devices is harmless; still refuse it unless asked, as TensorRT does.
        auto mine = c.devices(), theirs = other.devices();
        if (!ignore_mismatch && !mine.empty())
          for (const auto& d : theirs)
            if (std::find(mine.begin(), mine.end(), d) == mine.end())
              throw InvalidArgument("combine: the other cache was measured on '" + d + "', this one on '" + mine[0] +
                                    "'; pass ignore_mismatch=True to keep both (entries only match their own device)");
        c.combine(other);
        return true;
      }, nb::arg("input_cache"), nb::arg("ignore_mismatch") = false,
         "adds the other cache's entries this one lacks; caches of different devices need ignore_mismatch=True")
      .def("__len__", &TimingCache::size);

  nb::class_<BuilderConfig>(m, "IBuilderConfig", "What the builder may do")
      .def("create_timing_cache", [](const BuilderConfig&, nb::handle data) {
        std::vector<uint8_t> b = bytes_of(data);
        return b.empty() ? std::make_shared<TimingCache>() : TimingCache::deserialize(b.data(), b.size());
      }, nb::arg("serialized_timing_cache") = nb::bytes("", 0),
         "a new timing cache, empty or read from serialize()'s bytes")
      .def("set_timing_cache", [](BuilderConfig& c, std::shared_ptr<TimingCache> t, bool ignore_mismatch) {
        // A cache measured on another device is refused unless asked (its entries would never match here).
        if (t && !ignore_mismatch && c.device == DeviceType::kGPU) {
          std::string why;
          Backend* be = cuda_backend(c.device_index, &why);
          auto devs = t->devices();
          if (be && !devs.empty() && std::find(devs.begin(), devs.end(), be->device_description()) == devs.end())
            throw InvalidArgument("set_timing_cache: the cache was measured on '" + devs[0] + "', this build runs on '" +
                                  be->device_description() + "'; pass ignore_mismatch=True to use it anyway");
        }
        c.timing_cache = std::move(t);
        return true;
      }, nb::arg("cache"), nb::arg("ignore_mismatch") = false)
      .def("get_timing_cache", [](const BuilderConfig& c) { return c.timing_cache; })
      .def(nb::init<>())
      .def("set_flag", &BuilderConfig::set_flag)
      .def("clear_flag", &BuilderConfig::clear_flag)
      .def("get_flag", &BuilderConfig::get_flag)
      .def_rw("flags", &BuilderConfig::flags)
      .def_rw("max_workspace_size", &BuilderConfig::workspace_limit)
      .def("set_memory_pool_limit", [](BuilderConfig& c, MemoryPoolType, uint64_t n) { c.workspace_limit = n; })
      .def("get_memory_pool_limit", [](const BuilderConfig& c, MemoryPoolType) { return c.workspace_limit; })
      .def_rw("default_device_type", &BuilderConfig::device)
      .def_rw("device_index", &BuilderConfig::device_index)
      .def_rw("builder_optimization_level", &BuilderConfig::optimization_level);

  nb::class_<BuilderHandle>(m, "Builder", "Builds engines (TensorRT's Builder)")
      .def("__init__", [](BuilderHandle* b, nb::handle) { new (b) BuilderHandle(); }, nb::arg("logger") = nb::none())
      .def("create_network", [](BuilderHandle&, int) { return std::make_unique<Network>(); }, nb::arg("flags") = 0)
      .def("create_builder_config", [](BuilderHandle& b) {
        BuilderConfig c;
        c.device = b.cuda_available() ? DeviceType::kGPU : DeviceType::kCPU;
        return c;
      })
      .def_prop_ro("platform_has_fast_fp16", [](BuilderHandle& b) { return b.cuda_available(); })
      .def_prop_ro("platform_has_cuda", [](BuilderHandle& b) { return b.cuda_available(); })
      .def("build_serialized_network", [](BuilderHandle&, const Network& n, const BuilderConfig& c) {
        std::vector<uint8_t> bytes;
        {
          nb::gil_scoped_release g;
          bytes = Builder().build_serialized(n, c);
        }
        return to_bytes(bytes);
      }, nb::arg("network"), nb::arg("config"))
      .def("build_engine", [](BuilderHandle&, const Network& n, const BuilderConfig& c) {
        std::unique_ptr<Engine> e;
        {
          nb::gil_scoped_release g;
          e = Builder().build(n, c);
        }
        return EngineHandle{std::shared_ptr<Engine>(std::move(e))};
      }, nb::arg("network"), nb::arg("config"));

  nb::class_<EngineHandle>(m, "ICudaEngine", "A built engine (CPU or CUDA)")
      .def_prop_ro("num_io_tensors", [](const EngineHandle& e) { return e.engine->num_io_tensors(); })
      .def("get_tensor_name", [](const EngineHandle& e, int i) { return e.engine->io_tensor_name(i); })
      .def("get_tensor_mode", [](const EngineHandle& e, const std::string& n) { return e.engine->io_mode(n); })
      .def("get_tensor_shape", [](const EngineHandle& e, const std::string& n) { return from_dims(e.engine->io_dims(n)); })
      .def("get_tensor_dtype", [](const EngineHandle& e, const std::string& n) { return e.engine->io_dtype(n); })
      .def_prop_ro("num_layers", [](const EngineHandle& e) { return e.engine->network().num_layers(); })
      .def_prop_ro("producer_version", [](const EngineHandle& e) { return e.engine->producer_version(); })
      .def_prop_ro("target", [](const EngineHandle& e) { return e.engine->target(); })
      .def_prop_ro("device_type", [](const EngineHandle& e) { return e.engine->config().device; })
      .def_prop_ro("device_index", [](const EngineHandle& e) { return e.engine->config().device_index; })
      .def_prop_ro("flags", [](const EngineHandle& e) { return e.engine->config().flags; })
      .def("serialize", [](const EngineHandle& e) { return to_bytes(e.engine->serialize()); })
      .def("create_execution_context", [](const EngineHandle& e) {
        return ContextHandle{e.engine, e.engine->create_execution_context()};
      });

  nb::class_<ContextHandle>(m, "IExecutionContext", "Runs an engine; one per thread")
      .def("set_tensor_address", [](ContextHandle& c, const std::string& n, uintptr_t p) {
        c.ctx->set_tensor_address(n, reinterpret_cast<void*>(p));
        return true;
      }, nb::arg("name"), nb::arg("memory"))
      .def("get_tensor_address", [](ContextHandle& c, const std::string& n) {
        return reinterpret_cast<uintptr_t>(c.ctx->tensor_address(n));
      })
      .def("set_input_shape", [](ContextHandle& c, const std::string& n, nb::handle s) {
        c.ctx->set_input_shape(n, to_dims(s, "set_input_shape"));
        return true;
      }, nb::arg("name"), nb::arg("shape"))
      .def("get_tensor_shape", [](ContextHandle& c, const std::string& n) { return from_dims(c.ctx->tensor_shape(n)); })
      .def("execute_async_v3", [](ContextHandle& c, uintptr_t stream) {
        nb::gil_scoped_release g;
        c.ctx->enqueue(reinterpret_cast<void*>(stream));
        return true;
      }, nb::arg("stream_handle"))
      .def("execute_with_addresses",
           [](ContextHandle& c, const std::vector<std::string>& names, const std::vector<uintptr_t>& addresses,
              uintptr_t stream) {
             if (names.size() != addresses.size())
               throw InvalidArgument("execute_with_addresses: " + std::to_string(names.size()) + " names but " +
                                     std::to_string(addresses.size()) + " addresses");
             for (size_t i = 0; i < names.size(); ++i)
               c.ctx->set_tensor_address(names[i], reinterpret_cast<void*>(addresses[i]));
             nb::gil_scoped_release g;
             c.ctx->enqueue(reinterpret_cast<void*>(stream));
             return true;
           },
           nb::arg("names"), nb::arg("addresses"), nb::arg("stream_handle"),
           "set_tensor_address for each name, then execute_async_v3: one call for TRTModule.forward")
      .def("set_graphs_enabled", [](ContextHandle& c, bool on) { c.ctx->set_graphs_enabled(on); }, nb::arg("enabled"),
           "CUDA-graph replay on repeated runs with the same shapes, addresses and stream (default on)")
      .def_prop_ro("last_run_replayed", [](ContextHandle& c) { return c.ctx->last_run_replayed(); })
      .def_prop_ro("graph_status", [](ContextHandle& c) { return c.ctx->graph_status(); },
                   "why CUDA-graph replay is off for this context, or '' while it is on")
      .def("layer_info", [](ContextHandle& c) {
        nb::list l;
        for (auto& i : c.ctx->layer_info()) l.append(nb::make_tuple(i.name, i.kind, i.impl));
        return l;
      }, "(name, kind, kernel) for each layer of the optimized engine; the context is planned for its input shapes first, so kernel is what a run uses")
      .def_prop_rw("profiling", [](ContextHandle& c) { return c.ctx->profiling(); },
                   [](ContextHandle& c, bool on) { c.ctx->set_profiling(on); },
                   "time every layer of the following runs (slower: each layer is waited for, no CUDA graph)")
      .def("layer_profile", [](ContextHandle& c) {
        nb::list l;
        const Network& net = c.engine->network();
        auto infos = c.ctx->layer_info();
        for (size_t i = 0; i < infos.size(); ++i) {
          nb::dict d;
          d["name"] = infos[i].name;
          d["kind"] = infos[i].kind;
          d["kernel"] = infos[i].impl;
          d["precision"] = infos[i].precision;
          d["time_ms"] = infos[i].time_ms < 0 ? nb::none() : nb::cast(infos[i].time_ms);
          const Layer* layer = net.layer(static_cast<int>(i));
          nb::list ins, outs;
          for (const Tensor* t : layer->inputs()) ins.append(t ? nb::cast(t->name() + " " + t->dims().str()) : nb::none());
          for (const Tensor* t : layer->outputs()) outs.append(t->name() + " " + t->dims().str());
          d["inputs"] = ins;
          d["outputs"] = outs;
          if (layer->kind() == LayerKind::kPointwise)
            d["program"] = pointwise_program_text(static_cast<const PointwiseLayer*>(layer)->p, layer->num_inputs());
          l.append(d);
        }
        return l;
      }, "a dict per layer of the optimized engine: name, kind, kernel, precision (the dtype it writes), "
         "time_ms (last profiled run, None before one), inputs and outputs ('name dims'), and, for fused Pointwise layers, program")
      .def_prop_ro("engine", [](ContextHandle& c) { return EngineHandle{c.engine}; });

  nb::class_<Runtime>(m, "Runtime", "Loads engine files (TensorRT's Runtime)")
      .def("__init__", [](Runtime* r, nb::handle) { new (r) Runtime(); }, nb::arg("logger") = nb::none())
      .def("deserialize_cuda_engine", [](Runtime& r, nb::handle data) {
        auto bytes = bytes_of(data);
        return EngineHandle{std::shared_ptr<Engine>(r.deserialize(bytes.data(), bytes.size()))};
      }, nb::arg("serialized_engine"), "Loads an engine file's bytes (CPU or CUDA engines)");

  m.def("cuda_available", []() {
    std::string why;
    return cuda_backend(0, &why) != nullptr;
  }, "True when this build has the CUDA backend and a GPU is present");
  m.def("cuda_unavailable_reason", []() {
    std::string why;
    cuda_backend(0, &why);
    return why;
  });
}
