// Padding layer (TensorRT's IPaddingLayer), extended with PyTorch's padding modes and fill value.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// How padded elements are filled; the same modes as torch.nn.functional.pad (an extension: TensorRT's
/// padding layer only zero-pads).
enum class PadMode : int32_t {
  kCONSTANT = 0,   ///< `value`
  kREFLECT = 1,    ///< mirror without repeating the edge element (needs padding < extent)
  kREPLICATE = 2,  ///< repeat the edge element
  kCIRCULAR = 3,   ///< wrap around (coordinate modulo the extent)
};
constexpr int kNumPadModes = 4;
/// Upper-case name of a padding mode.
const char* pad_mode_name(PadMode m);

/// Parameters of a padding layer. pre_padding and post_padding have one entry per padded dimension and
/// apply to the innermost dimensions (the last len(pre_padding) ones). Negative entries crop; as in
/// torch.nn.functional.pad, the REFLECT, REPLICATE and CIRCULAR modes pad what remains after cropping.
struct PaddingParams {
  Dims pre_padding;
  Dims post_padding;
  PadMode mode = PadMode::kCONSTANT;
  double value = 0.0;  ///< CONSTANT fill, converted to the tensor's dtype (truncated for integers, != 0 for bool)
};

/// y = pad(x). Output extent of padded dimension i: extent + pre + post (must stay >= 0).
class PaddingLayer : public Layer {
 public:
  PaddingLayer() : Layer(LayerKind::kPadding) {}
  PaddingParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.pre_padding, p.post_padding, p.mode, p.value)
};

/// Adds a zero padding of the innermost len(pre_padding) dimensions (TensorRT's add_padding_nd).
PaddingLayer* add_padding_nd(Network& net, Tensor* input, const Dims& pre_padding, const Dims& post_padding);

/// Input coordinate for output coordinate o of a padded axis (input extent n, `pre` and `post` padding,
/// each negative to crop), or -1 for the constant value.
int64_t pad_source(PadMode mode, int64_t o, int64_t pre, int64_t post, int64_t n);

}  // namespace torch2trt
