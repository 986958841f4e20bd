#include "python/bind.h"

namespace torch2trt::py {

void bind_Unary(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<UnaryOperation> e(m, "UnaryOperation");
  for (int i = 0; i < kNumUnaryOperations; ++i) {
    auto op = static_cast<UnaryOperation>(i);
    e.value(unary_op_name(op), op);
  }
  auto c = nb::class_<UnaryLayer, Layer>(m, "IUnaryLayer");
  prop<UnaryLayer, UnaryOperation>(c, "op", [](const UnaryLayer& l) { return l.p.op; },
                                   [](UnaryLayer& l, UnaryOperation v) { l.p.op = v; });
  net.def("add_unary", [](Network& n, Tensor* input, UnaryOperation op) { return add_unary(n, input, op); },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("op"));
}

}  // namespace torch2trt::py
