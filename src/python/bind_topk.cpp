#include "python/bind.h"

namespace torch2trt::py {

void bind_TopK(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<TopKOperation> e(m, "TopKOperation");
  for (int i = 0; i < kNumTopKOperations; ++i) {
    auto op = static_cast<TopKOperation>(i);
    e.value(topk_op_name(op), op);
  }
  auto c = nb::class_<TopKLayer, Layer>(m, "ITopKLayer");
  prop<TopKLayer, TopKOperation>(c, "op", [](const TopKLayer& l) { return l.p.op; },
                                 [](TopKLayer& l, TopKOperation v) { l.p.op = v; });
  prop<TopKLayer, int32_t>(c, "k", [](const TopKLayer& l) { return l.p.k; },
                           [](TopKLayer& l, int32_t v) { l.p.k = v; });
  prop<TopKLayer, uint32_t>(c, "axes", [](const TopKLayer& l) { return l.p.axes; },
                            [](TopKLayer& l, uint32_t v) { l.p.axes = v; });
  net.def("add_topk",
          [](Network& n, Tensor* input, TopKOperation op, int32_t k, uint32_t axes) {
            return add_topk(n, input, op, k, axes);
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("op"), nb::arg("k"), nb::arg("axes"));
}

}  // namespace torch2trt::py
