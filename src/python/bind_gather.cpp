#include "python/bind.h"

namespace torch2trt::py {

void bind_Gather(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<GatherMode> e(m, "GatherMode");
  for (int i = 0; i < kNumGatherModes; ++i)
    e.value(gather_mode_name(static_cast<GatherMode>(i)), static_cast<GatherMode>(i));
  auto c = nb::class_<GatherLayer, Layer>(m, "IGatherLayer");
  prop<GatherLayer, int32_t>(c, "axis", [](const GatherLayer& l) { return l.p.axis; },
                             [](GatherLayer& l, int32_t v) { l.p.axis = v; });
  prop<GatherLayer, int32_t>(c, "num_elementwise_dims", [](const GatherLayer& l) { return l.p.num_elementwise_dims; },
                             [](GatherLayer& l, int32_t v) { l.p.num_elementwise_dims = v; });
  prop<GatherLayer, GatherMode>(c, "mode", [](const GatherLayer& l) { return l.p.mode; },
                                [](GatherLayer& l, GatherMode v) { l.p.mode = v; });
  net.def("add_gather",
          [](Network& n, Tensor* input, Tensor* indices, int32_t axis) { return add_gather(n, input, indices, axis); },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("indices"), nb::arg("axis"));
  net.def("add_gather_v2",
          [](Network& n, Tensor* input, Tensor* indices, GatherMode mode) {
            return add_gather_v2(n, input, indices, mode);
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("indices"), nb::arg("mode"));
}

void bind_Scatter(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<ScatterMode> e(m, "ScatterMode");
  for (int i = 0; i < kNumScatterModes; ++i)
    e.value(scatter_mode_name(static_cast<ScatterMode>(i)), static_cast<ScatterMode>(i));
  auto c = nb::class_<ScatterLayer, Layer>(m, "IScatterLayer");
  prop<ScatterLayer, int32_t>(c, "axis", [](const ScatterLayer& l) { return l.p.axis; },
                              [](ScatterLayer& l, int32_t v) { l.p.axis = v; });
  prop<ScatterLayer, ScatterMode>(c, "mode", [](const ScatterLayer& l) { return l.p.mode; },
                                  [](ScatterLayer& l, ScatterMode v) { l.p.mode = v; });
  net.def("add_scatter",
          [](Network& n, Tensor* data, Tensor* indices, Tensor* updates, ScatterMode mode) {
            return add_scatter(n, data, indices, updates, mode);
          },
          nb::rv_policy::reference_internal, nb::arg("data"), nb::arg("indices"), nb::arg("updates"), nb::arg("mode"));
}

}  // namespace torch2trt::py
