#include "torch2trt/layers/padding.h"

#include <cmath>
#include <cstdlib>

namespace torch2trt {

const char* pad_mode_name(PadMode m) {
  switch (m) {
    case PadMode::kCONSTANT: return "CONSTANT";
    case PadMode::kREFLECT: return "REFLECT";
    case PadMode::kREPLICATE: return "REPLICATE";
    case PadMode::kCIRCULAR: return "CIRCULAR";
  }
  return "?";
}

int64_t pad_source(PadMode mode, int64_t o, int64_t pre, int64_t post, int64_t n) {
  // Crop first, then pad the window [lo, lo + m) that remains.
  int64_t lo = pre < 0 ? -pre : 0, m = n - lo - (post < 0 ? -post : 0);
  int64_t i = o - (pre > 0 ? pre : 0);  // coordinate within the window
  if (i >= 0 && i < m) return lo + i;
  if (m <= 0) return -1;
  switch (mode) {
    case PadMode::kCONSTANT: return -1;
    case PadMode::kREFLECT: return lo + (i < 0 ? -i : 2 * (m - 1) - i);
    case PadMode::kREPLICATE: return lo + (i < 0 ? 0 : m - 1);
    case PadMode::kCIRCULAR: return lo + ((i % m) + m) % m;
  }
  return -1;
}

std::vector<TensorDesc> PaddingLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1) fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  if (in[0].dims.nb_dims < 0) fail("input", "input 0 is not set");
  if (static_cast<int>(p.mode) < 0 || static_cast<int>(p.mode) >= kNumPadModes)
    fail("mode", "unknown padding mode " + std::to_string(static_cast<int>(p.mode)));
  if (in[0].dtype == DataType::kFP8) fail("input", "fp8 tensors are not supported");
  if (!std::isfinite(p.value) && !is_floating(in[0].dtype))
    fail("value", "a non-finite fill value cannot be stored in a " + std::string(dtype_name(in[0].dtype)) + " tensor");
  if (!is_floating(in[0].dtype) && in[0].dtype != DataType::kBOOL) {
    double lo = -9223372036854775808.0, hi = 9223372036854775808.0;  // int64; hi is exclusive
    if (in[0].dtype == DataType::kINT8) lo = -128, hi = 128;
    if (in[0].dtype == DataType::kUINT8) lo = 0, hi = 256;
    if (in[0].dtype == DataType::kINT32) lo = -2147483648.0, hi = 2147483648.0;
    double t = std::trunc(p.value);
    if (t < lo || t >= hi)
      fail("value", "fill value " + std::to_string(p.value) + " does not fit a " + dtype_name(in[0].dtype) + " tensor");
  }
  const Dims& x = in[0].dims;
  int k = p.pre_padding.nb_dims;
  if (p.post_padding.nb_dims != k)
    fail("post_padding_nd", "pre_padding " + p.pre_padding.str() + " and post_padding " + p.post_padding.str() +
                                " must have the same length");
  if (k > x.nb_dims)
    fail("pre_padding_nd", p.pre_padding.str() + " pads " + std::to_string(k) + " dimensions but the input " + x.str() +
                               " has rank " + std::to_string(x.nb_dims));
  Dims out = x;
  for (int j = 0; j < k; ++j) {
    int axis = x.nb_dims - k + j;
    int64_t pre = p.pre_padding.d[j], post = p.post_padding.d[j], n = x.d[axis];
    if (std::llabs(pre) > (int64_t(1) << 40) || std::llabs(post) > (int64_t(1) << 40))
      fail("pre_padding_nd/post_padding_nd",
           "padding " + p.pre_padding.str() + " / " + p.post_padding.str() + " is too large");
    if (n < 0) {
      out.d[axis] = -1;  // checked again with the run-time extent
      continue;
    }
    int64_t m = n + pre + post;
    std::string where = "dimension " + std::to_string(axis) + " of the input " + x.str() + " (padding " +
                        std::to_string(pre) + " before, " + std::to_string(post) + " after)";
    if (m < 0) fail("pre_padding_nd/post_padding_nd", "cropping more than " + where + " holds");
    // The non-constant modes read from what is left after cropping.
    int64_t kept = n - (pre < 0 ? -pre : 0) - (post < 0 ? -post : 0);
    bool pads = (pre > 0 || post > 0) && m > 0;
    if (pads && p.mode != PadMode::kCONSTANT && kept <= 0)
      fail("mode", std::string(pad_mode_name(p.mode)) + " has nothing to pad from in " + where +
                       ": it is empty after cropping");
    if (p.mode == PadMode::kREFLECT && pads && (pre >= kept || post >= kept))
      fail("mode", "REFLECT needs padding smaller than the extent left after cropping (" + std::to_string(kept) +
                       "): " + where);
    out.d[axis] = m;
  }
  return {TensorDesc{in[0].dtype, out}};
}

PaddingLayer* add_padding_nd(Network& net, Tensor* input, const Dims& pre_padding, const Dims& post_padding) {
  auto l = std::make_unique<PaddingLayer>();
  l->p.pre_padding = pre_padding;
  l->p.post_padding = post_padding;
  return net.add(std::move(l), {input}, "add_padding_nd");
}

}  // namespace torch2trt
