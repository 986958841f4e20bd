#include "python/bind_window.h"

namespace torch2trt::py {

void bind_Pooling(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<PoolingType>(m, "PoolingType")
      .value("MAX", PoolingType::kMAX)
      .value("AVERAGE", PoolingType::kAVERAGE)
      .value("MAX_AVERAGE_BLEND", PoolingType::kMAX_AVERAGE_BLEND);
  auto c = nb::class_<PoolingLayer, Layer>(m, "IPoolingLayer");
  using P = PoolingParams;
  // TensorRT's names, plus the legacy 2-D ones, which here read and write the same fields.
  for (const char* n : {"window_size_nd", "window_size"}) dims_prop<PoolingLayer, P>(c, n, &P::window_size);
  for (const char* n : {"stride_nd", "stride"}) dims_prop<PoolingLayer, P>(c, n, &P::stride);
  for (const char* n : {"padding_nd", "padding"}) symmetric_padding_prop<PoolingLayer>(c, n);
  dims_prop<PoolingLayer, P>(c, "pre_padding", &P::pre_padding);
  dims_prop<PoolingLayer, P>(c, "post_padding", &P::post_padding);
  // Extensions: torch max_pool's dilation, and the output size of adaptive pooling.
  dims_prop<PoolingLayer, P>(c, "dilation_nd", &P::dilation);
  dims_prop<PoolingLayer, P>(c, "output_size_nd", &P::output_size);
  c.def_prop_ro("is_adaptive", [](const PoolingLayer& l) { return l.p.adaptive; },
                "True for layers made by add_adaptive_pooling_nd");
  prop<PoolingLayer, PoolingType>(c, "type", [](const PoolingLayer& l) { return l.p.type; },
                                  [](PoolingLayer& l, PoolingType v) { l.p.type = v; });
  prop<PoolingLayer, PaddingMode>(c, "padding_mode", [](const PoolingLayer& l) { return l.p.padding_mode; },
                                  [](PoolingLayer& l, PaddingMode v) { l.p.padding_mode = v; });
  prop<PoolingLayer, bool>(c, "average_count_excludes_padding",
                           [](const PoolingLayer& l) { return l.p.average_count_excludes_padding; },
                           [](PoolingLayer& l, bool v) { l.p.average_count_excludes_padding = v; });
  prop<PoolingLayer, float>(c, "blend_factor", [](const PoolingLayer& l) { return l.p.blend_factor; },
                            [](PoolingLayer& l, float v) { l.p.blend_factor = v; });
  net.def(
      "add_pooling_nd",
      [](Network& n, Tensor* input, PoolingType type, nb::handle window_size) {
        return add_pooling_nd(n, input, type, to_dims(window_size, "add_pooling_nd window_size"));
      },
      nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("type"), nb::arg("window_size"),
      "Pooling over the last 1-3 dims; stride defaults to the window, padding to 0. An input smaller than "
      "the window is accepted until padding set afterwards makes it valid (output extents read -1 meanwhile)");
  net.def(
      "add_pooling",
      [](Network& n, Tensor* input, PoolingType type, nb::handle window_size) {
        Dims w = to_dims(window_size, "add_pooling window_size");
        if (w.nb_dims != 2)
          throw InvalidArgument("add_pooling: window_size must have 2 extents (the legacy 2-D call), got " + w.str() +
                                "; use add_pooling_nd for other ranks");
        return add_pooling_nd(n, input, type, w);
      },
      nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("type"), nb::arg("window_size"),
      "Legacy 2-D form of add_pooling_nd");
  net.def(
      "add_adaptive_pooling_nd",
      [](Network& n, Tensor* input, PoolingType type, nb::handle output_size) {
        return add_adaptive_pooling_nd(n, input, type, to_dims(output_size, "add_adaptive_pooling_nd output_size"));
      },
      nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("type"), nb::arg("output_size"),
      "Extension: torch adaptive_{avg,max}_pool{1,2,3}d over the last len(output_size) dims "
      "(windows start = floor(i*in/out), end = ceil((i+1)*in/out))");
}

}  // namespace torch2trt::py
