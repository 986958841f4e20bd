#include <gtest/gtest.h>

#include <cmath>

#include "harness.h"

namespace t2t_test {
namespace {

double ref_activation(ActivationType t, double x, double a, double b) {
  switch (t) {
    case ActivationType::kRELU: return x > 0 ? x : 0;
    case ActivationType::kSIGMOID: return 1 / (1 + std::exp(-x));
    case ActivationType::kTANH: return std::tanh(x);
    case ActivationType::kLEAKY_RELU: return x >= 0 ? x : a * x;
    case ActivationType::kELU: return x >= 0 ? x : a * (std::exp(x) - 1);
    case ActivationType::kSELU: return b * (x >= 0 ? x : a * (std::exp(x) - 1));
    case ActivationType::kSOFTSIGN: return x / (1 + std::fabs(x));
    case ActivationType::kSOFTPLUS: return a * x > b ? x : std::log(1 + std::exp(a * x)) / a;
    case ActivationType::kCLIP: return std::min(std::max(x, a), b);
    case ActivationType::kHARD_SIGMOID: return std::min(std::max(a * x + b, 0.0), 1.0);
    case ActivationType::kSCALED_TANH: return a * std::tanh(b * x);
    case ActivationType::kTHRESHOLDED_RELU: return x > a ? x : 0;
    case ActivationType::kGELU_ERF: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case ActivationType::kGELU_TANH:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case ActivationType::kSILU: return x / (1 + std::exp(-x));  // -inf: NaN, as torch.silu
  }
  return NAN;
}

struct Variant {
  ActivationType t;
  float alpha, beta;
  bool set;  // false: keep add_activation's defaults
};

TEST(Activation, AllTypesMatchReference) {
  std::vector<Variant> vs;
  for (int t = 0; t < kNumActivationTypes; ++t) vs.push_back({static_cast<ActivationType>(t), 0, 0, false});
  vs.push_back({ActivationType::kLEAKY_RELU, 0.2f, 0, true});
  vs.push_back({ActivationType::kSOFTPLUS, 2.0f, 3.0f, true});  // torch Softplus(beta=2, threshold=3)
  vs.push_back({ActivationType::kCLIP, -0.5f, 0.75f, true});
  vs.push_back({ActivationType::kTHRESHOLDED_RELU, 0.3f, 0, true});
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    for (auto v : vs) {
      OpCase c;
      c.variant = std::string(activation_type_name(v.t)) + (v.set ? "_params" : "");
      c.inputs = {{dt, Dims{2, 3, 17}}};
      c.lo = -4, c.hi = 4;
      auto params = std::make_shared<ActivationParams>();
      c.build = [v, params](Network& n, const std::vector<Tensor*>& in) {
        auto* l = add_activation(n, in[0], v.t);
        if (v.set) l->p.alpha = v.alpha, l->p.beta = v.beta;
        *params = l->p;
        return std::vector<Tensor*>{l->output(0)};
      };
      c.reference = [params, v](const std::vector<HostTensor>& in) {
        ActivationParams p = *params;
        return std::vector<HostTensor>{
            map(in[0], [&](double x) { return ref_activation(v.t, x, p.alpha, p.beta); }, in[0].dtype)};
      };
      check_op(LayerKind::kActivation, c);
    }
  }
}

// SiLU where exp(-x) overflows or underflows in the compute type: no NaN or inf but at -inf (NaN in torch
// too), the tail for large negative x stays accurate rather than flushing early, and +inf stays inf. The
// values are exact in float16 and bfloat16 so every dtype sees the same inputs.
TEST(Activation, SiluAtLargeMagnitudes) {
  const double inf = INFINITY;
  const std::vector<std::pair<std::string, std::vector<double>>> sets = {
      {"extremes", {-inf, -8192, -1024, -96, -89, -88, -64, -48, 0, 48, 64, 88, 89, 96, 1024, 8192, inf, NAN}},
      {"negative_tail", {-8, -10, -12, -14, -16, -20, -24, -30}},
  };
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    for (auto& [name, values] : sets) {
      OpCase c;
      c.variant = "SILU_" + name;
      c.inputs = {{dt, Dims{static_cast<int64_t>(values.size())}}};
      c.fixed = {values};
      c.build = [](Network& n, const std::vector<Tensor*>& in) {
        return std::vector<Tensor*>{add_activation(n, in[0], ActivationType::kSILU)->output(0)};
      };
      c.reference = [](const std::vector<HostTensor>& in) {
        return std::vector<HostTensor>{
            map(in[0], [](double x) { return ref_activation(ActivationType::kSILU, x, 0, 0); }, in[0].dtype)};
      };
      check_op(LayerKind::kActivation, c);
    }
  }
}

TEST(Activation, RejectsIntegerInput) {
  Network n;
  auto* x = n.add_input("x", DataType::kINT32, Dims{4});
  EXPECT_THROW(add_activation(n, x, ActivationType::kRELU), InvalidArgument);
  EXPECT_EQ(n.num_layers(), 0);
}

}  // namespace
}  // namespace t2t_test
