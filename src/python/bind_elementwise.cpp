#include "python/bind.h"

namespace torch2trt::py {

void bind_ElementWise(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<ElementWiseOperation>(m, "ElementWiseOperation")
      .value("SUM", ElementWiseOperation::kSUM)
      .value("PROD", ElementWiseOperation::kPROD)
      .value("MAX", ElementWiseOperation::kMAX)
      .value("MIN", ElementWiseOperation::kMIN)
      .value("SUB", ElementWiseOperation::kSUB)
      .value("DIV", ElementWiseOperation::kDIV)
      .value("POW", ElementWiseOperation::kPOW)
      .value("FLOOR_DIV", ElementWiseOperation::kFLOOR_DIV)
      .value("AND", ElementWiseOperation::kAND)
      .value("OR", ElementWiseOperation::kOR)
      .value("XOR", ElementWiseOperation::kXOR)
      .value("EQUAL", ElementWiseOperation::kEQUAL)
      .value("GREATER", ElementWiseOperation::kGREATER)
      .value("LESS", ElementWiseOperation::kLESS);
  auto c = nb::class_<ElementWiseLayer, Layer>(m, "IElementWiseLayer");
  prop<ElementWiseLayer, ElementWiseOperation>(c, "op", [](const ElementWiseLayer& l) { return l.p.op; },
                                               [](ElementWiseLayer& l, ElementWiseOperation v) { l.p.op = v; });
  net.def("add_elementwise",
          [](Network& n, Tensor* a, Tensor* b, ElementWiseOperation op) { return add_elementwise(n, a, b, op); },
          nb::rv_policy::reference_internal, nb::arg("input1"), nb::arg("input2"), nb::arg("op"));
}

}  // namespace torch2trt::py
