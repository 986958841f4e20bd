// Convolution and deconvolution layers (TensorRT's IConvolutionLayer, IDeconvolutionLayer) over 1, 2
// or 3 spatial dimensions, plus the window geometry (PaddingMode) they share with pooling.
#pragma once

#include "torch2trt/layers/activation.h"
#include "torch2trt/network.h"

namespace torch2trt {

/// How a window layer derives its output extent and padding; values follow TensorRT's PaddingMode.
/// Under SAME_* the declared pre/post padding is not used (TensorRT's rule); CAFFE_* use pre_padding on both sides.
enum class PaddingMode : int32_t {
  kEXPLICIT_ROUND_DOWN = 0,  ///< out = floor((in + pre + post - window) / stride) + 1
  kEXPLICIT_ROUND_UP = 1,    ///< out = ceil((in + pre + post - window) / stride) + 1
  kSAME_UPPER = 2,           ///< out = ceil(in / stride); odd total padding goes after
  kSAME_LOWER = 3,           ///< out = ceil(in / stride); odd total padding goes before
  kCAFFE_ROUND_DOWN = 4,     ///< as EXPLICIT_ROUND_DOWN with post padding = pre padding
  kCAFFE_ROUND_UP = 5,       ///< as EXPLICIT_ROUND_UP with post padding = pre padding
};
constexpr int kNumPaddingModes = 6;
/// "EXPLICIT_ROUND_DOWN", ... for a mode.
const char* padding_mode_name(PaddingMode m);

/// One spatial dimension of a window layer, resolved for a concrete input extent.
struct WindowExtent {
  int64_t out = -1;      ///< output extent (-1 when the input extent is known only at run time)
  int64_t pre = 0;       ///< padding before the first input element
  int64_t post = 0;      ///< padding after the last element, as declared or derived by SAME_*/CAFFE_*
  int64_t post_eff = 0;  ///< padding the last window really reaches (differs from post when rounding; may be < 0)
};

/// Output extent and padding of a forward window (convolution, pooling). `window` is the dilated extent
/// d*(k-1)+1. `last_window_inside` applies PyTorch/Caffe's ceil-mode rule: a rounded-up output drops a
/// last window that would start past the input and the pre padding. An unknown input (-1) gives out = -1.
WindowExtent forward_window_extent(PaddingMode mode, int64_t in, int64_t window, int64_t stride, int64_t pre,
                                   int64_t post, bool last_window_inside);
/// Output extent and padding of a transposed window (deconvolution):
/// out = (in - 1) * stride + window - pre - post + output_padding (SAME_*: out = in * stride + output_padding).
/// Returns pre = -1 when SAME_* needs a negative padding (window < stride).
WindowExtent transposed_window_extent(PaddingMode mode, int64_t in, int64_t window, int64_t stride, int64_t pre,
                                      int64_t post, int64_t output_padding);

/// Dims of a channels-last tensor (..., *spatial, C) in channels-first order (..., C, *spatial), for `nsp`
/// spatial dimensions: moves the last axis before the spatial ones.
Dims channels_first_dims(const Dims& d, int nsp);
/// The inverse: (..., C, *spatial) -> (..., *spatial, C).
Dims channels_last_dims(const Dims& d, int nsp);

/// Checks a per-spatial-dimension parameter of a window layer: `nsp` entries, each >= `min` (`what`
/// words the bound for the message); fails through `layer` naming `arg`.
void check_window_list(const Layer& layer, const char* arg, const Dims& d, int nsp, int64_t min, const char* what);

/// True while a window layer fresh from add_*_nd may defer errors (see ConvolutionLayer::provisional):
/// it is provisional and its output is neither used by a layer nor a network output.
bool defers_errors(const Layer& layer, bool provisional);

/// Parameters shared by convolution and deconvolution. Every Dims field has one entry per spatial dimension.
struct ConvolutionParams {
  int64_t num_output_maps = 0;  ///< output channels K
  Dims kernel_size;             ///< spatial kernel extents (1, 2 or 3 of them)
  Dims stride;                  ///< default 1
  Dims pre_padding;             ///< default 0
  Dims post_padding;            ///< default 0
  Dims dilation;                ///< default 1
  int64_t num_groups = 1;
  PaddingMode padding_mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  Weights kernel;               ///< convolution: (K, C/groups, *k); deconvolution: (C, K/groups, *k) — PyTorch layouts
  Weights bias;                 ///< K values, or empty for none
  Dims output_padding;          ///< deconvolution only (PyTorch's output_padding, default 0); empty for convolution
  /// Convolution only, set by the fuse_convolution_epilogue pass: y = activation(conv(x) + bias + z),
  /// z being the optional second input (a residual of the output's shape and type).
  bool has_activation = false;
  ActivationParams activation;  ///< the fused activation when has_activation (type, alpha, beta)
  /// Convolution only, set by the layout_channels_last pass: x, y and z are stored channels-last,
  /// (N, *spatial, C) instead of (N, C, *spatial); the kernel keeps its PyTorch layout.
  bool channels_last = false;
};

/// Concrete geometry of a (de)convolution for given input dims; spatial arrays use the first `nsp` entries.
struct ConvolutionGeometry {
  int nsp = 0;                      ///< number of spatial dimensions
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, kernel[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1};
  int64_t pre[3] = {0, 0, 0}, post_eff[3] = {0, 0, 0};  ///< post_eff: see WindowExtent
};

/// True when padding `pre` on both sides places the same windows as the geometry's (possibly asymmetric)
/// padding and yields as many (cuDNN and most libraries take one padding per dimension). `transposed`:
/// the same test on the adjoint convolution of a deconvolution.
bool convolution_padding_is_symmetric(const ConvolutionGeometry& g, bool transposed);

/// y = conv(x, kernel) + bias on x of shape (N, C, *spatial) -> (N, K, *out_spatial); float types. With the
/// fused epilogue: y = act(conv(x) + bias + z) for an optional input 1 z of the output's shape and type.
class ConvolutionLayer : public Layer {
 public:
  ConvolutionLayer() : Layer(LayerKind::kConvolution) {}
  ConvolutionParams p;
  /// Set by add_*_nd and cleared once the parameters are valid together. TensorRT converters set
  /// num_groups, padding and dilation after adding the layer, so until then a kernel whose size implies
  /// another num_groups, or an input smaller than the window, gives -1 extents instead of an error.
  /// The error is raised once the output is used or marked and the shape rule runs again (at the latest
  /// when the network is built). Not serialized: loaded layers are always strict.
  mutable bool provisional = false;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// Resolved geometry for static input dims (throws like infer() on invalid parameters).
  ConvolutionGeometry geometry(const Dims& input) const;
  T2T_SERIALIZE_FIELDS(p.num_output_maps, p.kernel_size, p.stride, p.pre_padding, p.post_padding, p.dilation,
                       p.num_groups, p.padding_mode, p.kernel, p.bias, p.output_padding, p.has_activation,
                       p.activation.type, p.activation.alpha, p.activation.beta, p.channels_last)
};

/// Transposed convolution with PyTorch's ConvTranspose semantics: (N, C, *spatial) -> (N, K, *out_spatial).
class DeconvolutionLayer : public Layer {
 public:
  DeconvolutionLayer() : Layer(LayerKind::kDeconvolution) {}
  ConvolutionParams p;
  /// See ConvolutionLayer::provisional.
  mutable bool provisional = false;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// Resolved geometry for static input dims (pre/post_eff are the padding removed from the full output).
  ConvolutionGeometry geometry(const Dims& input) const;
  T2T_SERIALIZE_FIELDS(p.num_output_maps, p.kernel_size, p.stride, p.pre_padding, p.post_padding, p.dilation,
                       p.num_groups, p.padding_mode, p.kernel, p.bias, p.output_padding)
};

/// Adds a convolution with stride 1, no padding, dilation 1, one group (TensorRT's add_convolution_nd).
ConvolutionLayer* add_convolution_nd(Network& net, Tensor* input, int64_t num_output_maps, const Dims& kernel_shape,
                                     const Weights& kernel, const Weights& bias);
/// Adds a deconvolution with stride 1, no padding, dilation 1, one group (TensorRT's add_deconvolution_nd).
DeconvolutionLayer* add_deconvolution_nd(Network& net, Tensor* input, int64_t num_output_maps,
                                         const Dims& kernel_shape, const Weights& kernel, const Weights& bias);

}  // namespace torch2trt
