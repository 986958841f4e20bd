#include "python/bind.h"

namespace torch2trt::py {

void bind_Padding(nb::module_& m, nb::class_<Network>& net) {
  // An extension of TensorRT's padding layer: torch.nn.functional.pad's modes and fill value.
  nb::enum_<PadMode> e(m, "PadMode");
  for (int i = 0; i < kNumPadModes; ++i) e.value(pad_mode_name(static_cast<PadMode>(i)), static_cast<PadMode>(i));
  auto c = nb::class_<PaddingLayer, Layer>(m, "IPaddingLayer");
  prop<PaddingLayer, nb::object>(
      c, "pre_padding_nd", [](const PaddingLayer& l) -> nb::object { return from_dims(l.p.pre_padding); },
      [](PaddingLayer& l, nb::object v) { l.p.pre_padding = to_dims(v, "IPaddingLayer.pre_padding_nd"); });
  prop<PaddingLayer, nb::object>(
      c, "post_padding_nd", [](const PaddingLayer& l) -> nb::object { return from_dims(l.p.post_padding); },
      [](PaddingLayer& l, nb::object v) { l.p.post_padding = to_dims(v, "IPaddingLayer.post_padding_nd"); });
  prop<PaddingLayer, PadMode>(c, "mode", [](const PaddingLayer& l) { return l.p.mode; },
                              [](PaddingLayer& l, PadMode v) { l.p.mode = v; });
  prop<PaddingLayer, double>(c, "value", [](const PaddingLayer& l) { return l.p.value; },
                             [](PaddingLayer& l, double v) { l.p.value = v; });
  net.def("add_padding_nd",
          [](Network& n, Tensor* input, nb::handle pre, nb::handle post) {
            return add_padding_nd(n, input, to_dims(pre, "add_padding_nd pre_padding"),
                                  to_dims(post, "add_padding_nd post_padding"));
          },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("pre_padding"), nb::arg("post_padding"));
}

}  // namespace torch2trt::py
