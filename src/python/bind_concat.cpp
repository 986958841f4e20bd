#include "python/bind.h"

namespace torch2trt::py {

void bind_Concatenation(nb::module_& m, nb::class_<Network>& net) {
  auto c = nb::class_<ConcatenationLayer, Layer>(m, "IConcatenationLayer");
  prop<ConcatenationLayer, int32_t>(c, "axis", [](const ConcatenationLayer& l) { return l.p.axis; },
                                    [](ConcatenationLayer& l, int32_t v) { l.p.axis = v; });
  net.def("add_concatenation",
          [](Network& n, const std::vector<Tensor*>& inputs) { return add_concatenation(n, inputs); },
          nb::rv_policy::reference_internal, nb::arg("inputs"));
}

}  // namespace torch2trt::py
