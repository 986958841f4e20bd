#include "python/bind.h"

namespace torch2trt::py {

void bind_Activation(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<ActivationType>(m, "ActivationType")
      .value("RELU", ActivationType::kRELU)
      .value("SIGMOID", ActivationType::kSIGMOID)
      .value("TANH", ActivationType::kTANH)
      .value("LEAKY_RELU", ActivationType::kLEAKY_RELU)
      .value("ELU", ActivationType::kELU)
      .value("SELU", ActivationType::kSELU)
      .value("SOFTSIGN", ActivationType::kSOFTSIGN)
      .value("SOFTPLUS", ActivationType::kSOFTPLUS)
      .value("CLIP", ActivationType::kCLIP)
      .value("HARD_SIGMOID", ActivationType::kHARD_SIGMOID)
      .value("SCALED_TANH", ActivationType::kSCALED_TANH)
      .value("THRESHOLDED_RELU", ActivationType::kTHRESHOLDED_RELU)
      .value("GELU_ERF", ActivationType::kGELU_ERF)
      .value("GELU_TANH", ActivationType::kGELU_TANH)
      .value("SILU", ActivationType::kSILU);
  auto c = nb::class_<ActivationLayer, Layer>(m, "IActivationLayer");
  prop<ActivationLayer, ActivationType>(c, "type", [](const ActivationLayer& l) { return l.p.type; },
                                        [](ActivationLayer& l, ActivationType v) { l.p.type = v; });
  prop<ActivationLayer, float>(c, "alpha", [](const ActivationLayer& l) { return l.p.alpha; },
                               [](ActivationLayer& l, float v) { l.p.alpha = v; });
  prop<ActivationLayer, float>(c, "beta", [](const ActivationLayer& l) { return l.p.beta; },
                               [](ActivationLayer& l, float v) { l.p.beta = v; });
  net.def("add_activation", [](Network& n, Tensor* input, ActivationType type) { return add_activation(n, input, type); },
          nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("type"));
}

}  // namespace torch2trt::py
