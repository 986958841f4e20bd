#include "torch2trt/layers/scale.h"

namespace torch2trt {

const char* scale_mode_name(ScaleMode m) {
  switch (m) {
    case ScaleMode::kUNIFORM: return "UNIFORM";
    case ScaleMode::kCHANNEL: return "CHANNEL";
    case ScaleMode::kELEMENTWISE: return "ELEMENTWISE";
  }
  return "?";
}

int64_t ScaleLayer::weights_count(const Dims& d) const {
  if (p.mode != ScaleMode::kUNIFORM && (p.channel_axis < 0 || p.channel_axis >= d.nb_dims)) return -1;
  switch (p.mode) {
    case ScaleMode::kUNIFORM: return 1;
    case ScaleMode::kCHANNEL: return d.d[p.channel_axis];
    case ScaleMode::kELEMENTWISE: {
      int64_t n = 1;
      for (int i = p.channel_axis; i < d.nb_dims; ++i) {
        if (d.d[i] < 0) return -1;
        n *= d.d[i];
      }
      return n;
    }
  }
  return -1;
}

std::vector<TensorDesc> ScaleLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1) fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  if (in[0].dims.nb_dims < 0) fail("input", "the input is not set");
  if (static_cast<int>(p.mode) < 0 || static_cast<int>(p.mode) >= kNumScaleModes)
    fail("mode", "unknown scale mode " + std::to_string(static_cast<int>(p.mode)));
  if (!is_floating(in[0].dtype))
    fail("input", std::string("scale needs a float tensor, got ") + dtype_name(in[0].dtype) + "; add a cast first");
  const Dims& d = in[0].dims;
  if (p.mode != ScaleMode::kUNIFORM && (p.channel_axis < 0 || p.channel_axis >= d.nb_dims))
    fail("channel_axis", std::to_string(p.channel_axis) + " is not a dimension of the input of shape " + d.str() +
                             " (" + scale_mode_name(p.mode) + " mode needs 0 <= channel_axis < " +
                             std::to_string(d.nb_dims) + ")");
  int64_t want = weights_count(d);
  const std::pair<const char*, const Weights*> arrays[] = {{"shift", &p.shift}, {"scale", &p.scale}, {"power", &p.power}};
  for (auto& [name, w] : arrays) {
    if (w->empty()) continue;
    if (!is_floating(w->dtype))
      fail(name, std::string("weights must be float32, float16 or bfloat16, got ") + dtype_name(w->dtype));
    if (want >= 0 && w->count != want) {
      std::string why = p.mode == ScaleMode::kUNIFORM ? "UNIFORM mode takes 1 value"
                        : p.mode == ScaleMode::kCHANNEL
                            ? "CHANNEL mode takes one value per channel: extent of axis " + std::to_string(p.channel_axis)
                            : "ELEMENTWISE mode takes one value per element of the dims from axis " +
                                  std::to_string(p.channel_axis) + " on";
      fail(name, why + " of input shape " + d.str() + ", which is " + std::to_string(want) + "; got " +
                     std::to_string(w->count) + " values");
    }
  }
  return {in[0]};
}

namespace {
ScaleLayer* add(Network& net, Tensor* input, ScaleMode mode, const Weights& shift, const Weights& scale,
                const Weights& power, int32_t channel_axis, const char* what) {
  auto l = std::make_unique<ScaleLayer>();
  l->p.mode = mode;
  l->p.shift = shift;
  l->p.scale = scale;
  l->p.power = power;
  l->p.channel_axis = channel_axis;
  return net.add(std::move(l), {input}, what);
}
}  // namespace

ScaleLayer* add_scale_nd(Network& net, Tensor* input, ScaleMode mode, const Weights& shift, const Weights& scale,
                         const Weights& power, int32_t channel_axis) {
  return add(net, input, mode, shift, scale, power, channel_axis, "add_scale_nd");
}

ScaleLayer* add_scale(Network& net, Tensor* input, ScaleMode mode, const Weights& shift, const Weights& scale,
                      const Weights& power) {
  return add(net, input, mode, shift, scale, power, 1, "add_scale");
}

}  // namespace torch2trt
