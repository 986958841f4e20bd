// Python properties shared by the window layers (convolution, deconvolution, pooling): per-spatial-dimension
// lists as tuples, the symmetric padding_nd, and PaddingMode.
#pragma once

#include <string>

#include "python/bind.h"

namespace torch2trt::py {

/// A read-write tuple property over the Dims field `f` of a layer's params; a rejected value is undone.
template <class L, class P>
void dims_prop(nb::class_<L, Layer>& c, const char* name, Dims P::*f) {
  std::string what = nb::cast<std::string>(c.attr("__name__")) + "." + name;
  c.def_prop_rw(
      name, [f](const L& l) { return from_dims(l.p.*f); },
      [f, what](L& l, nb::handle v) {
        Dims d = to_dims(v, what.c_str());
        Dims old = l.p.*f;
        l.p.*f = d;
        l.changed([&] { l.p.*f = old; });
      });
}

/// TensorRT's padding_nd: reads the pre padding, sets pre and post padding together.
template <class L>
void symmetric_padding_prop(nb::class_<L, Layer>& c, const char* name) {
  std::string what = nb::cast<std::string>(c.attr("__name__")) + "." + name;
  c.def_prop_rw(
      name, [](const L& l) { return from_dims(l.p.pre_padding); },
      [what](L& l, nb::handle v) {
        Dims d = to_dims(v, what.c_str());
        Dims pre = l.p.pre_padding, post = l.p.post_padding;
        l.p.pre_padding = l.p.post_padding = d;
        l.changed([&] { l.p.pre_padding = pre, l.p.post_padding = post; });
      });
}

/// Registers PaddingMode once (convolution and pooling both use it).
void bind_padding_mode(nb::module_& m);

}  // namespace torch2trt::py
