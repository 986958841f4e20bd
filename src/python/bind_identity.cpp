#include "python/bind.h"

namespace torch2trt::py {

void bind_Identity(nb::module_& m, nb::class_<Network>& net) {
  nb::class_<IdentityLayer, Layer>(m, "IIdentityLayer");
  net.def("add_identity", [](Network& n, Tensor* input) { return add_identity(n, input); },
          nb::rv_policy::reference_internal, nb::arg("input"));
}

void bind_Cast(nb::module_& m, nb::class_<Network>& net) {
  auto c = nb::class_<CastLayer, Layer>(m, "ICastLayer");
  prop<CastLayer, DataType>(c, "to_type", [](const CastLayer& l) { return l.p.to_type; },
                            [](CastLayer& l, DataType v) { l.p.to_type = v; });
  net.def("add_cast", [](Network& n, Tensor* input, DataType to_type) { return add_cast(n, input, to_type); },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("to_type"));
}

}  // namespace torch2trt::py
