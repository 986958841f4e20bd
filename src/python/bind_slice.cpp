#include "python/bind.h"

namespace torch2trt::py {

void bind_Slice(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<SampleMode> e(m, "SampleMode");
  for (int i = 0; i < kNumSampleModes; ++i)
    e.value(sample_mode_name(static_cast<SampleMode>(i)), static_cast<SampleMode>(i));
  e.attr("DEFAULT") = SampleMode::kSTRICT_BOUNDS;  // TensorRT's older name for STRICT_BOUNDS
  m.attr("SliceMode") = e;                         // TensorRT 8's name for the enum
  auto c = nb::class_<SliceLayer, Layer>(m, "ISliceLayer");
  prop<SliceLayer, nb::object>(c, "start", [](const SliceLayer& l) -> nb::object { return from_dims(l.p.start); },
                               [](SliceLayer& l, nb::object v) { l.p.start = to_dims(v, "ISliceLayer.start"); });
  prop<SliceLayer, nb::object>(c, "shape", [](const SliceLayer& l) -> nb::object { return from_dims(l.p.shape); },
                               [](SliceLayer& l, nb::object v) { l.p.shape = to_dims(v, "ISliceLayer.shape"); });
  prop<SliceLayer, nb::object>(c, "stride", [](const SliceLayer& l) -> nb::object { return from_dims(l.p.stride); },
                               [](SliceLayer& l, nb::object v) { l.p.stride = to_dims(v, "ISliceLayer.stride"); });
  prop<SliceLayer, SampleMode>(c, "mode", [](const SliceLayer& l) { return l.p.mode; },
                               [](SliceLayer& l, SampleMode v) { l.p.mode = v; });
  net.def("add_slice",
          [](Network& n, Tensor* input, nb::handle start, nb::handle shape, nb::handle stride) {
            return add_slice(n, input, to_dims(start, "add_slice start"), to_dims(shape, "add_slice shape"),
                             to_dims(stride, "add_slice stride"));
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("start"), nb::arg("shape"), nb::arg("stride"));
}

}  // namespace torch2trt::py
