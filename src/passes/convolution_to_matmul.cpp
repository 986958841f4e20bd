// Rewrites a patchify convolution -- kernel == stride, no padding, dilation 1, one group: the windows tile
// the input without overlapping, as in ViT's patch embedding Conv2d(3, 768, 16, stride 16) -- into a
// re-arrangement of the input and one matrix multiply:
//   x (N, C, H, W) -> (N, C, H', kh, W', kw) -> (N, H', W', C, kh, kw) -> (N, P, C*kh*kw)     P = H' * W'
//   y = x_patches x Wᵀ + b, W the kernel read as (1, Cout, C*kh*kw)                          (N, P, Cout)
//   -> (N, H', W', Cout) -> (N, Cout, H', W')
// With 3 input channels cuDNN's tensor-core kernels do not apply (fp16 on an H200: 268 us at batch 32);
// the GEMM (6272 x 768 x 768) takes ~15 us in cuBLASLt and the patch transpose is one copy. The kernel
// stays in its PyTorch layout (Cout, C, kh, kw): read as (Cout, C*kh*kw) it is the transposed B of a Linear,
// the layout the GEMM paths (and fuse_matmul_epilogue) already take. The output transpose usually cancels
// with a following flatten(2).transpose(1, 2) in merge_shuffles.
//
// Only convolutions with fewer than 8 input channels: with more, cuDNN's tensor-core kernels apply.
// Runs after fuse_convolution_epilogue, so the bias and fused activation the convolution has collected move
// to the MatrixMultiply's epilogue. Left as they are: 1x1 kernels (already a GEMM, cuDNN runs them well),
// a fused residual input (it would need its own transpose), channels-last or dynamic inputs, a kernel whose
// dtype differs from a reduced-precision input's. Extents that the kernel does not divide lose their last
// elements, as in PyTorch, through a Slice before the re-arrangement. A precision pin on the convolution
// goes to the MatrixMultiply (the shuffles only move data, exactly in any type).
#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

// The (1, Cout, C*k) constant B, in x's dtype (the MatrixMultiply takes operands of one dtype), or null
// when the kernel would need a conversion to a reduced type.
Tensor* kernel_matrix(Network& net, const ConvolutionLayer* conv, DataType x_dtype, int64_t cout, int64_t ck) {
  const Weights& w = conv->p.kernel;
  Weights b = w;
  if (w.dtype != x_dtype) {
    if (x_dtype != DataType::kFLOAT) return nullptr;
    b = Weights::f32(w.to_float());  // exact: half and bfloat16 values are float32 values
  }
  auto* c = add_constant(net, Dims{1, cout, ck}, b);
  c->set_name(conv->name() + "_kernel_matrix");
  return c->output(0);
}

// Whether `conv` is a patchify convolution this pass rewrites; fills its geometry.
bool is_patchify(const ConvolutionLayer* conv, ConvolutionGeometry* g) {
  if (conv->p.channels_last || conv->num_inputs() != 1 || conv->p.num_groups != 1 || conv->p.kernel.empty())
    return false;
  const Tensor* x = conv->input(0);
  if (!x->dims().is_static() || !is_floating(x->dtype()) || !is_floating(conv->p.kernel.dtype)) return false;
  try {
    *g = conv->geometry(x->dims());
  } catch (const InvalidArgument&) {
    return false;
  }
  int64_t window = 1;
  for (int i = 0; i < g->nsp; ++i) {
    // pre == 0 with stride == kernel places window j on [j*k, (j+1)*k); out*k <= in keeps every window inside
    // the input whatever the padding mode says about the end (a remainder is dropped).
    if (g->kernel[i] != g->stride[i] || g->dilation[i] != 1 || g->pre[i] != 0 || g->out[i] < 1 ||
        g->out[i] * g->kernel[i] > g->in[i])
      return false;
    window *= g->kernel[i];
  }
  // Only few input channels (an image's 3): with 8 or more, cuDNN's channels-last tensor-core kernels run
  // the convolution well, and inside a channels-last chain (ConvNeXt's 2x2 downsampling) the rewrite would
  // add layout transposes around the GEMM.
  if (window < 2 || g->batch < 1 || g->in_channels >= 8) return false;
  return conv->p.kernel.count == g->out_channels * g->in_channels * window;
}

Tensor* add_named_shuffle(Network& net, Tensor* x, const Dims& reshape, const std::vector<int32_t>& second,
                          const std::string& name) {
  auto* s = add_shuffle(net, x);
  s->p.second_transpose = second;
  s->set_reshape_dims(reshape);  // validates the layer with the transpose too
  s->set_name(name);
  return s->output(0);
}

// Rewrites `conv` (is_patchify) and returns the tensor that replaces its output, or null.
Tensor* rewrite(Network& net, ConvolutionLayer* conv, const ConvolutionGeometry& g) {
  const int nsp = g.nsp;
  const std::string& name = conv->name();
  Tensor* x = conv->input(0);
  const int64_t n = g.batch, c = g.in_channels, cout = g.out_channels;
  int64_t patches = 1, window = 1;
  bool remainder = false;
  for (int i = 0; i < nsp; ++i) {
    patches *= g.out[i], window *= g.kernel[i];
    remainder = remainder || g.out[i] * g.kernel[i] != g.in[i];
  }
  Tensor* b = kernel_matrix(net, conv, x->dtype(), cout, c * window);
  if (!b) return nullptr;
  if (remainder) {  // PyTorch drops the elements past the last whole window
    Dims start = x->dims(), shape = x->dims(), stride = x->dims();
    for (int i = 0; i < shape.nb_dims; ++i) start.d[i] = 0, stride.d[i] = 1;
    for (int i = 0; i < nsp; ++i) shape.d[2 + i] = g.out[i] * g.kernel[i];
    auto* sl = add_slice(net, x, start, shape, stride);
    sl->set_name(name + "_whole_windows");
    x = sl->output(0);
  }
  // (N, C, o1, k1, .., on, kn) -> (N, o1, .., on, C, k1, .., kn): one copy.
  Dims split;
  split.nb_dims = 2 + 2 * nsp;
  split.d[0] = n, split.d[1] = c;
  std::vector<int32_t> to_patches = {0};
  for (int i = 0; i < nsp; ++i) {
    split.d[2 + 2 * i] = g.out[i], split.d[3 + 2 * i] = g.kernel[i];
    to_patches.push_back(2 + 2 * i);
  }
  to_patches.push_back(1);
  for (int i = 0; i < nsp; ++i) to_patches.push_back(3 + 2 * i);
  Tensor* t = add_named_shuffle(net, x, split, to_patches, name + "_patches");
  t = add_named_shuffle(net, t, Dims{n, patches, c * window}, {}, name + "_patch_rows");  // no data moves

  auto* mm = add_matrix_multiply(net, t, MatrixOperation::kNONE, b, MatrixOperation::kTRANSPOSE);
  mm->set_name(name + "_matmul");
  if (!conv->p.bias.empty()) mm->p.bias = Weights::f32(conv->p.bias.to_float());
  mm->p.has_activation = conv->p.has_activation;
  mm->p.activation = conv->p.activation;
  if (conv->precision_is_set()) mm->set_precision(conv->precision());

  // (N, P, Cout) -> (N, o1, .., on, Cout) -> (N, Cout, o1, .., on)
  Dims grid;
  grid.nb_dims = 2 + nsp;
  grid.d[0] = n;
  for (int i = 0; i < nsp; ++i) grid.d[1 + i] = g.out[i];
  grid.d[1 + nsp] = cout;
  std::vector<int32_t> to_channels_first = {0, 1 + nsp};
  for (int i = 0; i < nsp; ++i) to_channels_first.push_back(1 + i);
  return add_named_shuffle(net, mm->output(0), grid, to_channels_first, name + "_channels_first");
}

}  // namespace

int convolution_to_matmul(Network& net, const BuilderConfig&) {
  pattern::Rewrites rw(net);
  const int layers = net.num_layers();  // the layers this pass adds are not convolutions
  for (int i = 0; i < layers; ++i) {
    Layer* l = net.layer(i);
    if (l->kind() != LayerKind::kConvolution) continue;
    auto* conv = static_cast<ConvolutionLayer*>(l);
    ConvolutionGeometry g;
    if (!is_patchify(conv, &g)) continue;
    Tensor* y = rewrite(net, conv, g);
    if (!y) continue;
    if (y->dims() != conv->output(0)->dims() || y->dtype() != conv->output(0)->dtype())
      throw Error("convolution_to_matmul: the rewrite of '" + conv->name() + "' gives " + y->dims().str() +
                  " instead of " + conv->output(0)->dims().str() + " (a bug in the pass)");
    rw.replace({conv}, conv->output(0), y);
  }
  return rw.finish();
}

}  // namespace torch2trt
