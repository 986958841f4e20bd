#include "torch2trt/layers/activation.h"

namespace torch2trt {

const char* activation_type_name(ActivationType t) {
  switch (t) {
    case ActivationType::kRELU: return "RELU";
    case ActivationType::kSIGMOID: return "SIGMOID";
    case ActivationType::kTANH: return "TANH";
    case ActivationType::kLEAKY_RELU: return "LEAKY_RELU";
    case ActivationType::kELU: return "ELU";
    case ActivationType::kSELU: return "SELU";
    case ActivationType::kSOFTSIGN: return "SOFTSIGN";
    case ActivationType::kSOFTPLUS: return "SOFTPLUS";
    case ActivationType::kCLIP: return "CLIP";
    case ActivationType::kHARD_SIGMOID: return "HARD_SIGMOID";
    case ActivationType::kSCALED_TANH: return "SCALED_TANH";
    case ActivationType::kTHRESHOLDED_RELU: return "THRESHOLDED_RELU";
    case ActivationType::kGELU_ERF: return "GELU_ERF";
    case ActivationType::kGELU_TANH: return "GELU_TANH";
    case ActivationType::kSILU: return "SILU";
  }
  return "?";
}

std::vector<TensorDesc> ActivationLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1) fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  if (static_cast<int>(p.type) < 0 || static_cast<int>(p.type) >= kNumActivationTypes)
    fail("type", "unknown activation type " + std::to_string(static_cast<int>(p.type)));
  if (!is_floating(in[0].dtype))
    fail("input", std::string("activation ") + activation_type_name(p.type) + " needs a float tensor, got " +
                      dtype_name(in[0].dtype) + "; add a cast first");
  if (p.type == ActivationType::kSOFTPLUS && p.alpha == 0.f) fail("alpha", "SOFTPLUS needs a non-zero beta (alpha)");
  return {in[0]};
}

ActivationLayer* add_activation(Network& net, Tensor* input, ActivationType type) {
  auto l = std::make_unique<ActivationLayer>();
  l->p.type = type;
  // TensorRT's defaults for the parameterised types.
  switch (type) {
    case ActivationType::kLEAKY_RELU: l->p.alpha = 0.01f; break;
    case ActivationType::kELU: l->p.alpha = 1.f; break;
    case ActivationType::kSELU:
      l->p.alpha = 1.6732632423543772f;
      l->p.beta = 1.0507009873554805f;
      break;
    case ActivationType::kSOFTPLUS:
      l->p.alpha = 1.f;
      l->p.beta = 20.f;
      break;
    case ActivationType::kHARD_SIGMOID:
      l->p.alpha = 0.2f;
      l->p.beta = 0.5f;
      break;
    case ActivationType::kSCALED_TANH:
      l->p.alpha = 1.f;
      l->p.beta = 1.f;
      break;
    case ActivationType::kCLIP:
      l->p.alpha = 0.f;
      l->p.beta = 6.f;
      break;
    default: break;
  }
  return net.add(std::move(l), {input}, "add_activation");
}

}  // namespace torch2trt
