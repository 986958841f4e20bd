#include "python/bind.h"

namespace torch2trt::py {

void bind_Constant(nb::module_& m, nb::class_<Network>& net) {
  auto c = nb::class_<ConstantLayer, Layer>(m, "IConstantLayer");
  prop<ConstantLayer, nb::object>(c, "shape", [](const ConstantLayer& l) -> nb::object { return from_dims(l.p.shape); },
                                  [](ConstantLayer& l, nb::object v) {
                                    l.p.shape = to_dims(v, "IConstantLayer.shape");
                                  });
  prop<ConstantLayer, nb::object>(c, "weights", [](const ConstantLayer& l) { return nb::cast(l.p.weights); },
                                  [](ConstantLayer& l, nb::object v) {
                                    l.p.weights = to_weights(v, "IConstantLayer.weights");
                                  });
  net.def("add_constant",
          [](Network& n, nb::handle shape, nb::handle weights) {
            return add_constant(n, to_dims(shape, "add_constant shape"), to_weights(weights, "add_constant weights"));
          },
          nb::rv_policy::reference_internal, nb::arg("shape"), nb::arg("weights"));
}

}  // namespace torch2trt::py
