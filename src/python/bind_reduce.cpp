#include "python/bind.h"

namespace torch2trt::py {

void bind_Reduce(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<ReduceOperation> e(m, "ReduceOperation");
  for (int i = 0; i < kNumReduceOperations; ++i) {
    auto op = static_cast<ReduceOperation>(i);
    e.value(reduce_op_name(op), op);
  }
  auto c = nb::class_<ReduceLayer, Layer>(m, "IReduceLayer");
  prop<ReduceLayer, ReduceOperation>(c, "op", [](const ReduceLayer& l) { return l.p.op; },
                                     [](ReduceLayer& l, ReduceOperation v) { l.p.op = v; });
  prop<ReduceLayer, uint32_t>(c, "axes", [](const ReduceLayer& l) { return l.p.axes; },
                              [](ReduceLayer& l, uint32_t v) { l.p.axes = v; });
  prop<ReduceLayer, bool>(c, "keep_dims", [](const ReduceLayer& l) { return l.p.keep_dims; },
                          [](ReduceLayer& l, bool v) { l.p.keep_dims = v; });
  net.def("add_reduce",
          [](Network& n, Tensor* input, ReduceOperation op, uint32_t axes, bool keep_dims) {
            return add_reduce(n, input, op, axes, keep_dims);
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("op"), nb::arg("axes"), nb::arg("keep_dims"));
}

}  // namespace torch2trt::py
