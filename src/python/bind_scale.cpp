#include "python/bind.h"

namespace torch2trt::py {

namespace {
// Weights attributes take anything to_weights() accepts and read back as trt.Weights.
template <Weights ScaleParams::*field>
void weights_prop(nb::class_<ScaleLayer, Layer>& c, const char* name) {
  c.def_prop_rw(
      name, [](const ScaleLayer& l) { return l.p.*field; },
      [name](ScaleLayer& l, nb::handle v) {
        Weights old = l.p.*field;
        l.p.*field = to_weights(v, name);
        l.changed([&] { l.p.*field = old; });
      });
}
}  // namespace

void bind_Scale(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<ScaleMode> e(m, "ScaleMode");
  for (int i = 0; i < kNumScaleModes; ++i) {
    auto mode = static_cast<ScaleMode>(i);
    e.value(scale_mode_name(mode), mode);
  }
  auto c = nb::class_<ScaleLayer, Layer>(m, "IScaleLayer");
  prop<ScaleLayer, ScaleMode>(c, "mode", [](const ScaleLayer& l) { return l.p.mode; },
                              [](ScaleLayer& l, ScaleMode v) { l.p.mode = v; });
  prop<ScaleLayer, int32_t>(c, "channel_axis", [](const ScaleLayer& l) { return l.p.channel_axis; },
                            [](ScaleLayer& l, int32_t v) { l.p.channel_axis = v; });
  weights_prop<&ScaleParams::shift>(c, "shift");
  weights_prop<&ScaleParams::scale>(c, "scale");
  weights_prop<&ScaleParams::power>(c, "power");
  net.def("add_scale",
          [](Network& n, Tensor* input, ScaleMode mode, nb::handle shift, nb::handle scale, nb::handle power) {
            return add_scale(n, input, mode, to_weights(shift, "shift"), to_weights(scale, "scale"),
                             to_weights(power, "power"));
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("mode"), nb::arg("shift").none() = nb::none(),
          nb::arg("scale").none() = nb::none(), nb::arg("power").none() = nb::none());
  net.def("add_scale_nd",
          [](Network& n, Tensor* input, ScaleMode mode, nb::handle shift, nb::handle scale, nb::handle power,
             int32_t channel_axis) {
            return add_scale_nd(n, input, mode, to_weights(shift, "shift"), to_weights(scale, "scale"),
                                to_weights(power, "power"), channel_axis);
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("mode"), nb::arg("shift").none() = nb::none(),
          nb::arg("scale").none() = nb::none(), nb::arg("power").none() = nb::none(), nb::arg("channel_axis"));
}

}  // namespace torch2trt::py
