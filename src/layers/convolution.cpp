#include "torch2trt/layers/convolution.h"

#include <string>

namespace torch2trt {

const char* padding_mode_name(PaddingMode m) {
  switch (m) {
    case PaddingMode::kEXPLICIT_ROUND_DOWN: return "EXPLICIT_ROUND_DOWN";
    case PaddingMode::kEXPLICIT_ROUND_UP: return "EXPLICIT_ROUND_UP";
    case PaddingMode::kSAME_UPPER: return "SAME_UPPER";
    case PaddingMode::kSAME_LOWER: return "SAME_LOWER";
    case PaddingMode::kCAFFE_ROUND_DOWN: return "CAFFE_ROUND_DOWN";
    case PaddingMode::kCAFFE_ROUND_UP: return "CAFFE_ROUND_UP";
  }
  return "?";
}

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

bool is_same_mode(PaddingMode m) { return m == PaddingMode::kSAME_UPPER || m == PaddingMode::kSAME_LOWER; }
bool is_caffe_mode(PaddingMode m) { return m == PaddingMode::kCAFFE_ROUND_DOWN || m == PaddingMode::kCAFFE_ROUND_UP; }

// Splits a total SAME padding: SAME_UPPER puts the odd element after, SAME_LOWER before.
void split_same(PaddingMode m, int64_t total, int64_t* pre, int64_t* post) {
  *pre = m == PaddingMode::kSAME_UPPER ? total / 2 : total - total / 2;
  *post = total - *pre;
}

}  // namespace

WindowExtent forward_window_extent(PaddingMode mode, int64_t in, int64_t window, int64_t stride, int64_t pre,
                                   int64_t post, bool last_window_inside) {
  WindowExtent e;
  e.pre = pre;
  e.post = is_caffe_mode(mode) ? pre : post;
  if (in < 0) return e;
  switch (mode) {
    case PaddingMode::kEXPLICIT_ROUND_DOWN:
    case PaddingMode::kCAFFE_ROUND_DOWN: e.out = floor_div(in + e.pre + e.post - window, stride) + 1; break;
    case PaddingMode::kEXPLICIT_ROUND_UP:
    case PaddingMode::kCAFFE_ROUND_UP:
      e.out = ceil_div(in + e.pre + e.post - window, stride) + 1;
      if (last_window_inside && e.out > 1 && (e.out - 1) * stride >= in + e.pre) --e.out;
      break;
    case PaddingMode::kSAME_UPPER:
    case PaddingMode::kSAME_LOWER: {
      e.out = ceil_div(in, stride);
      int64_t total = (e.out - 1) * stride + window - in;
      split_same(mode, total > 0 ? total : 0, &e.pre, &e.post);
      break;
    }
  }
  e.post_eff = (e.out - 1) * stride + window - in - e.pre;
  return e;
}

WindowExtent transposed_window_extent(PaddingMode mode, int64_t in, int64_t window, int64_t stride, int64_t pre,
                                      int64_t post, int64_t output_padding) {
  WindowExtent e;
  e.pre = pre;
  e.post = is_caffe_mode(mode) ? pre : post;
  if (is_same_mode(mode)) {
    int64_t total = window - stride;
    if (total < 0) {
      e.pre = -1;
      return e;
    }
    split_same(mode, total, &e.pre, &e.post);
  }
  // The full transposed output is (in - 1) * stride + window; padding crops it, output_padding extends the end.
  e.post_eff = e.post - output_padding;
  if (in >= 0) e.out = (in - 1) * stride + window - e.pre - e.post_eff;
  return e;
}

void check_window_list(const Layer& l, const char* arg, const Dims& d, int nsp, int64_t min, const char* what) {
  if (d.nb_dims != nsp)
    l.fail(arg, "has " + std::to_string(d.nb_dims) + " entries " + d.str() + " but the layer has " +
                    std::to_string(nsp) + " spatial dimensions");
  for (int i = 0; i < nsp; ++i)
    if (d.d[i] < min) l.fail(arg, std::string("entries must be ") + what + ", got " + d.str());
}

bool defers_errors(const Layer& l, bool provisional) {
  if (!provisional) return false;
  if (l.num_outputs() == 0) return true;  // being added
  const Tensor* y = l.output(0);
  return !y->is_output() && l.network() && l.network()->consumers(y).empty();
}

namespace {

std::string dims_text(const Dims& d) { return d.str(); }

// Validates the parameters that do not depend on the input; returns the number of spatial dimensions.
int check_params(const Layer& l, const ConvolutionParams& p, bool transposed) {
  int nsp = p.kernel_size.nb_dims;
  if (nsp < 1 || nsp > 3)
    l.fail("kernel_size", "needs 1, 2 or 3 spatial dimensions, got " + dims_text(p.kernel_size));
  check_window_list(l, "kernel_size", p.kernel_size, nsp, 1, ">= 1");
  check_window_list(l, "stride", p.stride, nsp, 1, ">= 1");
  check_window_list(l, "dilation", p.dilation, nsp, 1, ">= 1");
  check_window_list(l, "pre_padding", p.pre_padding, nsp, 0, ">= 0");
  check_window_list(l, "post_padding", p.post_padding, nsp, 0, ">= 0");
  int mode = static_cast<int>(p.padding_mode);
  if (mode < 0 || mode >= kNumPaddingModes) l.fail("padding_mode", "unknown padding mode " + std::to_string(mode));
  if (p.num_output_maps < 1) l.fail("num_output_maps", "must be >= 1, got " + std::to_string(p.num_output_maps));
  if (p.num_groups < 1) l.fail("num_groups", "must be >= 1, got " + std::to_string(p.num_groups));
  if (p.num_output_maps % p.num_groups != 0)
    l.fail("num_groups", "num_output_maps " + std::to_string(p.num_output_maps) + " is not divisible by num_groups " +
                             std::to_string(p.num_groups));
  if (!p.kernel.empty() && !is_floating(p.kernel.dtype))
    l.fail("kernel", std::string("weights must be float32, float16 or bfloat16, got ") + dtype_name(p.kernel.dtype));
  if (!p.bias.empty() && !is_floating(p.bias.dtype))
    l.fail("bias", std::string("weights must be float32, float16 or bfloat16, got ") + dtype_name(p.bias.dtype));
  if (!p.bias.empty() && p.bias.count != p.num_output_maps)
    l.fail("bias", "expected num_output_maps = " + std::to_string(p.num_output_maps) + " values, got " +
                       std::to_string(p.bias.count));
  if (!transposed) {
    if (p.output_padding.nb_dims != 0)
      l.fail("output_padding", "applies to deconvolution only; leave it empty for a convolution");
  } else {
    check_window_list(l, "output_padding", p.output_padding, nsp, 0, ">= 0");
    for (int i = 0; i < nsp; ++i)
      if (p.output_padding.d[i] >= p.stride.d[i] && p.output_padding.d[i] >= p.dilation.d[i])
        l.fail("output_padding", "must be smaller than the stride or the dilation in each dimension, got " +
                                     dims_text(p.output_padding) + " with stride " + dims_text(p.stride) +
                                     " and dilation " + dims_text(p.dilation));
  }
  return nsp;
}

// The num_groups a kernel of `count` values implies for C input and K output channels, or 0 if none does.
int64_t implied_groups(int64_t count, int64_t c, int64_t k, int64_t kvol, bool transposed) {
  int64_t fixed = transposed ? c * kvol : k * kvol;  // count = fixed * (K/g) or fixed * (C/g)
  if (count <= 0 || fixed <= 0 || count % fixed != 0) return 0;
  int64_t per_group = count / fixed, total = transposed ? k : c;
  if (total % per_group != 0) return 0;
  int64_t g = total / per_group;
  return c % g == 0 && k % g == 0 ? g : 0;
}

// Validates the input against the parameters; returns the output dims (spatial extents -1 where unknown).
// When `lenient`, the errors a later num_groups/padding/dilation may fix set *deferred instead.
Dims check_input(const Layer& l, const ConvolutionParams& p, const TensorDesc& x, bool transposed, int nsp,
                 std::vector<WindowExtent>* extents, bool lenient, bool* deferred) {
  const char* kind = transposed ? "deconvolution" : "convolution";
  if (x.dims.nb_dims != nsp + 2)
    l.fail("input", std::string("a ") + std::to_string(nsp) + "-D " + kind + " needs a rank-" + std::to_string(nsp + 2) +
                        " input (N, C, *spatial), got " + dims_text(x.dims));
  if (!is_floating(x.dtype))
    l.fail("input", std::string(kind) + " needs a float tensor, got " + dtype_name(x.dtype) + "; add a cast first");
  int64_t c = x.dims.d[1];
  if (c < 0) l.fail("input", "the channel dimension must be known when building, got " + dims_text(x.dims));
  if (c % p.num_groups != 0)
    l.fail("num_groups", "input channels " + std::to_string(c) + " of input " + dims_text(x.dims) +
                             " are not divisible by num_groups " + std::to_string(p.num_groups));
  int64_t kvol = 1;
  for (int i = 0; i < nsp; ++i) kvol *= p.kernel_size.d[i];
  int64_t k = p.num_output_maps, g = p.num_groups;
  int64_t expect = transposed ? c * (k / g) * kvol : k * (c / g) * kvol;
  int64_t implied = p.kernel.count != expect ? implied_groups(p.kernel.count, c, k, kvol, transposed) : 0;
  if (p.kernel.count != expect && lenient && implied > 0)
    *deferred = true;
  else if (p.kernel.count != expect)
    l.fail("kernel", "expected " + std::string(transposed ? "C*(K/groups)*prod(kernel_size) = " : "K*(C/groups)*prod(kernel_size) = ") +
                         std::to_string(expect) + " values for input " + dims_text(x.dims) + ", num_output_maps " +
                         std::to_string(k) + ", num_groups " + std::to_string(g) + ", kernel_size " +
                         dims_text(p.kernel_size) + "; got " + std::to_string(p.kernel.count) +
                         (implied > 0 ? " (that size fits num_groups = " + std::to_string(implied) + ")" : ""));
  Dims out = x.dims;
  out.d[1] = k;
  extents->clear();
  for (int i = 0; i < nsp; ++i) {
    int64_t in = x.dims.d[2 + i];
    int64_t win = p.dilation.d[i] * (p.kernel_size.d[i] - 1) + 1;
    WindowExtent e;
    if (transposed) {
      e = transposed_window_extent(p.padding_mode, in, win, p.stride.d[i], p.pre_padding.d[i], p.post_padding.d[i],
                                   p.output_padding.d[i]);
      if (e.pre < 0)
        l.fail("padding_mode", std::string(padding_mode_name(p.padding_mode)) + " needs a dilated kernel extent (" +
                                   std::to_string(win) + ") >= stride (" + std::to_string(p.stride.d[i]) +
                                   ") in spatial dimension " + std::to_string(i));
    } else {
      e = forward_window_extent(p.padding_mode, in, win, p.stride.d[i], p.pre_padding.d[i], p.post_padding.d[i], false);
    }
    bool no_fit = !transposed && in >= 0 && in + e.pre + e.post < win;
    if (lenient && in >= 0 && (no_fit || e.out < 1)) {
      e.out = -1;  // padding or dilation set later may fix it
      *deferred = true;
    } else if (no_fit) {
      l.fail("input", "spatial dimension " + std::to_string(i) + " of input " + dims_text(x.dims) + " is " +
                          std::to_string(in) + " with padding " + std::to_string(e.pre) + "+" + std::to_string(e.post) +
                          ", smaller than the dilated kernel extent " + std::to_string(win));
    } else if (in >= 0 && e.out < 1) {
      l.fail("input", "spatial dimension " + std::to_string(i) + " of input " + dims_text(x.dims) +
                          " gives an output extent of " + std::to_string(e.out) + " (kernel " + dims_text(p.kernel_size) +
                          ", stride " + dims_text(p.stride) + ", padding " + dims_text(p.pre_padding) + "/" +
                          dims_text(p.post_padding) + ")");
    }
    out.d[2 + i] = e.out;
    extents->push_back(e);
  }
  return out;
}

// The fused epilogue (convolution only): a known activation, and a residual z of the output's type and shape.
void check_epilogue(const Layer& l, const ConvolutionParams& p, const std::vector<TensorDesc>& in, const Dims& out,
                    bool transposed) {
  if (transposed) {
    if (p.has_activation) l.fail("has_activation", "a fused activation applies to convolution only");
    return;
  }
  int t = static_cast<int>(p.activation.type);
  if (p.has_activation && (t < 0 || t >= kNumActivationTypes))
    l.fail("activation", "unknown activation type " + std::to_string(t));
  if (in.size() < 2) return;
  const TensorDesc& z = in[1];
  if (z.dtype != in[0].dtype)
    l.fail("residual", std::string("input 1 (the fused residual) must have the input's type ") +
                           dtype_name(in[0].dtype) + ", got " + dtype_name(z.dtype));
  // -1 extents are only compared once both are known (at run time every extent is).
  bool same = z.dims.nb_dims == out.nb_dims;
  for (int i = 0; same && i < out.nb_dims; ++i)
    same = z.dims.d[i] < 0 || out.d[i] < 0 || z.dims.d[i] == out.d[i];
  if (!same)
    l.fail("residual", "input 1 (the fused residual) must have the output's shape " + dims_text(out) + ", got " +
                           dims_text(z.dims));
}

std::vector<TensorDesc> infer_conv(const Layer& l, const ConvolutionParams& p, const std::vector<TensorDesc>& in,
                                   bool transposed, bool* provisional) {
  if (transposed && in.size() != 1) l.fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  if (!transposed && (in.empty() || in.size() > 2))
    l.fail("inputs", "expects 1 input, or 2 with a fused residual, got " + std::to_string(in.size()));
  int nsp = check_params(l, p, transposed);
  std::vector<WindowExtent> ext;
  bool deferred = false;
  Dims out = check_input(l, p, in[0], transposed, nsp, &ext, defers_errors(l, *provisional), &deferred);
  check_epilogue(l, p, in, out, transposed);
  if (!deferred && *provisional) *provisional = false;  // no write on loaded layers: contexts share them
  return {TensorDesc{in[0].dtype, out}};
}

ConvolutionGeometry geometry_of(const Layer& l, const ConvolutionParams& p, const Dims& x, bool transposed) {
  if (!x.is_static()) l.fail("input", "geometry needs concrete dims, got " + dims_text(x));
  int nsp = check_params(l, p, transposed);
  std::vector<WindowExtent> ext;
  bool deferred = false;
  check_input(l, p, TensorDesc{DataType::kFLOAT, x}, transposed, nsp, &ext, false, &deferred);
  ConvolutionGeometry g;
  g.nsp = nsp;
  g.batch = x.d[0];
  g.in_channels = x.d[1];
  g.out_channels = p.num_output_maps;
  g.groups = p.num_groups;
  for (int i = 0; i < nsp; ++i) {
    g.in[i] = x.d[2 + i];
    g.out[i] = ext[i].out;
    g.kernel[i] = p.kernel_size.d[i];
    g.stride[i] = p.stride.d[i];
    g.dilation[i] = p.dilation.d[i];
    g.pre[i] = ext[i].pre;
    g.post_eff[i] = ext[i].post_eff;
  }
  return g;
}

// Fills the defaults TensorRT's add_*_nd gives: stride 1, padding 0, dilation 1.
void set_defaults(ConvolutionParams& p, int64_t k, const Dims& kernel_shape, const Weights& kernel, const Weights& bias) {
  p.num_output_maps = k;
  p.kernel_size = kernel_shape;
  int nsp = kernel_shape.nb_dims;
  p.stride.nb_dims = p.dilation.nb_dims = p.pre_padding.nb_dims = p.post_padding.nb_dims = nsp;
  for (int i = 0; i < nsp; ++i) p.stride.d[i] = p.dilation.d[i] = 1, p.pre_padding.d[i] = p.post_padding.d[i] = 0;
  p.kernel = kernel;
  p.bias = bias;
}

}  // namespace

bool convolution_padding_is_symmetric(const ConvolutionGeometry& g, bool transposed) {
  for (int i = 0; i < g.nsp; ++i) {
    int64_t window = g.dilation[i] * (g.kernel[i] - 1) + 1;
    int64_t a = transposed ? g.out[i] : g.in[i], b = transposed ? g.in[i] : g.out[i];
    int64_t span = a + 2 * g.pre[i] - window;
    if (g.pre[i] < 0 || span < 0 || span / g.stride[i] + 1 != b) return false;
  }
  return true;
}

Dims channels_first_dims(const Dims& d, int nsp) {
  Dims r = d;
  const int c = d.nb_dims - 1 - nsp;  // where the channel axis goes
  if (c < 0) return r;
  r.d[c] = d.d[d.nb_dims - 1];
  for (int i = 0; i < nsp; ++i) r.d[c + 1 + i] = d.d[c + i];
  return r;
}

Dims channels_last_dims(const Dims& d, int nsp) {
  Dims r = d;
  const int c = d.nb_dims - 1 - nsp;
  if (c < 0) return r;
  for (int i = 0; i < nsp; ++i) r.d[c + i] = d.d[c + 1 + i];
  r.d[d.nb_dims - 1] = d.d[c];
  return r;
}

std::vector<TensorDesc> ConvolutionLayer::infer(const std::vector<TensorDesc>& in) const {
  if (!p.channels_last) return infer_conv(*this, p, in, false, &provisional);
  // The channels-first shape rule on the channels-first view of x and z, its output moved back.
  const int nsp = p.kernel_size.nb_dims;
  std::vector<TensorDesc> cf = in;
  for (auto& d : cf)
    if (d.dims.nb_dims == nsp + 2) d.dims = channels_first_dims(d.dims, nsp);
  std::vector<TensorDesc> out = infer_conv(*this, p, cf, false, &provisional);
  out[0].dims = channels_last_dims(out[0].dims, nsp);
  return out;
}

ConvolutionGeometry ConvolutionLayer::geometry(const Dims& input) const {
  return geometry_of(*this, p, p.channels_last ? channels_first_dims(input, p.kernel_size.nb_dims) : input, false);
}

std::vector<TensorDesc> DeconvolutionLayer::infer(const std::vector<TensorDesc>& in) const {
  if (p.channels_last) fail("channels_last", "applies to convolution only");
  return infer_conv(*this, p, in, true, &provisional);
}

ConvolutionGeometry DeconvolutionLayer::geometry(const Dims& input) const { return geometry_of(*this, p, input, true); }

ConvolutionLayer* add_convolution_nd(Network& net, Tensor* input, int64_t num_output_maps, const Dims& kernel_shape,
                                     const Weights& kernel, const Weights& bias) {
  auto l = std::make_unique<ConvolutionLayer>();
  set_defaults(l->p, num_output_maps, kernel_shape, kernel, bias);
  l->provisional = true;
  return net.add(std::move(l), {input}, "add_convolution_nd");
}

DeconvolutionLayer* add_deconvolution_nd(Network& net, Tensor* input, int64_t num_output_maps,
                                         const Dims& kernel_shape, const Weights& kernel, const Weights& bias) {
  auto l = std::make_unique<DeconvolutionLayer>();
  set_defaults(l->p, num_output_maps, kernel_shape, kernel, bias);
  l->p.output_padding.nb_dims = kernel_shape.nb_dims;
  for (int i = 0; i < kernel_shape.nb_dims && i < kMaxDims; ++i) l->p.output_padding.d[i] = 0;
  l->provisional = true;
  return net.add(std::move(l), {input}, "add_deconvolution_nd");
}

}  // namespace torch2trt
