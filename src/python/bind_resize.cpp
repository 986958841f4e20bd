#include "python/bind.h"

namespace torch2trt::py {

void bind_Resize(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<InterpolationMode>(m, "InterpolationMode")
      .value("NEAREST", InterpolationMode::kNEAREST)
      .value("LINEAR", InterpolationMode::kLINEAR)
      .value("CUBIC", InterpolationMode::kCUBIC);
  m.attr("ResizeMode") = m.attr("InterpolationMode");  // TensorRT's older name for the same enum
  nb::enum_<ResizeCoordinateTransformation>(m, "ResizeCoordinateTransformation")
      .value("ALIGN_CORNERS", ResizeCoordinateTransformation::kALIGN_CORNERS)
      .value("ASYMMETRIC", ResizeCoordinateTransformation::kASYMMETRIC)
      .value("HALF_PIXEL", ResizeCoordinateTransformation::kHALF_PIXEL);
  nb::enum_<ResizeSelector>(m, "ResizeSelector")
      .value("FORMULA", ResizeSelector::kFORMULA)
      .value("UPPER", ResizeSelector::kUPPER);
  nb::enum_<ResizeRoundMode>(m, "ResizeRoundMode")
      .value("HALF_UP", ResizeRoundMode::kHALF_UP)
      .value("HALF_DOWN", ResizeRoundMode::kHALF_DOWN)
      .value("FLOOR", ResizeRoundMode::kFLOOR)
      .value("CEIL", ResizeRoundMode::kCEIL);

  auto c = nb::class_<ResizeLayer, Layer>(m, "IResizeLayer");
  // Setting `shape` clears `scales` and the reverse, as in TensorRT where the last one set wins.
  c.def_prop_rw(
      "shape", [](const ResizeLayer& l) { return from_dims(l.p.shape); },
      [](ResizeLayer& l, nb::handle v) {
        Dims d = to_dims(v, "IResizeLayer.shape");
        if (d.nb_dims == 0) throw InvalidArgument("IResizeLayer.shape: give one extent per input dim, got ()");
        auto old = l.p;
        l.p.shape = d;
        l.p.scales.clear();
        l.changed([&] { l.p = old; });
      });
  c.def_prop_rw(
      "scales", [](const ResizeLayer& l) { return l.p.scales; },
      [](ResizeLayer& l, nb::handle v) {
        if (!nb::hasattr(v, "__len__"))
          throw InvalidArgument("IResizeLayer.scales: expected a sequence of floats, one per input dim");
        std::vector<double> s;
        for (size_t i = 0, n = nb::len(v); i < n; ++i) {
          nb::object x = v[i];
          if (!nb::hasattr(x, "__float__"))
            throw InvalidArgument("IResizeLayer.scales: element " + std::to_string(i) + " is not a number");
          s.push_back(nb::cast<double>(x.attr("__float__")()));
        }
        if (s.empty()) throw InvalidArgument("IResizeLayer.scales: give one scale per input dim, got []");
        auto old = l.p;
        l.p.scales = s;
        l.p.shape = Dims();
        l.changed([&] { l.p = old; });
      });
  prop<ResizeLayer, InterpolationMode>(c, "resize_mode", [](const ResizeLayer& l) { return l.p.mode; },
                                       [](ResizeLayer& l, InterpolationMode v) { l.p.mode = v; });
  prop<ResizeLayer, ResizeCoordinateTransformation>(
      c, "coordinate_transformation", [](const ResizeLayer& l) { return l.p.coordinate_transformation; },
      [](ResizeLayer& l, ResizeCoordinateTransformation v) { l.p.coordinate_transformation = v; });
  prop<ResizeLayer, ResizeSelector>(c, "selector_for_single_pixel",
                                    [](const ResizeLayer& l) { return l.p.selector_for_single_pixel; },
                                    [](ResizeLayer& l, ResizeSelector v) { l.p.selector_for_single_pixel = v; });
  prop<ResizeLayer, ResizeRoundMode>(c, "nearest_rounding", [](const ResizeLayer& l) { return l.p.nearest_rounding; },
                                     [](ResizeLayer& l, ResizeRoundMode v) { l.p.nearest_rounding = v; });
  prop<ResizeLayer, float>(c, "cubic_coeff", [](const ResizeLayer& l) { return l.p.cubic_coeff; },
                           [](ResizeLayer& l, float v) { l.p.cubic_coeff = v; });
  prop<ResizeLayer, bool>(c, "exclude_outside", [](const ResizeLayer& l) { return l.p.exclude_outside; },
                          [](ResizeLayer& l, bool v) { l.p.exclude_outside = v; });
  // TensorRT 7's boolean, kept so old converters port: True is ALIGN_CORNERS, False is ASYMMETRIC.
  prop<ResizeLayer, bool>(
      c, "align_corners",
      [](const ResizeLayer& l) { return l.p.coordinate_transformation == ResizeCoordinateTransformation::kALIGN_CORNERS; },
      [](ResizeLayer& l, bool v) {
        l.p.coordinate_transformation =
            v ? ResizeCoordinateTransformation::kALIGN_CORNERS : ResizeCoordinateTransformation::kASYMMETRIC;
      });
  net.def("add_resize", [](Network& n, Tensor* input) { return add_resize(n, input); },
          nb::rv_policy::reference_internal, nb::arg("input"));
}

}  // namespace torch2trt::py
