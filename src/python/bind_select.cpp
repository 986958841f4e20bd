#include "python/bind.h"

namespace torch2trt::py {

void bind_Select(nb::module_& m, nb::class_<Network>& net) {
  nb::class_<SelectLayer, Layer>(m, "ISelectLayer");
  net.def("add_select",
          [](Network& n, Tensor* condition, Tensor* then_input, Tensor* else_input) {
            return add_select(n, condition, then_input, else_input);
          },
          nb::rv_policy::reference_internal, nb::arg("condition"), nb::arg("then_input"), nb::arg("else_input"));
}

}  // namespace torch2trt::py
