// Pooling layer (TensorRT's IPoolingLayer) over 1, 2 or 3 spatial dimensions, with an adaptive mode
// (an extension matching torch's adaptive_{avg,max}_pool{1,2,3}d).
#pragma once

#include "torch2trt/layers/convolution.h"  // PaddingMode and window geometry
#include "torch2trt/network.h"

namespace torch2trt {

/// Pooling functions; values follow TensorRT's PoolingType.
enum class PoolingType : int32_t {
  kMAX = 0,
  kAVERAGE = 1,
  kMAX_AVERAGE_BLEND = 2,  ///< (1 - blend_factor) * max + blend_factor * average
};
constexpr int kNumPoolingTypes = 3;
/// "MAX", "AVERAGE", "MAX_AVERAGE_BLEND".
const char* pooling_type_name(PoolingType t);

/// Parameters of a pooling layer. Windowed mode uses window_size .. dilation (one entry per spatial
/// dimension); adaptive mode uses only output_size and leaves the window fields empty.
struct PoolingParams {
  PoolingType type = PoolingType::kMAX;
  Dims window_size;   ///< window extents
  Dims stride;        ///< default: the window size
  Dims pre_padding;   ///< default 0; must be smaller than the (dilated) window
  Dims post_padding;  ///< default 0; must be smaller than the (dilated) window
  Dims dilation;      ///< extension (torch max_pool's dilation): default 1; MAX only
  PaddingMode padding_mode = PaddingMode::kEXPLICIT_ROUND_DOWN;  ///< ROUND_UP is torch's ceil_mode=True
  bool average_count_excludes_padding = true;  ///< torch's count_include_pad = !this
  float blend_factor = 0.f;                    ///< MAX_AVERAGE_BLEND weight of the average, in [0, 1]
  bool adaptive = false;                       ///< extension: torch adaptive pooling to output_size
  Dims output_size;                            ///< adaptive mode: spatial output extents
  /// Set by the layout_channels_last pass: x and y are (..., *spatial, C), the channels last.
  bool channels_last = false;
};

/// Concrete geometry of a pooling for given input dims; spatial arrays use the first `nsp` entries.
/// Leading dimensions (batch, channels, ...) are folded into `outer` independent planes.
struct PoolingGeometry {
  int nsp = 0;
  int64_t outer = 1;
  int64_t inner = 1;  ///< channels_last: the channel count, stored innermost (else 1)
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t window[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1};
  int64_t pre[3] = {0, 0, 0}, post[3] = {0, 0, 0}, post_eff[3] = {0, 0, 0};  ///< see WindowExtent
};

/// y = pool(x) over the last 1-3 dimensions of x (rank >= spatial dims + 1); float types.
class PoolingLayer : public Layer {
 public:
  PoolingLayer() : Layer(LayerKind::kPooling) {}
  PoolingParams p;
  /// Set by add_pooling_nd: until the parameters are first valid together, an input smaller than the
  /// window (padding set later) gives -1 extents; see ConvolutionLayer::provisional.
  mutable bool provisional = false;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// Resolved geometry for static input dims (throws like infer() on invalid parameters).
  PoolingGeometry geometry(const Dims& input) const;
  T2T_SERIALIZE_FIELDS(p.type, p.window_size, p.stride, p.pre_padding, p.post_padding, p.dilation, p.padding_mode,
                       p.average_count_excludes_padding, p.blend_factor, p.adaptive, p.output_size, p.channels_last)
};

/// Adds a pooling with stride = window, no padding (TensorRT's add_pooling_nd).
PoolingLayer* add_pooling_nd(Network& net, Tensor* input, PoolingType type, const Dims& window_size);
/// Extension: adaptive pooling to `output_size` with torch's windows start = floor(i*in/out),
/// end = ceil((i+1)*in/out); MAX or AVERAGE (or MAX_AVERAGE_BLEND).
PoolingLayer* add_adaptive_pooling_nd(Network& net, Tensor* input, PoolingType type, const Dims& output_size);

}  // namespace torch2trt
