#include "python/bind.h"

namespace torch2trt::py {

void bind_Normalization(nb::module_& m, nb::class_<Network>& net) {
  auto c = nb::class_<NormalizationLayer, Layer>(m, "INormalizationLayer");
  prop<NormalizationLayer, float>(c, "epsilon", [](const NormalizationLayer& l) { return l.p.epsilon; },
                                  [](NormalizationLayer& l, float v) { l.p.epsilon = v; });
  prop<NormalizationLayer, uint32_t>(c, "axes", [](const NormalizationLayer& l) { return l.p.axes; },
                                     [](NormalizationLayer& l, uint32_t v) { l.p.axes = v; });
  prop<NormalizationLayer, int32_t>(c, "num_groups", [](const NormalizationLayer& l) { return l.p.num_groups; },
                                    [](NormalizationLayer& l, int32_t v) { l.p.num_groups = v; });
  prop<NormalizationLayer, DataType>(c, "compute_precision",
                                     [](const NormalizationLayer& l) { return l.p.compute_precision; },
                                     [](NormalizationLayer& l, DataType v) { l.p.compute_precision = v; });
  net.def("add_normalization",
          [](Network& n, Tensor* input, Tensor* scale, Tensor* bias, uint32_t axes, int32_t num_groups) {
            return add_normalization(n, input, scale, bias, axes, num_groups);
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("scale"), nb::arg("bias"), nb::arg("axesMask"),
          nb::arg("num_groups") = 1,
          "TensorRT's add_normalization; num_groups (an extension) lets per-group scale/bias validate at once");
}

}  // namespace torch2trt::py
