#include "python/bind_window.h"

namespace torch2trt::py {

void bind_padding_mode(nb::module_& m) {
  nb::enum_<PaddingMode>(m, "PaddingMode")
      .value("EXPLICIT_ROUND_DOWN", PaddingMode::kEXPLICIT_ROUND_DOWN)
      .value("EXPLICIT_ROUND_UP", PaddingMode::kEXPLICIT_ROUND_UP)
      .value("SAME_UPPER", PaddingMode::kSAME_UPPER)
      .value("SAME_LOWER", PaddingMode::kSAME_LOWER)
      .value("CAFFE_ROUND_DOWN", PaddingMode::kCAFFE_ROUND_DOWN)
      .value("CAFFE_ROUND_UP", PaddingMode::kCAFFE_ROUND_UP);
}

namespace {

// The properties convolution and deconvolution share (TensorRT's names, plus the legacy 2-D ones,
// which here read and write the same fields).
template <class L>
nb::class_<L, Layer> bind_conv_class(nb::module_& m, const char* name) {
  auto c = nb::class_<L, Layer>(m, name);
  using P = ConvolutionParams;
  for (const char* n : {"kernel_size_nd", "kernel_size"}) dims_prop<L, P>(c, n, &P::kernel_size);
  for (const char* n : {"stride_nd", "stride"}) dims_prop<L, P>(c, n, &P::stride);
  for (const char* n : {"dilation_nd", "dilation"}) dims_prop<L, P>(c, n, &P::dilation);
  for (const char* n : {"padding_nd", "padding"}) symmetric_padding_prop<L>(c, n);
  dims_prop<L, P>(c, "pre_padding", &P::pre_padding);
  dims_prop<L, P>(c, "post_padding", &P::post_padding);
  prop<L, int64_t>(c, "num_output_maps", [](const L& l) { return l.p.num_output_maps; },
                   [](L& l, int64_t v) { l.p.num_output_maps = v; });
  prop<L, int64_t>(c, "num_groups", [](const L& l) { return l.p.num_groups; }, [](L& l, int64_t v) { l.p.num_groups = v; });
  prop<L, PaddingMode>(c, "padding_mode", [](const L& l) { return l.p.padding_mode; },
                       [](L& l, PaddingMode v) { l.p.padding_mode = v; });
  c.def_prop_rw(
      "kernel", [](const L& l) { return l.p.kernel; },
      [name](L& l, nb::handle v) {
        Weights w = to_weights(v, (std::string(name) + ".kernel").c_str());
        Weights old = l.p.kernel;
        l.p.kernel = w;
        l.changed([&] { l.p.kernel = old; });
      });
  c.def_prop_rw(
      "bias", [](const L& l) { return l.p.bias; },
      [name](L& l, nb::handle v) {
        Weights w = to_weights(v, (std::string(name) + ".bias").c_str());
        Weights old = l.p.bias;
        l.p.bias = w;
        l.changed([&] { l.p.bias = old; });
      });
  return c;
}

}  // namespace

void bind_Convolution(nb::module_& m, nb::class_<Network>& net) {
  bind_padding_mode(m);
  auto c = bind_conv_class<ConvolutionLayer>(m, "IConvolutionLayer");
  // Extension, read-only: the epilogue fuse_convolution_epilogue folds in, y = act(conv(x) + bias + z).
  c.def_prop_ro("has_activation", [](const ConvolutionLayer& l) { return l.p.has_activation; },
                "True when the builder fused an activation into this convolution");
  c.def_prop_ro("activation", [](const ConvolutionLayer& l) { return l.p.activation.type; },
                "The fused activation's type (meaningful when has_activation)");
  c.def_prop_ro("alpha", [](const ConvolutionLayer& l) { return l.p.activation.alpha; },
                "The fused activation's alpha");
  c.def_prop_ro("beta", [](const ConvolutionLayer& l) { return l.p.activation.beta; },
                "The fused activation's beta");
  net.def(
      "add_convolution_nd",
      [](Network& n, Tensor* input, int64_t num_output_maps, nb::handle kernel_shape, nb::handle kernel,
         nb::handle bias) {
        return add_convolution_nd(n, input, num_output_maps, to_dims(kernel_shape, "add_convolution_nd kernel_shape"),
                                  to_weights(kernel, "add_convolution_nd kernel"),
                                  to_weights(bias, "add_convolution_nd bias"));
      },
      nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("num_output_maps"), nb::arg("kernel_shape"),
      nb::arg("kernel"), nb::arg("bias") = nb::none(),
      "Convolution over 1-3 spatial dims of (N, C, *spatial); kernel (K, C/groups, *k) as in PyTorch. "
      "As TensorRT converters set num_groups, padding and dilation afterwards, the layer accepts a kernel "
      "sized for other groups or an input smaller than the kernel until those make it valid (output extents "
      "read -1 meanwhile); if it is still invalid when its output is used, the error names it");
  net.def(
      "add_convolution",
      [](Network& n, Tensor* input, int64_t num_output_maps, nb::handle kernel_shape, nb::handle kernel,
         nb::handle bias) {
        Dims k = to_dims(kernel_shape, "add_convolution kernel_shape");
        if (k.nb_dims != 2)
          throw InvalidArgument("add_convolution: kernel_shape must have 2 extents (the legacy 2-D call), got " +
                                k.str() + "; use add_convolution_nd for other ranks");
        return add_convolution_nd(n, input, num_output_maps, k, to_weights(kernel, "add_convolution kernel"),
                                  to_weights(bias, "add_convolution bias"));
      },
      nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("num_output_maps"), nb::arg("kernel_shape"),
      nb::arg("kernel"), nb::arg("bias") = nb::none(), "Legacy 2-D form of add_convolution_nd");
}

void bind_Deconvolution(nb::module_& m, nb::class_<Network>& net) {
  auto c = bind_conv_class<DeconvolutionLayer>(m, "IDeconvolutionLayer");
  // Extension: PyTorch's output_padding (extra extent at the end of each spatial output dimension).
  dims_prop<DeconvolutionLayer, ConvolutionParams>(c, "output_padding_nd", &ConvolutionParams::output_padding);
  net.def(
      "add_deconvolution_nd",
      [](Network& n, Tensor* input, int64_t num_output_maps, nb::handle kernel_shape, nb::handle kernel,
         nb::handle bias) {
        return add_deconvolution_nd(n, input, num_output_maps,
                                    to_dims(kernel_shape, "add_deconvolution_nd kernel_shape"),
                                    to_weights(kernel, "add_deconvolution_nd kernel"),
                                    to_weights(bias, "add_deconvolution_nd bias"));
      },
      nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("num_output_maps"), nb::arg("kernel_shape"),
      nb::arg("kernel"), nb::arg("bias") = nb::none(),
      "Transposed convolution (PyTorch ConvTranspose semantics); kernel (C, K/groups, *k) as in PyTorch; "
      "a kernel sized for other groups is accepted until num_groups is set, as for add_convolution_nd");
  net.def(
      "add_deconvolution",
      [](Network& n, Tensor* input, int64_t num_output_maps, nb::handle kernel_shape, nb::handle kernel,
         nb::handle bias) {
        Dims k = to_dims(kernel_shape, "add_deconvolution kernel_shape");
        if (k.nb_dims != 2)
          throw InvalidArgument("add_deconvolution: kernel_shape must have 2 extents (the legacy 2-D call), got " +
                                k.str() + "; use add_deconvolution_nd for other ranks");
        return add_deconvolution_nd(n, input, num_output_maps, k, to_weights(kernel, "add_deconvolution kernel"),
                                    to_weights(bias, "add_deconvolution bias"));
      },
      nb::rv_policy::reference_internal, nb::arg("input"), nb::arg("num_output_maps"), nb::arg("kernel_shape"),
      nb::arg("kernel"), nb::arg("bias") = nb::none(), "Legacy 2-D form of add_deconvolution_nd");
}

}  // namespace torch2trt::py
