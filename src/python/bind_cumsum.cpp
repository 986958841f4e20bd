#include "python/bind.h"

namespace torch2trt::py {

void bind_CumulativeSum(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<CumulativeOperation> e(m, "CumulativeOperation");
  for (int i = 0; i < kNumCumulativeOperations; ++i) {
    auto op = static_cast<CumulativeOperation>(i);
    e.value(cumulative_op_name(op), op);
  }
  auto c = nb::class_<CumulativeSumLayer, Layer>(m, "ICumulativeLayer");
  prop<CumulativeSumLayer, int32_t>(c, "axis", [](const CumulativeSumLayer& l) { return l.p.axis; },
                                    [](CumulativeSumLayer& l, int32_t v) { l.p.axis = v; });
  prop<CumulativeSumLayer, CumulativeOperation>(c, "op", [](const CumulativeSumLayer& l) { return l.p.op; },
                                                [](CumulativeSumLayer& l, CumulativeOperation v) { l.p.op = v; });
  prop<CumulativeSumLayer, bool>(c, "exclusive", [](const CumulativeSumLayer& l) { return l.p.exclusive; },
                                 [](CumulativeSumLayer& l, bool v) { l.p.exclusive = v; });
  prop<CumulativeSumLayer, bool>(c, "reverse", [](const CumulativeSumLayer& l) { return l.p.reverse; },
                                 [](CumulativeSumLayer& l, bool v) { l.p.reverse = v; });
  net.def("add_cumulative",
          [](Network& n, Tensor* input, nb::handle axis, CumulativeOperation op, bool exclusive, bool reverse) {
            // TensorRT passes the axis as a 0-D constant tensor; a plain int is accepted too.
            if (nb::isinstance<Tensor>(axis))
              return add_cumulative(n, input, nb::cast<Tensor*>(axis), op, exclusive, reverse);
            if (!nb::hasattr(axis, "__index__"))
              throw InvalidArgument("add_cumulative: axis: expected an int or an ITensor made by add_constant, got " +
                                    nb::cast<std::string>(nb::str(axis.type().attr("__name__"))));
            return add_cumulative(n, input, nb::cast<int32_t>(axis.attr("__index__")()), op, exclusive, reverse);
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("axis"), nb::arg("op"), nb::arg("exclusive"),
          nb::arg("reverse"));
}

}  // namespace torch2trt::py
