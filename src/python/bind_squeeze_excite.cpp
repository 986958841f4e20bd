#include "python/bind.h"

namespace torch2trt::py {

void bind_SqueezeExcite(nb::module_& m, nb::class_<Network>& net) {
  auto c = nb::class_<SqueezeExciteLayer, Layer>(
      m, "ISqueezeExciteLayer",
      "Squeeze-excitation gate act2(W2 act1(W1 mean(x) + b1) + b2), (N, C, 1, ...) (made by the builder or added)");
  // Read-only: the weights and widths are validated together when the layer is added.
  c.def_prop_ro("squeeze_channels", [](const SqueezeExciteLayer& l) { return l.p.squeeze_channels; });
  c.def_prop_ro("w1", [](const SqueezeExciteLayer& l) { return l.p.w1; });
  c.def_prop_ro("b1", [](const SqueezeExciteLayer& l) { return l.p.b1; });
  c.def_prop_ro("w2", [](const SqueezeExciteLayer& l) { return l.p.w2; });
  c.def_prop_ro("b2", [](const SqueezeExciteLayer& l) { return l.p.b2; });
  c.def_prop_ro("act1", [](const SqueezeExciteLayer& l) -> nb::object {
    return l.p.has_act1 ? nb::cast(l.p.act1.type) : nb::none();
  }, "The hidden layer's activation type, or None");
  c.def_prop_ro("act2", [](const SqueezeExciteLayer& l) -> nb::object {
    return l.p.has_act2 ? nb::cast(l.p.act2.type) : nb::none();
  }, "The gate's activation type, or None");
  c.def_prop_ro("channels_last", [](const SqueezeExciteLayer& l) { return l.p.channels_last; },
                "True when the GPU layout pass made the input (N, *spatial, C)");
  net.def(
      "add_squeeze_excite",
      [](Network& n, Tensor* input, nb::handle w1, nb::handle w2, nb::handle b1, nb::handle b2, nb::object act1,
         nb::object act2, float act1_alpha, float act1_beta, float act2_alpha, float act2_beta, int64_t squeeze) {
        SqueezeExciteParams p;
        p.w1 = to_weights(w1, "add_squeeze_excite w1");
        p.w2 = to_weights(w2, "add_squeeze_excite w2");
        if (!b1.is_none()) p.b1 = to_weights(b1, "add_squeeze_excite b1");
        if (!b2.is_none()) p.b2 = to_weights(b2, "add_squeeze_excite b2");
        // W1 is (S, C): S from its size and x's channels unless given (needed when C is known only at run time).
        const Dims& x = input->dims();
        const int64_t ch = x.nb_dims >= 2 ? x.d[1] : -1;
        if (squeeze > 0)
          p.squeeze_channels = squeeze;
        else if (ch > 0 && p.w1.count % ch == 0)
          p.squeeze_channels = p.w1.count / ch;
        else
          throw InvalidArgument("add_squeeze_excite: squeeze_channels cannot be derived: w1 holds " +
                                std::to_string(p.w1.count) + " values and the input " + x.str() +
                                " has no known channel count dividing it; pass squeeze_channels=S");
        if (!act1.is_none()) p.has_act1 = true, p.act1 = {nb::cast<ActivationType>(act1), act1_alpha, act1_beta};
        if (!act2.is_none()) p.has_act2 = true, p.act2 = {nb::cast<ActivationType>(act2), act2_alpha, act2_beta};
        return add_squeeze_excite(n, input, p);
      },
      nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("w1"), nb::arg("w2"), nb::arg("b1").none() = nb::none(),
      nb::arg("b2").none() = nb::none(), nb::arg("act1").none() = nb::none(), nb::arg("act2").none() = nb::none(),
      nb::arg("act1_alpha") = 0.f, nb::arg("act1_beta") = 0.f, nb::arg("act2_alpha") = 0.f, nb::arg("act2_beta") = 0.f,
      nb::arg("squeeze_channels") = 0,
      "Squeeze-excitation gate of input (N, C, *spatial): act2(w2 @ act1(w1 @ mean(x) + b1) + b2) as (N, C, 1, ...). "
      "w1: (S, C) weights, w2: (C, S); b1, b2 optional; act1/act2: ActivationType or None; "
      "squeeze_channels: S (default: w1's size over C).");
}

}  // namespace torch2trt::py
