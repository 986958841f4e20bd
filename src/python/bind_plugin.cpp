#include <nanobind/stl/pair.h>

#include "python/bind.h"

namespace torch2trt::py {

namespace {

// Field bytes from bytes, bytearray, memoryview or a numpy array (its raw contents).
PluginFields to_fields(nb::handle obj) {
  if (obj.is_none()) return {};
  if (nb::isinstance<nb::str>(obj))
    throw InvalidArgument("add_plugin fields: expected bytes (e.g. struct.pack or numpy.tobytes()), got a str");
  nb::object b = nb::borrow(obj);
  if (!nb::isinstance<nb::bytes>(obj)) {
    try {
      b = nb::module_::import_("builtins").attr("bytes")(obj);
    } catch (const nb::python_error&) {
      throw InvalidArgument("add_plugin fields: expected bytes, bytearray, memoryview or a numpy array, got " +
                            nb::cast<std::string>(nb::str(obj.type().attr("__name__"))));
    }
  }
  nb::bytes bb = nb::cast<nb::bytes>(b);
  const auto* p = reinterpret_cast<const uint8_t*>(bb.c_str());
  return PluginFields(p, p + bb.size());
}

nb::bytes from_fields(const PluginFields& f) { return nb::bytes(reinterpret_cast<const char*>(f.data()), f.size()); }

}  // namespace

void bind_Plugin(nb::module_& m, nb::class_<Network>& net) {
  auto c = nb::class_<PluginLayer, Layer>(m, "IPluginLayer");
  c.def_prop_ro("plugin_name", [](const PluginLayer& l) { return l.p.name; });
  c.def_prop_ro("plugin_version", [](const PluginLayer& l) { return l.p.version; });
  c.def_prop_rw(
      "fields", [](const PluginLayer& l) { return from_fields(l.p.fields); },
      [](PluginLayer& l, nb::handle v) {
        PluginFields old = l.p.fields;
        l.p.fields = to_fields(v);
        l.changed([&] { l.p.fields = old; });
      });
  net.def(
      "add_plugin",
      [](Network& n, const std::vector<Tensor*>& inputs, const std::string& name, nb::handle fields,
         const std::string& version) { return add_plugin(n, inputs, name, to_fields(fields), version); },
      nb::rv_policy::reference_internal, nb::arg("inputs"), nb::arg("name"), nb::arg("fields") = nb::bytes("", 0),
      nb::arg("version") = "1",
      "Adds a layer running the registered C++ plugin `name`; `fields` are its parameter bytes (docs/plugins.md)");
  m.def("load_plugin_library", &load_plugin_library, nb::arg("path"),
        "Loads a shared library built with T2T_PLUGIN_LIBRARY and registers its plugins; returns how many");
  m.def("registered_plugins", &registered_plugins, "(name, version) of every plugin registered in this process");
  m.def("deregister_plugin", &deregister_plugin, nb::arg("name"), nb::arg("version") = "1",
        "Removes a registered plugin; False when none has that name and version");
}

}  // namespace torch2trt::py
