#include "python/bind.h"

namespace torch2trt::py {

void bind_SoftMax(nb::module_& m, nb::class_<Network>& net) {
  auto c = nb::class_<SoftMaxLayer, Layer>(m, "ISoftMaxLayer");
  prop<SoftMaxLayer, uint32_t>(c, "axes", [](const SoftMaxLayer& l) { return l.p.axes; },
                               [](SoftMaxLayer& l, uint32_t v) { l.p.axes = v; });
  // Extension: log_softmax computed stably in one layer.
  prop<SoftMaxLayer, bool>(c, "log", [](const SoftMaxLayer& l) { return l.p.log; },
                           [](SoftMaxLayer& l, bool v) { l.p.log = v; });
  net.def("add_softmax", [](Network& n, Tensor* input) { return add_softmax(n, input); },
          nb::rv_policy::reference_internal, nb::arg("input"));
}

}  // namespace torch2trt::py
