// Activation layer (TensorRT's IActivationLayer): y = f(x; alpha, beta) elementwise.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Activation functions; numeric values follow TensorRT's ActivationType where it has them.
enum class ActivationType : int32_t {
  kRELU = 0,
  kSIGMOID = 1,
  kTANH = 2,
  kLEAKY_RELU = 3,       ///< x >= 0 ? x : alpha * x
  kELU = 4,              ///< x >= 0 ? x : alpha * (exp(x) - 1)
  kSELU = 5,             ///< beta * (x >= 0 ? x : alpha * (exp(x) - 1))
  kSOFTSIGN = 6,         ///< x / (1 + |x|)
  kSOFTPLUS = 7,         ///< PyTorch semantics: x * alpha > beta ? x : log(1 + exp(alpha * x)) / alpha (alpha = beta_torch, beta = threshold)
  kCLIP = 8,             ///< clamp(x, alpha, beta)
  kHARD_SIGMOID = 9,     ///< clamp(alpha * x + beta, 0, 1)
  kSCALED_TANH = 10,     ///< alpha * tanh(beta * x)
  kTHRESHOLDED_RELU = 11,///< x > alpha ? x : 0
  kGELU_ERF = 12,        ///< 0.5 x (1 + erf(x / sqrt 2))
  kGELU_TANH = 13,       ///< 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  kSILU = 14,            ///< extension (TensorRT has none): x * sigmoid(x) = x / (1 + exp(-x)), also called swish
};
constexpr int kNumActivationTypes = 15;
const char* activation_type_name(ActivationType t);

/// Parameters of an activation layer.
struct ActivationParams {
  ActivationType type = ActivationType::kRELU;
  float alpha = 0.f;
  float beta = 0.f;
};

/// y = f(x): output has the input's shape and type (float types only).
class ActivationLayer : public Layer {
 public:
  ActivationLayer() : Layer(LayerKind::kActivation) {}
  ActivationParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.type, p.alpha, p.beta)
};

/// Adds an activation; alpha/beta default to TensorRT's defaults for the type.
ActivationLayer* add_activation(Network& net, Tensor* input, ActivationType type);

}  // namespace torch2trt
