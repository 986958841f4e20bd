#include "torch2trt/layers/squeeze_excite.h"

#include <string>

namespace torch2trt {
namespace {

void check_weights(const Layer& l, const char* arg, const Weights& w, int64_t expected, const std::string& shape,
                   bool optional) {
  if (w.empty()) {
    if (optional) return;
    l.fail(arg, "is required: " + shape + " values");
  }
  if (!is_floating(w.dtype))
    l.fail(arg, std::string("weights must be float32, float16 or bfloat16, got ") + dtype_name(w.dtype));
  if (expected >= 0 && w.count != expected)
    l.fail(arg, "expected " + shape + " = " + std::to_string(expected) + " values, got " + std::to_string(w.count));
}

// A fused activation valid for float values: the activation layer's own rule decides, so both agree.
void check_activation(const Layer& l, const char* arg, bool has, const ActivationParams& a) {
  if (!has) return;
  ActivationLayer act;
  act.p = a;
  act.set_name(l.name() + "." + arg);
  try {
    act.infer({TensorDesc{DataType::kFLOAT, Dims{1}}});
  } catch (const InvalidArgument& e) {
    l.fail(arg, std::string("the fused activation is invalid: ") + e.what());
  }
}

}  // namespace

void SqueezeExciteLayer::geometry(const Dims& x, int64_t* n, int64_t* c, int64_t* spatial) const {
  const int r = x.nb_dims;
  *n = x.d[0];
  *c = p.channels_last ? x.d[r - 1] : x.d[1];
  *spatial = 1;
  for (int i = 0; i < r; ++i)
    if (i != 0 && i != (p.channels_last ? r - 1 : 1)) *spatial *= x.d[i];
}

std::vector<TensorDesc> SqueezeExciteLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1) fail("inputs", "expects 1 input (x), got " + std::to_string(in.size()));
  const TensorDesc& x = in[0];
  if (!is_floating(x.dtype))
    fail("input", std::string("needs a float tensor, got ") + dtype_name(x.dtype) + "; add a cast first");
  const int r = x.dims.nb_dims;
  if (r < 3 || r > 5)
    fail("input", std::string("needs (N, C, *spatial) with 1 to 3 spatial dims") +
                      (p.channels_last ? " (stored channels-last)" : "") + ", got " + x.dims.str());
  const int64_t c = p.channels_last ? x.dims.d[r - 1] : x.dims.d[1];
  if (p.squeeze_channels < 1) fail("squeeze_channels", "must be >= 1, got " + std::to_string(p.squeeze_channels));
  const int64_t s = p.squeeze_channels;
  const std::string sc = "squeeze_channels x C (" + std::to_string(s) + " x " + std::to_string(c) + ")";
  check_weights(*this, "w1", p.w1, c < 0 ? -1 : s * c, sc, false);
  check_weights(*this, "b1", p.b1, s, "squeeze_channels", true);
  check_weights(*this, "w2", p.w2, c < 0 ? -1 : s * c, "C x squeeze_channels", false);
  check_weights(*this, "b2", p.b2, c < 0 ? -1 : c, "C", true);
  if (c < 0 && p.w1.count % s != 0)
    fail("w1", "holds " + std::to_string(p.w1.count) + " values, not a multiple of squeeze_channels " + std::to_string(s));
  check_activation(*this, "act1", p.has_act1, p.act1);
  check_activation(*this, "act2", p.has_act2, p.act2);
  if (p.apply_to_input) return {x};
  Dims out;
  out.nb_dims = r;
  for (int i = 0; i < r; ++i) out.d[i] = 1;
  out.d[0] = x.dims.d[0];
  out.d[1] = c < 0 ? p.w1.count / s : c;
  return {TensorDesc{x.dtype, out}};
}

SqueezeExciteLayer* add_squeeze_excite(Network& net, Tensor* input, const SqueezeExciteParams& params) {
  auto l = std::make_unique<SqueezeExciteLayer>();
  l->p = params;
  return net.add(std::move(l), {input}, "add_squeeze_excite");
}

}  // namespace torch2trt
