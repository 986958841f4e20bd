#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "channels_last_ref.h"
#include "cpu_paths.h"

namespace t2t_test {
namespace {

int64_t fdiv(int64_t a, int64_t b) { return static_cast<int64_t>(std::floor(static_cast<double>(a) / b)); }
int64_t cdiv(int64_t a, int64_t b) { return static_cast<int64_t>(std::ceil(static_cast<double>(a) / b)); }

struct ConvSpec {
  std::string name;
  int64_t n = 2, c = 4, k = 6, groups = 1;
  std::vector<int64_t> in, ker;
  std::vector<int64_t> stride, dil, pre, post, opad;  // empty: 1 for stride/dil, 0 for the others
  PaddingMode mode = PaddingMode::kEXPLICIT_ROUND_DOWN;
  bool bias = true;
  DataType weights_dtype = DataType::kFLOAT;

  int nsp() const { return static_cast<int>(ker.size()); }
  int64_t at(const std::vector<int64_t>& v, int i, int64_t dflt) const { return v.empty() ? dflt : v[i]; }
  int64_t s(int i) const { return at(stride, i, 1); }
  int64_t d(int i) const { return at(dil, i, 1); }
  int64_t window(int i) const { return d(i) * (ker[i] - 1) + 1; }
  Dims dims(const std::vector<int64_t>& v, int64_t dflt) const {
    std::vector<int64_t> r;
    for (int i = 0; i < nsp(); ++i) r.push_back(at(v, i, dflt));
    return Dims::from(r);
  }
  int64_t kvol() const {
    int64_t v = 1;
    for (auto x : ker) v *= x;
    return v;
  }
};

// Output extent and leading padding of one spatial dimension, written from TensorRT's formulas.
void conv_extent(const ConvSpec& s, int i, int64_t* out, int64_t* pre) {
  int64_t in = s.in[i], w = s.window(i), st = s.s(i), p0 = s.at(s.pre, i, 0), p1 = s.at(s.post, i, 0);
  switch (s.mode) {
    case PaddingMode::kEXPLICIT_ROUND_DOWN: *out = fdiv(in + p0 + p1 - w, st) + 1, *pre = p0; break;
    case PaddingMode::kEXPLICIT_ROUND_UP: *out = cdiv(in + p0 + p1 - w, st) + 1, *pre = p0; break;
    case PaddingMode::kCAFFE_ROUND_DOWN: *out = fdiv(in + 2 * p0 - w, st) + 1, *pre = p0; break;
    case PaddingMode::kCAFFE_ROUND_UP: *out = cdiv(in + 2 * p0 - w, st) + 1, *pre = p0; break;
    case PaddingMode::kSAME_UPPER:
    case PaddingMode::kSAME_LOWER: {
      *out = cdiv(in, st);
      int64_t total = std::max<int64_t>(0, (*out - 1) * st + w - in);
      *pre = s.mode == PaddingMode::kSAME_UPPER ? total / 2 : (total + 1) / 2;
      break;
    }
  }
}

void deconv_extent(const ConvSpec& s, int i, int64_t* out, int64_t* pre) {
  int64_t in = s.in[i], w = s.window(i), st = s.s(i), p0 = s.at(s.pre, i, 0), p1 = s.at(s.post, i, 0);
  int64_t op = s.at(s.opad, i, 0);
  switch (s.mode) {
    case PaddingMode::kEXPLICIT_ROUND_DOWN:
    case PaddingMode::kEXPLICIT_ROUND_UP: *out = (in - 1) * st + w - p0 - p1 + op, *pre = p0; break;
    case PaddingMode::kCAFFE_ROUND_DOWN:
    case PaddingMode::kCAFFE_ROUND_UP: *out = (in - 1) * st + w - 2 * p0 + op, *pre = p0; break;
    case PaddingMode::kSAME_UPPER:
    case PaddingMode::kSAME_LOWER: {
      *out = in * st + op;
      int64_t total = w - st;
      *pre = s.mode == PaddingMode::kSAME_UPPER ? total / 2 : (total + 1) / 2;
      break;
    }
  }
}

// Decodes a row-major linear index over `ext` into `idx`.
void unravel(int64_t lin, const std::vector<int64_t>& ext, std::vector<int64_t>* idx) {
  idx->resize(ext.size());
  for (size_t i = ext.size(); i-- > 0;) {
    (*idx)[i] = lin % ext[i];
    lin /= ext[i];
  }
}

int64_t volume(const std::vector<int64_t>& v) {
  int64_t r = 1;
  for (auto x : v) r *= x;
  return r;
}

// float64 convolution: every output sums its taps directly.
HostTensor ref_conv(const ConvSpec& s, const HostTensor& x, const std::vector<double>& w, const std::vector<double>& b) {
  int nsp = s.nsp();
  std::vector<int64_t> out(nsp), pre(nsp);
  for (int i = 0; i < nsp; ++i) conv_extent(s, i, &out[i], &pre[i]);
  HostTensor y;
  y.dtype = x.dtype;
  std::vector<int64_t> yd = {s.n, s.k};
  yd.insert(yd.end(), out.begin(), out.end());
  y.dims = Dims::from(yd);
  int64_t osp = volume(out), isp = volume(s.in), kvol = s.kvol(), cg = s.c / s.groups, kg = s.k / s.groups;
  y.v.assign(static_cast<size_t>(s.n * s.k * osp), 0.0);
  std::vector<int64_t> o, kk;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oc = 0; oc < s.k; ++oc)
      for (int64_t ol = 0; ol < osp; ++ol) {
        unravel(ol, out, &o);
        double acc = s.bias ? b[oc] : 0.0;
        for (int64_t ic = 0; ic < cg; ++ic)
          for (int64_t kl = 0; kl < kvol; ++kl) {
            unravel(kl, s.ker, &kk);
            int64_t off = 0;
            bool inside = true;
            for (int i = 0; i < nsp; ++i) {
              int64_t p = o[i] * s.s(i) - pre[i] + kk[i] * s.d(i);
              inside = inside && p >= 0 && p < s.in[i];
              off = off * s.in[i] + p;
            }
            if (!inside) continue;
            acc += x.v[(n * s.c + (oc / kg) * cg + ic) * isp + off] * w[(oc * cg + ic) * kvol + kl];
          }
        y.v[(n * s.k + oc) * osp + ol] = acc;
      }
  return y;
}

// float64 transposed convolution: every input element scatters into the outputs its taps reach.
HostTensor ref_deconv(const ConvSpec& s, const HostTensor& x, const std::vector<double>& w, const std::vector<double>& b) {
  int nsp = s.nsp();
  std::vector<int64_t> out(nsp), pre(nsp);
  for (int i = 0; i < nsp; ++i) deconv_extent(s, i, &out[i], &pre[i]);
  HostTensor y;
  y.dtype = x.dtype;
  std::vector<int64_t> yd = {s.n, s.k};
  yd.insert(yd.end(), out.begin(), out.end());
  y.dims = Dims::from(yd);
  int64_t osp = volume(out), isp = volume(s.in), kvol = s.kvol(), cg = s.c / s.groups, kg = s.k / s.groups;
  y.v.assign(static_cast<size_t>(s.n * s.k * osp), 0.0);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oc = 0; oc < s.k; ++oc)
      for (int64_t ol = 0; ol < osp; ++ol) y.v[(n * s.k + oc) * osp + ol] = s.bias ? b[oc] : 0.0;
  std::vector<int64_t> ii, kk;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t ic = 0; ic < s.c; ++ic)
      for (int64_t il = 0; il < isp; ++il) {
        unravel(il, s.in, &ii);
        double xv = x.v[(n * s.c + ic) * isp + il];
        for (int64_t kl = 0; kl < kvol; ++kl) {
          unravel(kl, s.ker, &kk);
          int64_t off = 0;
          bool inside = true;
          for (int i = 0; i < nsp; ++i) {
            int64_t p = ii[i] * s.s(i) - pre[i] + kk[i] * s.d(i);
            inside = inside && p >= 0 && p < out[i];
            off = off * out[i] + p;
          }
          if (!inside) continue;
          int64_t grp = ic / cg;
          for (int64_t ocg = 0; ocg < kg; ++ocg)
            y.v[(n * s.k + grp * kg + ocg) * osp + off] += xv * w[(ic * kg + ocg) * kvol + kl];
        }
      }
  return y;
}

Weights make_weights(const std::vector<double>& v, DataType t) {
  std::vector<float> f(v.begin(), v.end());
  Weights w = Weights::f32(f);
  if (t == DataType::kFLOAT) return w;
  std::vector<uint16_t> h(f.size());
  for (size_t i = 0; i < f.size(); ++i) h[i] = t == DataType::kHALF ? float_to_half(f[i]) : float_to_bf16(f[i]);
  return Weights(t, h.data(), static_cast<int64_t>(h.size()));
}

// Random weights rounded to the dtype they are stored in, so the reference sees the same values.
std::vector<double> rounded_weights(int64_t n, DataType t) {
  auto v = random_values(n, DataType::kFLOAT, -1, 1);
  for (auto& x : v) {
    if (t == DataType::kHALF) x = half_to_float(float_to_half(static_cast<float>(x)));
    if (t == DataType::kBF16) x = bf16_to_float(float_to_bf16(static_cast<float>(x)));
  }
  return v;
}

template <class L>
void apply_spec(L* l, const ConvSpec& s) {
  l->p.stride = s.dims(s.stride, 1);
  l->p.dilation = s.dims(s.dil, 1);
  l->p.pre_padding = s.dims(s.pre, 0);
  l->p.post_padding = s.dims(s.post, 0);
  l->p.num_groups = s.groups;
  l->p.padding_mode = s.mode;
}

// cl: the convolution stores x and y channels-last (what the layout_channels_last pass makes).
void run_case(const ConvSpec& s, bool transposed, DataType dt, bool cl = false) {
  const int nsp = static_cast<int>(s.in.size());
  int64_t wcount = transposed ? s.c * (s.k / s.groups) * s.kvol() : s.k * (s.c / s.groups) * s.kvol();
  auto w = std::make_shared<std::vector<double>>(rounded_weights(wcount, s.weights_dtype));
  auto b = std::make_shared<std::vector<double>>(rounded_weights(s.k, s.weights_dtype));
  OpCase c;
  c.variant = s.name + (cl ? "_channels_last_" : "_") + dtype_name(dt);
  std::vector<int64_t> xd = {s.n, s.c};
  xd.insert(xd.end(), s.in.begin(), s.in.end());
  c.inputs = {{dt, cl ? channels_last_dims(Dims::from(xd), nsp) : Dims::from(xd)}};
  c.build = [s, w, b, transposed, cl](Network& n, const std::vector<Tensor*>& in) {
    Weights kw = make_weights(*w, s.weights_dtype);
    Weights bw = s.bias ? make_weights(*b, s.weights_dtype) : Weights();
    Dims kd = Dims::from(s.ker);
    if (transposed) {
      // Parameters are set on a detached layer first: the defaults add_deconvolution_nd picks may not
      // give a valid output for this input.
      auto l = std::make_unique<DeconvolutionLayer>();
      l->p.num_output_maps = s.k;
      l->p.kernel_size = kd;
      l->p.kernel = kw;
      l->p.bias = bw;
      apply_spec(l.get(), s);
      l->p.output_padding = s.dims(s.opad, 0);
      return std::vector<Tensor*>{n.add(std::move(l), in, "add_deconvolution_nd")->output(0)};
    }
    auto l = std::make_unique<ConvolutionLayer>();
    l->p.num_output_maps = s.k;
    l->p.kernel_size = kd;
    l->p.kernel = kw;
    l->p.bias = bw;
    apply_spec(l.get(), s);
    l->p.channels_last = cl;
    return std::vector<Tensor*>{n.add(std::move(l), in, "add_convolution_nd")->output(0)};
  };
  c.reference = [s, w, b, transposed, cl, nsp](const std::vector<HostTensor>& in) {
    if (cl) return std::vector<HostTensor>{move_channels(ref_conv(s, move_channels(in[0], nsp, false), *w, *b), nsp, true)};
    return std::vector<HostTensor>{transposed ? ref_deconv(s, in[0], *w, *b) : ref_conv(s, in[0], *w, *b)};
  };
  check_op_all_paths(transposed ? LayerKind::kDeconvolution : LayerKind::kConvolution, c);
}

std::vector<ConvSpec> conv_specs() {
  using P = PaddingMode;
  std::vector<ConvSpec> v;
  auto add = [&](ConvSpec s) { v.push_back(s); };
  add({"1d_stride_asym_pad", 2, 4, 6, 1, {13}, {3}, {2}, {}, {1}, {2}});
  add({"1d_groups_dilation", 2, 4, 8, 2, {17}, {3}, {}, {2}});
  add({"2d_pad1", 2, 3, 5, 1, {9, 8}, {3, 3}, {}, {}, {1, 1}, {1, 1}});
  add({"2d_stride_asym_pad", 1, 3, 4, 1, {11, 10}, {3, 2}, {2, 3}, {}, {1, 0}, {0, 2}});
  add({"2d_groups_dilation_stride", 2, 6, 9, 3, {12, 11}, {3, 3}, {1, 2}, {2, 1}, {2, 1}, {2, 1}});
  add({"2d_depthwise", 2, 4, 4, 4, {10, 10}, {3, 3}, {2, 2}, {}, {1, 1}, {1, 1}});
  ConvSpec pw{"2d_1x1_nobias", 2, 8, 4, 1, {5, 6}, {1, 1}};
  pw.bias = false;
  add(pw);
  add({"3d_stride_asym_pad", 1, 2, 4, 1, {5, 6, 7}, {3, 2, 3}, {1, 2, 2}, {}, {1, 0, 1}, {1, 1, 0}});
  add({"3d_groups_dilation", 2, 4, 4, 2, {7, 6, 8}, {2, 3, 2}, {}, {2, 1, 3}});
  ConvSpec up{"2d_round_up", 1, 3, 4, 1, {10, 9}, {3, 3}, {2, 2}, {}, {0, 1}, {0, 0}};
  up.mode = P::kEXPLICIT_ROUND_UP;
  add(up);
  ConvSpec su{"2d_same_upper", 1, 3, 4, 1, {10, 9}, {4, 3}, {3, 2}};
  su.mode = P::kSAME_UPPER;
  add(su);
  ConvSpec sl{"2d_same_lower", 1, 3, 4, 1, {10, 9}, {4, 3}, {1, 2}};
  sl.mode = P::kSAME_LOWER;
  add(sl);
  ConvSpec cd{"2d_caffe_round_down", 1, 3, 4, 1, {8, 9}, {3, 5}, {2, 2}, {}, {1, 2}, {0, 0}};
  cd.mode = P::kCAFFE_ROUND_DOWN;
  add(cd);
  ConvSpec hw{"2d_half_weights", 2, 3, 5, 1, {7, 7}, {3, 3}, {}, {}, {1, 1}, {1, 1}};
  hw.weights_dtype = DataType::kHALF;
  add(hw);
  return v;
}

std::vector<ConvSpec> deconv_specs() {
  using P = PaddingMode;
  std::vector<ConvSpec> v;
  auto add = [&](ConvSpec s) { v.push_back(s); };
  add({"1d_stride_pad_outpad", 2, 4, 6, 1, {7}, {3}, {2}, {}, {1}, {1}, {1}});
  add({"2d_basic", 2, 3, 4, 1, {5, 6}, {3, 3}});
  add({"2d_stride_asym_pad_outpad", 1, 4, 6, 1, {5, 4}, {4, 3}, {2, 3}, {}, {1, 0}, {1, 1}, {1, 2}});
  add({"2d_groups_dilation_outpad", 2, 6, 4, 2, {5, 6}, {3, 2}, {2, 1}, {2, 2}, {1, 1}, {0, 1}, {0, 1}});
  add({"2d_outpad_from_dilation", 1, 2, 3, 1, {4, 5}, {2, 2}, {1, 1}, {3, 3}, {}, {}, {2, 2}});
  add({"2d_depthwise", 2, 4, 4, 4, {6, 5}, {3, 3}, {2, 2}, {}, {1, 1}, {1, 1}, {1, 0}});
  add({"3d_stride_asym_pad_outpad", 1, 2, 4, 1, {3, 4, 5}, {2, 3, 3}, {2, 1, 2}, {}, {0, 1, 1}, {1, 0, 1}, {1, 0, 0}});
  add({"3d_groups", 1, 4, 6, 2, {3, 3, 4}, {3, 2, 2}, {1, 2, 1}, {1, 1, 2}});
  ConvSpec su{"2d_same_upper", 1, 3, 4, 1, {5, 6}, {4, 3}, {2, 2}};
  su.mode = P::kSAME_UPPER;
  add(su);
  ConvSpec sl{"2d_same_lower", 1, 3, 4, 1, {5, 6}, {4, 3}, {2, 2}};
  sl.mode = P::kSAME_LOWER;
  add(sl);
  ConvSpec nb{"2d_nobias_half_weights", 2, 3, 2, 1, {4, 4}, {3, 3}, {2, 2}, {}, {1, 1}, {1, 1}};
  nb.bias = false;
  nb.weights_dtype = DataType::kHALF;
  add(nb);
  return v;
}

TEST(Convolution, MatchesReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    for (auto& s : conv_specs()) run_case(s, false, dt);
  run_case(conv_specs()[4], false, DataType::kBF16);
}

TEST(Convolution, ChannelsLastMatchesReference) {
  // Every geometry (asymmetric padding takes the direct CUDA kernel), plus cuDNN's tensor-core shapes.
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    for (auto& s : conv_specs()) run_case(s, false, dt, true);
  ConvSpec tc{"2d_tensor_core_16x32", 2, 16, 32, 1, {9, 8}, {3, 3}, {2, 2}, {}, {1, 1}, {1, 1}};
  ConvSpec dw{"2d_depthwise_16", 2, 16, 16, 16, {10, 9}, {3, 3}, {1, 1}, {}, {1, 1}, {1, 1}};
  // An image stem: 3 input channels, which the CUDA kernel pads to 8 for cuDNN's tensor cores.
  ConvSpec stem{"2d_stem_3_channels", 2, 3, 16, 1, {20, 18}, {7, 7}, {2, 2}, {}, {3, 3}, {3, 3}};
  for (DataType dt : {DataType::kHALF, DataType::kBF16, DataType::kFLOAT}) {
    run_case(tc, false, dt, true);
    run_case(dw, false, dt, true);
    run_case(stem, false, dt, true);
  }
}

// y = act(conv(x) + bias + z) stored channels-last, as fuse_convolution_epilogue and layout_channels_last
// leave MobileNet's ReLU6 and EfficientNet's SiLU blocks. On CUDA, K = 16 takes the 16-byte vector epilogue
// (8 halves, 4 floats) after cuDNN (symmetric padding) or the direct kernel (asymmetric padding, bias in
// the kernel, none in the epilogue); K = 6 takes the scalar epilogue.
void run_fused_cl_case(const ConvSpec& s, ActivationParams act, bool residual, DataType dt, int64_t cuda_tactic = -1,
                       bool misalign = false, const std::string& cuda_kernel = "") {
  const int nsp = s.nsp();
  auto w = std::make_shared<std::vector<double>>(rounded_weights(s.k * (s.c / s.groups) * s.kvol(), DataType::kFLOAT));
  auto b = std::make_shared<std::vector<double>>(rounded_weights(s.k, DataType::kFLOAT));
  std::vector<int64_t> xd = {s.n, s.c}, yd = {s.n, s.k};
  xd.insert(xd.end(), s.in.begin(), s.in.end());
  for (int i = 0; i < nsp; ++i) {
    int64_t out, pre;
    conv_extent(s, i, &out, &pre);
    yd.push_back(out);
  }
  OpCase c;
  c.variant = s.name + "_channels_last_" + activation_type_name(act.type) + (residual ? "_residual_" : "_") + dtype_name(dt) +
              (misalign ? "_misaligned" : "");
  c.cuda_tactic = cuda_tactic;
  c.cuda_kernel = cuda_kernel;
  if (cuda_tactic >= 0) c.variant += "_tactic" + std::to_string(cuda_tactic);
  c.misalign = misalign;
  c.inputs = {{dt, channels_last_dims(Dims::from(xd), nsp)}};
  if (residual) c.inputs.push_back({dt, channels_last_dims(Dims::from(yd), nsp)});
  c.build = [s, w, b, act](Network& n, const std::vector<Tensor*>& in) {
    auto l = std::make_unique<ConvolutionLayer>();
    l->p.num_output_maps = s.k;
    l->p.kernel_size = Dims::from(s.ker);
    l->p.kernel = make_weights(*w, DataType::kFLOAT);
    l->p.bias = make_weights(*b, DataType::kFLOAT);
    apply_spec(l.get(), s);
    l->p.channels_last = true;
    l->p.has_activation = true;
    l->p.activation = act;
    return std::vector<Tensor*>{n.add(std::move(l), in, "add_convolution_nd")->output(0)};
  };
  c.reference = [s, w, b, act, residual, nsp](const std::vector<HostTensor>& in) {
    HostTensor y = move_channels(ref_conv(s, move_channels(in[0], nsp, false), *w, *b), nsp, true);
    for (size_t i = 0; i < y.v.size(); ++i) {
      double v = y.v[i] + (residual ? in[1].v[i] : 0.0);
      switch (act.type) {
        case ActivationType::kCLIP: v = std::min<double>(std::max<double>(v, act.alpha), act.beta); break;
        case ActivationType::kSILU: v = v / (1.0 + std::exp(-v)); break;
        default: ADD_FAILURE() << "no reference for " << activation_type_name(act.type);
      }
      y.v[i] = v;
    }
    return std::vector<HostTensor>{y};
  };
  check_op_all_paths(LayerKind::kConvolution, c);
}

// Depthwise channels-last convolutions on CUDA's own kernel (tactic forced): 16-byte vectors of channels
// (C = 16, 24: 8 halves, 4 floats; C = 6 and misaligned buffers: channel pairs), stride 2, the fused bias,
// SiLU and residual.
TEST(Convolution, ChannelsLastDepthwiseOwnKernel) {
  const ActivationParams silu{ActivationType::kSILU, 0.f, 0.f};
  const ConvSpec specs[] = {
      {"2d_depthwise_c16", 2, 16, 16, 16, {9, 8}, {3, 3}, {}, {}, {1, 1}, {1, 1}},
      {"2d_depthwise_c24_stride2", 1, 24, 24, 24, {11, 10}, {3, 3}, {2, 2}, {}, {1, 1}, {1, 1}},
      {"2d_depthwise_c8_5x5_stride2", 2, 8, 8, 8, {12, 13}, {5, 5}, {2, 2}, {}, {2, 2}, {2, 2}},
      {"2d_depthwise_c6", 1, 6, 6, 6, {7, 6}, {3, 3}, {}, {}, {1, 1}, {1, 1}},
      // An odd channel count: the last pair holds one channel.
      {"2d_depthwise_c7", 2, 7, 7, 7, {6, 5}, {3, 3}, {}, {}, {1, 1}, {1, 1}},
      // Kernel widths the kernel does not unroll (7) and a 5-tall, 3-wide one (the unrolled width 3).
      {"2d_depthwise_c16_k3x7", 1, 16, 16, 16, {9, 12}, {3, 7}, {}, {}, {1, 3}, {1, 3}},
      {"2d_depthwise_c16_k5x3", 1, 16, 16, 16, {9, 12}, {5, 3}, {}, {}, {2, 1}, {2, 1}},
  };
  for (DataType dt : {DataType::kHALF, DataType::kFLOAT, DataType::kBF16})
    for (const ConvSpec& s : specs)
      for (bool residual : {false, true}) run_fused_cl_case(s, silu, residual, dt, int64_t(1) << 20);
  run_fused_cl_case(specs[0], silu, true, DataType::kHALF, int64_t(1) << 20, /*misalign=*/true);
}

// Pointwise channels-last convolutions on CUDA's own GEMM (gemm_mma, tactic ids 2^22 + configuration): every
// tile configuration, tails of the rows (pixels), of K (not a multiple of the tile's 64 columns) and of C
// (not a multiple of 32), 1 and 2 spatial dimensions, SiLU / ReLU6 with and without the residual. Misaligned
// buffers fall back to cuDNN.
TEST(Convolution, PointwiseOwnGemm) {
  const ActivationParams relu6{ActivationType::kCLIP, 0.f, 6.f}, silu{ActivationType::kSILU, 0.f, 0.f};
  const ConvSpec specs[] = {
      {"2d_1x1_c40_k24", 2, 40, 24, 1, {7, 9}, {1, 1}},
      {"2d_1x1_c16_k72", 1, 16, 72, 1, {5, 5}, {1, 1}},
      {"1d_1x1_c96_k136", 3, 96, 136, 1, {45}, {1}},
  };
  const int64_t own = int64_t(1) << 22;
  for (int config = 0; config < 8; ++config)  // kGemmMmaConfigs
    for (DataType dt : {DataType::kHALF, DataType::kBF16})
      for (const ConvSpec& s : specs)
        for (bool residual : {false, true})
          run_fused_cl_case(s, residual ? silu : relu6, residual, dt, own + config, false, "gemm_mma");
  run_fused_cl_case(specs[0], silu, true, DataType::kHALF, own, /*misalign=*/true, "cudnn");
}

TEST(Convolution, ChannelsLastFusedEpilogue) {
  const ActivationParams relu6{ActivationType::kCLIP, 0.f, 6.f}, silu{ActivationType::kSILU, 0.f, 0.f};
  const ConvSpec specs[] = {
      {"2d_k16_pad1", 2, 16, 16, 1, {9, 8}, {3, 3}, {}, {}, {1, 1}, {1, 1}},
      {"2d_k16_asym_pad", 1, 8, 16, 1, {7, 9}, {3, 2}, {2, 1}, {}, {1, 0}, {0, 1}},
      {"2d_k6_pad1", 2, 16, 6, 1, {6, 7}, {3, 3}, {}, {}, {1, 1}, {1, 1}},
  };
  for (DataType dt : {DataType::kHALF, DataType::kFLOAT, DataType::kBF16})
    for (const ConvSpec& s : specs) {
      run_fused_cl_case(s, relu6, true, dt);
      run_fused_cl_case(s, silu, true, dt);
      run_fused_cl_case(s, silu, false, dt);
    }
}

TEST(Deconvolution, RefusesChannelsLast) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims::from({1, 2, 4, 4}));
  auto l = std::make_unique<DeconvolutionLayer>();
  l->p.num_output_maps = 2;
  l->p.kernel_size = Dims::from({2, 2});
  l->p.kernel = Weights::f32(std::vector<float>(16, 1.f));
  l->p.stride = l->p.dilation = Dims::from({1, 1});
  l->p.pre_padding = l->p.post_padding = Dims::from({0, 0});
  l->p.channels_last = true;
  try {
    net.add(std::move(l), {x}, "add_deconvolution_nd");
    FAIL() << "expected an error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("channels_last"), std::string::npos) << e.what();
  }
}

TEST(Deconvolution, MatchesReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    for (auto& s : deconv_specs()) run_case(s, true, dt);
  run_case(deconv_specs()[3], true, DataType::kBF16);
}

// The usual shapes get oneDNN primitives (when built in), the forced path gets the loops.
TEST(Convolution, ImplementationChoice) {
  for (bool ref : cpu_paths()) {
    ForceReference f(ref);
    for (int nsp = 1; nsp <= 3; ++nsp) {
      for (bool transposed : {false, true}) {
        Network net;
        std::vector<int64_t> xd = {2, 4}, kd;
        for (int i = 0; i < nsp; ++i) xd.push_back(6), kd.push_back(3);
        Tensor* x = net.add_input("x", DataType::kFLOAT, Dims::from(xd));
        Weights k = Weights::f32(std::vector<float>(static_cast<size_t>(4 * 4 * std::pow(3, nsp)), 0.5f));
        Layer* l = transposed ? static_cast<Layer*>(add_deconvolution_nd(net, x, 4, Dims::from(kd), k, Weights()))
                              : add_convolution_nd(net, x, 4, Dims::from(kd), k, Weights());
        l->output(0)->set_name("y");
        net.mark_output(l->output(0));
        std::string want = std::string(ref ? "ref_" : "onednn_") + (transposed ? "deconv" : "conv");
        EXPECT_EQ(cpu_impl_of(net, 0), want) << nsp << "-D";
      }
    }
  }
}

// Run-time shapes: one engine, two input shapes, each checked against the reference.
TEST(Convolution, RuntimeShapes) {
  ConvSpec s{"dyn", 1, 3, 4, 1, {9, 8}, {3, 3}, {2, 2}, {}, {1, 1}, {1, 1}};
  auto w = rounded_weights(s.k * s.c * s.kvol(), DataType::kFLOAT);
  auto b = rounded_weights(s.k, DataType::kFLOAT);
  for (bool ref : cpu_paths()) {
    ForceReference f(ref);
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{-1, 3, -1, -1});
    auto* l = add_convolution_nd(net, x, s.k, Dims{3, 3}, make_weights(w, DataType::kFLOAT), make_weights(b, DataType::kFLOAT));
    l->p.stride = Dims{2, 2};
    l->p.pre_padding = l->p.post_padding = Dims{1, 1};
    net.reinfer();
    EXPECT_EQ(l->output(0)->dims(), (Dims{-1, 4, -1, -1}));
    l->output(0)->set_name("y");
    net.mark_output(l->output(0));
    auto bytes = Builder().build_serialized(net, BuilderConfig());
    auto engine = Engine::deserialize(bytes.data(), bytes.size());
    auto ctx = engine->create_execution_context();
    for (auto shape : std::vector<std::vector<int64_t>>{{2, 3, 9, 8}, {1, 3, 12, 5}}) {
      s.n = shape[0];
      s.in = {shape[2], shape[3]};
      HostTensor hx;
      hx.dims = Dims::from(shape);
      hx.v = random_values(hx.numel(), DataType::kFLOAT, -1, 1);
      HostTensor want = ref_conv(s, hx, w, b);
      ctx->set_input_shape("x", hx.dims);
      ASSERT_EQ(ctx->tensor_shape("y"), want.dims);
      std::vector<float> xin(hx.v.begin(), hx.v.end()), y(static_cast<size_t>(want.numel()));
      ctx->set_tensor_address("x", xin.data());
      ctx->set_tensor_address("y", y.data());
      ctx->enqueue(nullptr);
      double num = 0, den = 0;
      for (size_t i = 0; i < y.size(); ++i) num += std::pow(y[i] - want.v[i], 2), den += want.v[i] * want.v[i];
      EXPECT_LE(std::sqrt(num / den), 1e-5) << hx.dims.str() << (ref ? " loops" : " onednn");
    }
  }
}

// Contexts of one engine run at once from two threads (each context owns its oneDNN primitives and
// stream); every run must equal the single-threaded result for the same input.
TEST(Convolution, ConcurrentContexts) {
  for (bool ref : cpu_paths()) {
    ForceReference f(ref);
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 4, 9, 9});
    auto* conv = add_convolution_nd(net, x, 4, Dims{3, 3}, make_weights(random_values(144, DataType::kFLOAT, -1, 1), DataType::kFLOAT),
                                    make_weights(random_values(4, DataType::kFLOAT, -1, 1), DataType::kFLOAT));
    conv->p.pre_padding = conv->p.post_padding = Dims{1, 1};
    net.reinfer();
    auto* pool = add_pooling_nd(net, conv->output(0), PoolingType::kMAX, Dims{2, 2});
    Tensor* p = pool->output(0);
    auto* mm = add_matrix_multiply(net, p, MatrixOperation::kNONE, p, MatrixOperation::kTRANSPOSE);
    mm->output(0)->set_name("y");
    net.mark_output(mm->output(0));
    auto bytes = Builder().build_serialized(net, BuilderConfig());
    auto engine = Engine::deserialize(bytes.data(), bytes.size());
    const int kInputs = 4;
    std::vector<std::vector<float>> xs, want;
    {
      auto ctx = engine->create_execution_context();
      for (int i = 0; i < kInputs; ++i) {
        auto v = random_values(2 * 4 * 81, DataType::kFLOAT, -1, 1);
        xs.emplace_back(v.begin(), v.end());
        want.emplace_back(2 * 4 * 4 * 4);
        ctx->set_tensor_address("x", xs.back().data());
        ctx->set_tensor_address("y", want.back().data());
        ctx->enqueue(nullptr);
      }
    }
    std::atomic<int> mismatches{0};
    auto worker = [&](int seed) {
      auto ctx = engine->create_execution_context();
      std::vector<float> y(2 * 4 * 4 * 4);
      for (int it = 0; it < 40; ++it) {
        int i = (it + seed) % kInputs;
        ctx->set_tensor_address("x", xs[i].data());
        ctx->set_tensor_address("y", y.data());
        ctx->enqueue(nullptr);
        if (y != want[i]) ++mismatches;
      }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    EXPECT_EQ(mismatches.load(), 0) << (ref ? "loops" : "onednn");
  }
}

// A layer built from a ConvSpec-like parameter set, without add_*'s defaults (for error cases).
template <class L>
Layer* add_raw(Network& n, Tensor* x, const std::function<void(L&)>& set) {
  auto l = std::make_unique<L>();
  set(*l);
  return n.add(std::move(l), {x}, "add_raw");
}

TEST(Convolution, ErrorsNameTheArgument) {
  Network n;
  Tensor* x = n.add_input("x", DataType::kFLOAT, Dims{1, 4, 8, 8});
  auto k = [](int64_t count) { return Weights::f32(std::vector<float>(static_cast<size_t>(count), 1.f)); };
  // C = 4 is not divisible by 3 groups; a rejected change is undone.
  auto* ok = add_convolution_nd(n, x, 6, Dims{3, 3}, k(6 * 4 * 9), Weights());
  expect_invalid([&] {
    ok->p.num_groups = 3;
    ok->changed([&] { ok->p.num_groups = 1; });
  }, {"num_groups", "4", "3"});
  EXPECT_EQ(ok->p.num_groups, 1);
  EXPECT_EQ(n.num_layers(), 1);
  n.remove_layers({ok});
  expect_invalid([&] {
    add_raw<ConvolutionLayer>(n, x, [&](ConvolutionLayer& l) {
      l.p.num_output_maps = 5, l.p.kernel_size = Dims{3, 3}, l.p.stride = l.p.dilation = Dims{1, 1};
      l.p.pre_padding = l.p.post_padding = Dims{0, 0}, l.p.num_groups = 2, l.p.kernel = k(5 * 2 * 9);
    });
  }, {"num_groups", "num_output_maps 5"});
  expect_invalid([&] { add_convolution_nd(n, x, 16, Dims{3, 3}, k(100), Weights()); }, {"kernel", "576", "100", "(1, 4, 8, 8)"});
  expect_invalid([&] { add_convolution_nd(n, x, 16, Dims{3, 3}, k(576), k(15)); }, {"bias", "16", "15"});
  expect_invalid([&] {
    add_raw<ConvolutionLayer>(n, x, [&](ConvolutionLayer& l) {
      l.p.num_output_maps = 2, l.p.kernel_size = Dims{9, 3}, l.p.stride = l.p.dilation = Dims{1, 1};
      l.p.pre_padding = l.p.post_padding = Dims{0, 0}, l.p.kernel = k(2 * 4 * 27);
    });
  }, {"input", "(1, 4, 8, 8)", "9"});
  expect_invalid([&] {
    add_raw<ConvolutionLayer>(n, x, [&](ConvolutionLayer& l) {
      l.p.num_output_maps = 2, l.p.kernel_size = Dims{3, 3}, l.p.stride = Dims{1, 1}, l.p.dilation = Dims{4, 1};
      l.p.pre_padding = l.p.post_padding = Dims{0, 0}, l.p.kernel = k(2 * 4 * 9);
    });
  }, {"input", "dilated kernel extent 9"});
  expect_invalid([&] { add_convolution_nd(n, x, 2, Dims{3}, k(2 * 4 * 3), Weights()); }, {"input", "rank-3", "(1, 4, 8, 8)"});
  expect_invalid([&] { add_convolution_nd(n, x, 2, Dims{3, 3, 3, 3}, k(2 * 4 * 81), Weights()); }, {"kernel_size"});
  expect_invalid([&] {
    add_raw<ConvolutionLayer>(n, x, [&](ConvolutionLayer& l) {
      l.p.num_output_maps = 2, l.p.kernel_size = Dims{3, 3}, l.p.stride = Dims{1}, l.p.dilation = Dims{1, 1};
      l.p.pre_padding = l.p.post_padding = Dims{0, 0}, l.p.kernel = k(2 * 4 * 9);
    });
  }, {"stride", "(1,)"});
  expect_invalid([&] {
    add_raw<ConvolutionLayer>(n, x, [&](ConvolutionLayer& l) {
      l.p.num_output_maps = 2, l.p.kernel_size = Dims{3, 3}, l.p.stride = Dims{1, 0}, l.p.dilation = Dims{1, 1};
      l.p.pre_padding = l.p.post_padding = Dims{0, 0}, l.p.kernel = k(2 * 4 * 9);
    });
  }, {"stride", ">= 1"});
  int32_t ints[4] = {1, 2, 3, 4};
  expect_invalid([&] { add_convolution_nd(n, x, 1, Dims{1, 1}, Weights(DataType::kINT32, ints, 4), Weights()); },
                 {"kernel", "int32"});
  Tensor* xi = n.add_input("xi", DataType::kINT32, Dims{1, 4, 8, 8});
  expect_invalid([&] { add_convolution_nd(n, xi, 1, Dims{1, 1}, k(4), Weights()); }, {"input", "int32"});
  Tensor* xc = n.add_input("xc", DataType::kFLOAT, Dims{1, -1, 8, 8});
  expect_invalid([&] { add_convolution_nd(n, xc, 1, Dims{1, 1}, k(4), Weights()); }, {"input", "channel"});
  EXPECT_EQ(n.num_layers(), 0);
}

// TensorRT converters add the layer, then set stride, padding, dilation and num_groups. Until the
// parameters are valid together the layer gives -1 extents; afterwards every change is checked at once.
TEST(Convolution, ProvisionalUntilValid) {
  Network n;
  Tensor* x = n.add_input("x", DataType::kFLOAT, Dims{1, 32, 2, 2});
  auto k = [](int64_t count) { return Weights::f32(std::vector<float>(static_cast<size_t>(count), 1.f)); };
  auto* l = add_convolution_nd(n, x, 32, Dims{3, 3}, k(32 * 9), Weights());  // depthwise: groups set below
  EXPECT_TRUE(l->provisional);
  EXPECT_EQ(l->output(0)->dims(), (Dims{1, 32, -1, -1}));
  auto set = [&](auto f, auto undo) {
    f();
    l->changed(undo);
  };
  set([&] { l->p.stride = Dims{2, 2}; }, [] {});
  set([&] { l->p.pre_padding = l->p.post_padding = Dims{1, 1}; }, [] {});
  EXPECT_TRUE(l->provisional);  // the kernel still implies 32 groups
  EXPECT_EQ(l->output(0)->dims(), (Dims{1, 32, 1, 1}));
  set([&] { l->p.num_groups = 32; }, [] {});
  EXPECT_FALSE(l->provisional);
  EXPECT_EQ(l->output(0)->dims(), (Dims{1, 32, 1, 1}));
  // Now strict: removing the padding is refused and undone.
  expect_invalid([&] {
    set([&] { l->p.pre_padding = l->p.post_padding = Dims{0, 0}; }, [&] { l->p.pre_padding = l->p.post_padding = Dims{1, 1}; });
  }, {"input", "(1, 32, 2, 2)"});
  EXPECT_EQ(l->output(0)->dims(), (Dims{1, 32, 1, 1}));
  // A size no num_groups explains is refused at once, with the sizes.
  expect_invalid([&] { add_convolution_nd(n, x, 32, Dims{3, 3}, k(31 * 9), Weights()); }, {"kernel", "279"});
  // A kernel for 4 groups, but num_groups never set: reported when the network is built, naming the layer.
  auto* bad = add_convolution_nd(n, x, 8, Dims{1, 1}, k(8 * 8), Weights());
  bad->set_name("conv_g4");
  auto* act = add_activation(n, bad->output(0), ActivationType::kRELU);
  EXPECT_EQ(act->output(0)->dims(), (Dims{1, 8, 2, 2}));
  act->output(0)->set_name("y");
  n.mark_output(act->output(0));
  n.mark_output(l->output(0));
  l->output(0)->set_name("z");
  expect_invalid([&] { Builder().build_serialized(n, BuilderConfig()); }, {"conv_g4", "kernel", "num_groups = 4"});
  set([&] { bad->p.num_groups = 4; }, [] {});
  EXPECT_NO_THROW(Builder().build_serialized(n, BuilderConfig()));
}

TEST(Deconvolution, ErrorsNameTheArgument) {
  Network n;
  Tensor* x = n.add_input("x", DataType::kFLOAT, Dims{1, 4, 5, 5});
  auto k = [](int64_t count) { return Weights::f32(std::vector<float>(static_cast<size_t>(count), 1.f)); };
  expect_invalid([&] { add_deconvolution_nd(n, x, 6, Dims{3, 3}, k(6 * 4 * 9 + 1), Weights()); },
                 {"kernel", "C*(K/groups)", "216"});
  auto base = [&](DeconvolutionLayer& l) {
    l.p.num_output_maps = 2, l.p.kernel_size = Dims{3, 3}, l.p.stride = Dims{2, 2}, l.p.dilation = Dims{1, 1};
    l.p.pre_padding = l.p.post_padding = l.p.output_padding = Dims{0, 0}, l.p.kernel = k(4 * 2 * 9);
  };
  expect_invalid([&] {
    add_raw<DeconvolutionLayer>(n, x, [&](DeconvolutionLayer& l) { base(l), l.p.output_padding = Dims{2, 0}; });
  }, {"output_padding", "stride", "dilation"});
  expect_invalid([&] {
    add_raw<DeconvolutionLayer>(n, x, [&](DeconvolutionLayer& l) {
      base(l), l.p.kernel_size = Dims{1, 1}, l.p.kernel = k(8), l.p.stride = Dims{3, 3};
      l.p.padding_mode = PaddingMode::kSAME_UPPER;
    });
  }, {"padding_mode", "stride"});
  expect_invalid([&] {
    add_raw<DeconvolutionLayer>(n, x, [&](DeconvolutionLayer& l) { base(l), l.p.pre_padding = l.p.post_padding = Dims{7, 7}; });
  }, {"input", "output extent"});
  expect_invalid([&] {
    add_raw<ConvolutionLayer>(n, x, [&](ConvolutionLayer& l) {
      l.p.num_output_maps = 2, l.p.kernel_size = Dims{3, 3}, l.p.stride = l.p.dilation = Dims{1, 1};
      l.p.pre_padding = l.p.post_padding = Dims{0, 0}, l.p.kernel = k(2 * 4 * 9), l.p.output_padding = Dims{1, 1};
    });
  }, {"output_padding", "deconvolution only"});
  EXPECT_EQ(n.num_layers(), 0);
}

}  // namespace
}  // namespace t2t_test
