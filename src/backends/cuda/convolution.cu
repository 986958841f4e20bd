// CUDA convolution and deconvolution: cuDNN (legacy v7-style API) when built with it, a direct kernel
// otherwise and for the rare geometries cuDNN refuses. NCHW layout, or NHWC for convolutions the
// layout_channels_last pass converted (cuDNN's tensor-core kernels want it); float32/float16/bfloat16 data,
// float accumulation, no TF32 for float32 (results must match the float64 reference to 1e-5).
#include "backends/common/pointwise_math.h"
#include "backends/cuda/act_kind.cuh"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cudnn_util.h"
#include "backends/cuda/gemm_mma.h"
#include "backends/cuda/vector_io.cuh"

namespace torch2trt::gpu {
namespace {

// Scratch a convolution algorithm may use, or less where the engine's limit (max_workspace_size) is lower:
// algorithms needing more are skipped.
constexpr size_t kMaxAlgoWorkspace = size_t(256) << 20;

size_t align256(size_t n) { return (n + 255) & ~size_t(255); }

// The geometry with 1-D and 2-D cases lifted to 3-D (leading unit dimensions), so one kernel serves all.
struct Geo3 {
  int64_t n = 0, c = 0, k = 0, groups = 1;
  bool cl = false;  // x and y channels-last: (n, *spatial, c)
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, ker[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1};
  int64_t pad[3] = {0, 0, 0};
};

Geo3 lift(const ConvolutionGeometry& g) {
  Geo3 r;
  r.n = g.batch, r.c = g.in_channels, r.k = g.out_channels, r.groups = g.groups;
  int off = 3 - g.nsp;
  for (int i = 0; i < g.nsp; ++i) {
    r.in[off + i] = g.in[i];
    r.out[off + i] = g.out[i];
    r.ker[off + i] = g.kernel[i];
    r.stride[off + i] = g.stride[i];
    r.dil[off + i] = g.dilation[i];
    r.pad[off + i] = g.pre[i];
  }
  return r;
}

// y[n, oc, o] = bias[oc] + sum over the group's input channels and taps of x[n, ic, o*s - pad + k*d] * w[oc, ic, k].
template <class T>
__global__ void direct_conv(Geo3 g, const T* __restrict__ x, const T* __restrict__ w, const float* __restrict__ bias,
                            T* __restrict__ y) {
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t osp = g.out[0] * g.out[1] * g.out[2], total = g.n * g.k * osp;
  const int64_t kvol = g.ker[0] * g.ker[1] * g.ker[2];
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t oc, t = i;
    if (g.cl) oc = t % g.k, t /= g.k;
    int64_t ow = t % g.out[2];
    t /= g.out[2];
    int64_t oh = t % g.out[1];
    t /= g.out[1];
    int64_t od = t % g.out[0];
    t /= g.out[0];
    if (!g.cl) oc = t % g.k, t /= g.k;
    int64_t n = t, grp = oc / kg;
    const int64_t isp = g.in[0] * g.in[1] * g.in[2];
    // Element (n, ch, s) of x: NCHW at (n * c + ch) * isp + s, NHWC at (n * isp + s) * c + ch.
    const int64_t sp_step = g.cl ? g.c : 1;
    float acc = bias ? bias[oc] : 0.f;
    for (int64_t ic = 0; ic < cg; ++ic) {
      const int64_t ch = grp * cg + ic;
      const T* xi = x + (g.cl ? n * isp * g.c + ch : (n * g.c + ch) * isp);
      const T* wk = w + (oc * cg + ic) * kvol;
      for (int64_t kd = 0; kd < g.ker[0]; ++kd) {
        int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
        if (id < 0 || id >= g.in[0]) continue;
        for (int64_t kh = 0; kh < g.ker[1]; ++kh) {
          int64_t ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
          if (ih < 0 || ih >= g.in[1]) continue;
          for (int64_t kw = 0; kw < g.ker[2]; ++kw) {
            int64_t iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
            if (iw < 0 || iw >= g.in[2]) continue;
            acc += to_float(xi[((id * g.in[1] + ih) * g.in[2] + iw) * sp_step]) *
                   to_float(wk[(kd * g.ker[1] + kh) * g.ker[2] + kw]);
          }
        }
      }
    }
    y[i] = from_float<T>(acc);
  }
}

// The epilogue after the convolution, in one pass over y: y[(n, k, sp)] = act(y + bias[k] + z), each part
// optional (bias null, z null, has_act false).
struct Epilogue {
  const float* bias = nullptr;
  bool has_act = false;
  ActivationParams act;
};

// In place on y, NCHW or (cl) NHWC. Channels-last outputs whose K and pointers allow 16-byte vectors take
// epilogue_vec instead (vector_io.cuh).
template <class T>
__global__ void conv_epilogue(T* y, const T* __restrict__ z, Epilogue e, int64_t total, int64_t k, int64_t sp, bool cl) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t c = cl ? i % k : (i / sp) % k;
    float v = to_float(y[i]);
    if (e.bias) v += e.bias[c];
    if (z) v += to_float(z[i]);
    if (e.has_act) v = pw::activation<float>(e.act.type, v, e.act.alpha, e.act.beta);
    y[i] = from_float<T>(v);
  }
}

// Depthwise 2-D convolution (one filter per channel), channels-last, epilogue fused: memory-bound, so one
// pass with neighbouring threads on neighbouring channels (coalesced) beats cuDNN's NHWC depthwise
// kernels plus a separate epilogue. `wt` is the filter as (taps, C) floats.
struct DwGeo {
  int64_t n, c, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
};

// One block row per output row (n, oy); threads over (ox, V channels). 32-bit index math (the caller checks
// the sizes fit): the kernel is bound by memory, not by 64-bit divisions. Packed: C is a multiple of V and
// x, y, z are 16-byte aligned, so each pixel's V channels move as one 16-byte vector (a quarter of the
// loads of channel pairs for half); otherwise element by element, the last group cut at C.
// KW > 0: the kernel width, known at compile time (3 and 5, the common ones): a row's taps are unrolled, so their
// loads are in flight together (one tap at a time, a 5x5 filter on EfficientNet's 7 x 7 x 1152 maps took
// 25 waits for memory per thread: 9.6 us per layer at batch 1 on an H100).
template <class T, int V, bool Packed, int KW>
__global__ void depthwise_nhwc(DwGeo g, const T* __restrict__ x, const float* __restrict__ wt,
                               const T* __restrict__ z, Epilogue e, T* __restrict__ y) {
  const int kw = KW > 0 ? KW : static_cast<int>(g.kw);
  const int c = static_cast<int>(g.c), cv = (c + V - 1) / V, iw = static_cast<int>(g.iw), ih = static_cast<int>(g.ih);
  const int per_row = static_cast<int>(g.ow) * cv;
  for (int row = blockIdx.y; row < g.n * g.oh; row += gridDim.y) {
    const int n = row / static_cast<int>(g.oh), oy = row % static_cast<int>(g.oh);
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < per_row; j += gridDim.x * blockDim.x) {
      const int ox = j / cv, c0 = (j - ox * cv) * V, nc = Packed ? V : min(V, c - c0);
      float acc[V];
#pragma unroll
      for (int k = 0; k < V; ++k) acc[k] = e.bias && k < nc ? e.bias[c0 + k] : 0.f;
      // V channels at p: one vector load, or the nc that exist.
      auto load = [&](const T* p, float* v) {
        if constexpr (Packed) {
          const Pack<T, V> q = load_pack<T, V>(p);
#pragma unroll
          for (int k = 0; k < V; ++k) v[k] = to_float(q.v[k]);
        } else {
#pragma unroll
          for (int k = 0; k < V; ++k) v[k] = k < nc ? to_float(p[k]) : 0.f;
        }
      };
      const T* xn = x + static_cast<int64_t>(n) * ih * iw * c + c0;
      for (int a = 0; a < g.kh; ++a) {
        const int yy = oy * static_cast<int>(g.sh) - static_cast<int>(g.ph) + a * static_cast<int>(g.dh);
        if (yy < 0 || yy >= ih) continue;
#pragma unroll
        for (int b = 0; b < kw; ++b) {
          const int xx = ox * static_cast<int>(g.sw) - static_cast<int>(g.pw) + b * static_cast<int>(g.dw);
          if (xx < 0 || xx >= iw) continue;
          float v[V];
          load(xn + static_cast<int64_t>(yy * iw + xx) * c, v);
          const float* pw = wt + (a * kw + b) * c + c0;
#pragma unroll
          for (int k = 0; k < V; ++k)
            if (k < nc) acc[k] += v[k] * pw[k];
        }
      }
      const int64_t o = ((static_cast<int64_t>(n) * g.oh + oy) * g.ow + ox) * c + c0;
      if (z) {
        float v[V];
        load(z + o, v);
#pragma unroll
        for (int k = 0; k < V; ++k) acc[k] += v[k];
      }
      with_act_kind(act_kind_of(e.has_act, e.act.type), [&](auto kind) {
#pragma unroll
        for (int k = 0; k < V; ++k) acc[k] = act_of<decltype(kind)::value>(acc[k], e.act);
      });
      if constexpr (Packed) {
        Pack<T, V> out;
#pragma unroll
        for (int k = 0; k < V; ++k) out.v[k] = from_float<T>(acc[k]);
        store_pack<T, V>(y + o, out);
      } else {
#pragma unroll
        for (int k = 0; k < V; ++k)
          if (k < nc) y[o + k] = from_float<T>(acc[k]);
      }
    }
  }
}

// xs (rows, cp) = x (rows, c) with channels c..cp-1 zero: a channels-last input with few channels (an
// image's 3) padded to the 8 that cuDNN's tensor-core kernels take.
// One thread per row (pixel): c reads, one 16-byte store when a padded row is 16 bytes (8 halves).
template <class T>
__global__ void pad_channels(const T* __restrict__ x, T* __restrict__ xs, int64_t rows, int c, int cp) {
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const T* xr = x + r * c;
    T* yr = xs + r * cp;
    if (cp * sizeof(T) == 16) {
      alignas(16) T v[16 / sizeof(T)];
      for (int ch = 0; ch < cp; ++ch) v[ch] = ch < c ? xr[ch] : from_float<T>(0.f);
      *reinterpret_cast<uint4*>(yr) = *reinterpret_cast<const uint4*>(v);
    } else {
      for (int ch = 0; ch < cp; ++ch) yr[ch] = ch < c ? xr[ch] : from_float<T>(0.f);
    }
  }
}

// Input position feeding output position o through tap k of a transposed window, or -1.
__device__ __forceinline__ int64_t deconv_source(int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                                                 int64_t in) {
  int64_t t = o + pad - k * dil;
  if (t < 0 || t % stride != 0) return -1;
  t /= stride;
  return t < in ? t : -1;
}

// Transposed convolution as a gather: y[n, oc, o] = bias[oc] + sum of x[n, ic, i] * w[ic, oc % kg, k] over
// the group's input channels ic and taps k with i * s - pad + k * d = o.
template <class T>
__global__ void direct_deconv(Geo3 g, const T* __restrict__ x, const T* __restrict__ w, const float* __restrict__ bias,
                              T* __restrict__ y) {
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t osp = g.out[0] * g.out[1] * g.out[2], total = g.n * g.k * osp;
  const int64_t kvol = g.ker[0] * g.ker[1] * g.ker[2];
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t ow = i % g.out[2], t = i / g.out[2];
    int64_t oh = t % g.out[1];
    t /= g.out[1];
    int64_t od = t % g.out[0];
    t /= g.out[0];
    int64_t oc = t % g.k, n = t / g.k, grp = oc / kg, ocg = oc % kg;
    float acc = bias ? bias[oc] : 0.f;
    for (int64_t ic = 0; ic < cg; ++ic) {
      const T* xi = x + (n * g.c + grp * cg + ic) * g.in[0] * g.in[1] * g.in[2];
      const T* wk = w + ((grp * cg + ic) * kg + ocg) * kvol;
      for (int64_t kd = 0; kd < g.ker[0]; ++kd) {
        int64_t id = deconv_source(od, kd, g.stride[0], g.pad[0], g.dil[0], g.in[0]);
        if (id < 0) continue;
        for (int64_t kh = 0; kh < g.ker[1]; ++kh) {
          int64_t ih = deconv_source(oh, kh, g.stride[1], g.pad[1], g.dil[1], g.in[1]);
          if (ih < 0) continue;
          for (int64_t kw = 0; kw < g.ker[2]; ++kw) {
            int64_t iw = deconv_source(ow, kw, g.stride[2], g.pad[2], g.dil[2], g.in[2]);
            if (iw < 0) continue;
            acc += to_float(xi[(id * g.in[1] + ih) * g.in[2] + iw]) * to_float(wk[(kd * g.ker[1] + kh) * g.ker[2] + kw]);
          }
        }
      }
    }
    y[i] = from_float<T>(acc);
  }
}

#ifdef T2T_WITH_CUDNN
// dst (planes x dst extents) = src (planes x src extents) read at dst coordinate + shift, 0 outside src:
// pads an input (shift = -pre) or crops a full transposed output (shift = +pre).
struct ShiftGeo {
  int64_t planes;
  int64_t dst[3], src[3], shift[3];
};

template <class T>
__global__ void shift_copy(ShiftGeo g, const T* __restrict__ src, T* __restrict__ dst) {
  const int64_t total = g.planes * g.dst[0] * g.dst[1] * g.dst[2];
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t c2 = i % g.dst[2], t = i / g.dst[2];
    int64_t c1 = t % g.dst[1];
    t /= g.dst[1];
    int64_t c0 = t % g.dst[0], p = t / g.dst[0];
    int64_t s0 = c0 + g.shift[0], s1 = c1 + g.shift[1], s2 = c2 + g.shift[2];
    bool in = s0 >= 0 && s0 < g.src[0] && s1 >= 0 && s1 < g.src[1] && s2 >= 0 && s2 < g.src[2];
    dst[i] = in ? src[((p * g.src[0] + s0) * g.src[1] + s1) * g.src[2] + s2] : from_float<T>(0.f);
  }
}

// The cuDNN plan for one shape: descriptors, algorithm, and how asymmetric padding is handled.
struct CudnnPlan {
  TensorDescriptor x, y;  // deconvolution: x is cuDNN's dy, y its dx (possibly the uncropped output)
  FilterDescriptor w;
  ConvolutionDescriptor conv;
  cudnnConvolutionFwdAlgo_t fwd_algo{};
  cudnnConvolutionBwdDataAlgo_t bwd_algo{};
  size_t algo_bytes = 0;
  std::vector<int64_t> tactics;  // forward: the algorithms cuDNN can run here, its own choice first
  bool pad_input = false;   // convolution: cuDNN reads an explicitly padded copy of x
  bool crop_output = false; // deconvolution: cuDNN writes the full output, then it is cropped
  ShiftGeo shift{};
  size_t stage_bytes = 0;   // the padded input or the full output
  bool nhwc = false;        // channels-last x, y and filter
};

// Sets a channels-last descriptor of logical dims (N, C, *spatial).
void set_channels_last(cudnnTensorDescriptor_t d, DataType dt, const std::vector<int>& dims) {
  const int nb = static_cast<int>(dims.size());
  std::vector<int> st(nb);
  int acc = dims[1];
  st[1] = 1;
  for (int i = nb - 1; i >= 2; --i) st[i] = acc, acc *= dims[i];
  st[0] = acc;
  T2T_CUDNN_CHECK(cudnnSetTensorNdDescriptor(d, cudnn_dtype(dt), nb, dims.data(), st.data()));
}

std::vector<int> cudnn_dims(int64_t n, int64_t c, const int64_t* sp, int nsp) {
  std::vector<int> d = {static_cast<int>(n), static_cast<int>(c)};
  if (nsp == 1) d.push_back(1);  // cuDNN needs 4-D at least: 1-D runs as 2-D with height 1
  for (int i = 0; i < nsp; ++i) d.push_back(static_cast<int>(sp[i]));
  return d;
}

// The spatial parameters as cuDNN wants them (a 1-D convolution lifted to 2-D).
std::vector<int> lifted(const int64_t* v, int nsp, int unit) {
  std::vector<int> r;
  if (nsp == 1) r.push_back(unit);
  for (int i = 0; i < nsp; ++i) r.push_back(static_cast<int>(v[i]));
  return r;
}

bool fits_int(const ConvolutionGeometry& g) {
  auto ok = [](int64_t v) { return v >= 0 && v < (int64_t(1) << 31); };
  bool r = ok(g.batch) && ok(g.in_channels) && ok(g.out_channels);
  for (int i = 0; i < g.nsp; ++i) r = r && ok(g.in[i]) && ok(g.out[i]);
  return r;
}

// Builds the plan; returns false (the direct kernel then runs) when cuDNN cannot take the geometry.
bool plan_cudnn(const ConvolutionGeometry& g, bool transposed, DataType dt, bool nhwc, int64_t forced, size_t limit,
                CudnnPlan* p) {
  if (!fits_int(g)) return false;
  p->nhwc = nhwc;
  const int nsp = g.nsp;
  int64_t window[3], stride_in[3];
  for (int i = 0; i < nsp; ++i) {
    window[i] = g.dilation[i] * (g.kernel[i] - 1) + 1;
    stride_in[i] = g.stride[i];
  }
  // cuDNN takes one padding per dimension; other paddings go through a padded copy of the input.
  const bool symmetric = convolution_padding_is_symmetric(g, transposed);
  int64_t cudnn_pad[3], staged[3];
  p->pad_input = p->crop_output = false;
  p->stage_bytes = 0;
  for (int i = 0; i < nsp; ++i) {
    cudnn_pad[i] = symmetric ? g.pre[i] : 0;
    if (transposed)
      staged[i] = (g.in[i] - 1) * g.stride[i] + window[i];  // the full, uncropped output
    else
      staged[i] = g.in[i] + g.pre[i] + std::max<int64_t>(g.post_eff[i], 0);  // the padded input
  }
  if (nhwc && !symmetric) return false;  // the pad pass works on NCHW planes: the direct kernel runs instead
  if (!symmetric) {
    Geo3 l = lift(g);
    ShiftGeo s{};
    int off = 3 - nsp;
    for (int a = 0; a < 3; ++a) s.dst[a] = s.src[a] = 1, s.shift[a] = 0;
    for (int i = 0; i < nsp; ++i) {
      if (transposed) {
        s.src[off + i] = staged[i], s.dst[off + i] = g.out[i], s.shift[off + i] = g.pre[i];
      } else {
        s.src[off + i] = g.in[i], s.dst[off + i] = staged[i], s.shift[off + i] = -g.pre[i];
      }
    }
    s.planes = g.batch * (transposed ? l.k : l.c);
    p->shift = s;
    int64_t vol = s.planes * (transposed ? s.src[0] * s.src[1] * s.src[2] : s.dst[0] * s.dst[1] * s.dst[2]);
    p->stage_bytes = align256(static_cast<size_t>(vol) * dtype_size(dt));
    (transposed ? p->crop_output : p->pad_input) = true;
    for (int i = 0; i < nsp; ++i)
      if (staged[i] >= (int64_t(1) << 31)) return false;
  }
  const int64_t* x_sp = transposed ? g.in : (symmetric ? g.in : staged);
  const int64_t* y_sp = transposed ? (symmetric ? g.out : staged) : g.out;
  try {
    // PyTorch layouts: convolution (K, C/G, *k); transposed (C, K/G, *k), which is the forward filter of
    // the adjoint convolution from K to C channels.
    int64_t fk = transposed ? g.in_channels : g.out_channels;
    int64_t fc = transposed ? g.out_channels / g.groups : g.in_channels / g.groups;
    if (nhwc) {
      set_channels_last(p->x.d, dt, cudnn_dims(g.batch, g.in_channels, x_sp, nsp));
      set_channels_last(p->y.d, dt, cudnn_dims(g.batch, g.out_channels, y_sp, nsp));
      // The kernel's channels-last copy (K, *k, C/G) is uploaded by the kernel (ConvKernel::upload_nhwc).
      std::vector<int> fd = cudnn_dims(fk, fc, g.kernel, nsp);
      T2T_CUDNN_CHECK(cudnnSetFilterNdDescriptor(p->w.d, cudnn_dtype(dt), CUDNN_TENSOR_NHWC,
                                                 static_cast<int>(fd.size()), fd.data()));
    } else {
      p->x.set(dt, cudnn_dims(g.batch, g.in_channels, x_sp, nsp));
      p->y.set(dt, cudnn_dims(g.batch, g.out_channels, y_sp, nsp));
      p->w.set(dt, cudnn_dims(fk, fc, g.kernel, nsp));
    }
    std::vector<int> pad = lifted(cudnn_pad, nsp, 0), str = lifted(stride_in, nsp, 1), dil = lifted(g.dilation, nsp, 1);
    T2T_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(p->conv.d, static_cast<int>(pad.size()), pad.data(), str.data(),
                                                    dil.data(), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    T2T_CUDNN_CHECK(cudnnSetConvolutionGroupCount(p->conv.d, static_cast<int>(g.groups)));
    // float32 must not use TF32 tensor cores; the half types want them.
    cudnnMathType_t math = dt == DataType::kFLOAT ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    T2T_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv.d, math));
    // The staging buffer (explicit padding) shares the engine's workspace limit with the algorithm.
    const size_t algo_limit = std::min(kMaxAlgoWorkspace, limit > p->stage_bytes ? limit - p->stage_bytes : 0);
    cudnnHandle_t h = cudnn_handle(nullptr);
    int count = 0;
    if (!transposed) {
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      T2T_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p->x.d, p->w.d, p->conv.d, p->y.d,
                                                             CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, perf));
      // Every algorithm cuDNN can run here is a tactic (in its heuristic's order, so the first is its
      // own choice); `forced` picks one of them.
      struct Viable {
        cudnnConvolutionFwdAlgo_t algo;
        cudnnMathType_t math;
        size_t bytes;
      };
      std::vector<Viable> viable;
      for (int i = 0; i < count; ++i) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > algo_limit) continue;
        if (dt == DataType::kFLOAT && perf[i].mathType != CUDNN_FMA_MATH && perf[i].mathType != CUDNN_DEFAULT_MATH) continue;
        bool seen = false;
        for (auto& v : viable) seen = seen || v.algo == perf[i].algo;
        if (seen) continue;
        // DEFAULT_MATH lets cuDNN use TF32 for float32 on Ampere and later: pin FMA math for float32.
        cudnnMathType_t m = dt == DataType::kFLOAT ? CUDNN_FMA_MATH : perf[i].mathType;
        T2T_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv.d, m));
        size_t bytes = 0;
        if (cudnnGetConvolutionForwardWorkspaceSize(h, p->x.d, p->w.d, p->conv.d, p->y.d, perf[i].algo, &bytes) !=
            CUDNN_STATUS_SUCCESS)
          continue;
        viable.push_back({perf[i].algo, m, bytes});
      }
      if (viable.empty()) return false;
      Viable pick = viable[0];
      for (auto& v : viable)
        if (static_cast<int64_t>(v.algo) == forced) pick = v;
      T2T_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv.d, pick.math));
      p->fwd_algo = pick.algo;
      p->algo_bytes = align256(pick.bytes);
      for (auto& v : viable) p->tactics.push_back(static_cast<int64_t>(v.algo));
      return true;
    } else {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      T2T_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->w.d, p->x.d, p->conv.d, p->y.d,
                                                                  CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, perf));
      for (int i = 0; i < count; ++i) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > algo_limit) continue;
        if (dt == DataType::kFLOAT && perf[i].mathType != CUDNN_FMA_MATH && perf[i].mathType != CUDNN_DEFAULT_MATH) continue;
        // DEFAULT_MATH lets cuDNN use TF32 for float32 on Ampere and later: pin FMA math for float32.
        T2T_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv.d, dt == DataType::kFLOAT ? CUDNN_FMA_MATH : perf[i].mathType));
        size_t bytes = 0;
        if (cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->w.d, p->x.d, p->conv.d, p->y.d, perf[i].algo, &bytes) !=
            CUDNN_STATUS_SUCCESS)
          continue;
        p->bwd_algo = perf[i].algo;
        p->algo_bytes = align256(bytes);
        return true;
      }
    }
  } catch (const RuntimeFailure&) {
    return false;  // a descriptor cuDNN rejects (unsupported group/dilation/size combination)
  }
  return false;
}
#endif

// One kernel class for both layer kinds. It keeps a detached copy of the layer (parameters and name,
// weights shared) for the geometry, so it does not depend on the network's lifetime.
template <class L>
class ConvKernel : public Kernel {
 public:
  ConvKernel(const L& layer, bool transposed, DataType dt)
      : transposed_(transposed), cl_(layer.p.channels_last), dt_(dt) {
    layer_.p = layer.p;
    layer_.set_name(layer.name());
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    if (!uploaded_) upload();
    g_ = layer_.geometry(in[0].dims);
    has_z_ = in.size() > 1 && in[1].dims.nb_dims >= 0;
    use_cudnn_ = false;
#ifdef T2T_WITH_CUDNN
    plan_ = std::make_unique<CudnnPlan>();
    // The depthwise kernel indexes a row and a batch image in 32 bits.
    // It is the default for depthwise convolutions (it beat cuDNN at batch 1), and one tactic among cuDNN's
    // algorithms when the builder times them (cuDNN won at batch 32 on MobileNet-V2).
    depthwise_ok_ = cl_ && g_.nsp == 2 && g_.groups == g_.in_channels && g_.groups == g_.out_channels &&
                    g_.in[0] * g_.in[1] * g_.in_channels < (int64_t(1) << 31) && g_.batch * g_.out[0] < (int64_t(1) << 31);
    depthwise_ = depthwise_ok_ && (tactic_ < 0 || tactic_ == kOwnDepthwise);
    if (depthwise_ok_ && !w_taps_.get()) upload_taps();
    // A channels-last half convolution with few input channels (the stem's 3) may run on a copy padded to 8
    // channels (cuDNN's tensor-core kernels want multiples of 8) or as it is: which is faster depends on the
    // shape (ResNet-50's 7x7 stem at batch 32 ran 2x faster unpadded once cuDNN's algorithms were timed, on
    // an H200), so both are tactics: the unpadded plan's algorithms carry the kUnpadded bit.
    ConvolutionGeometry gp = g_;
    pad_c_ = 0;
    pad_ok_ = cl_ && dt_ != DataType::kFLOAT && !transposed_ && g_.groups == 1 && g_.in_channels % 8 != 0 &&
              g_.out_channels % 8 == 0 && g_.in_channels < (int64_t(1) << 20);
    // A pointwise convolution (1x1, stride 1, no padding, one group) over channels-last float16/bfloat16 is
    // one GEMM, (pixels, C) x (K, C)ᵀ: the own kernel (gemm_mma.h) with bias, residual and activation
    // inside is a tactic too (EfficientNet's SiLU otherwise runs as a second kernel after cuDNN).
    gemm_ok_ = !transposed_ && cl_ && g_.groups == 1;
    int64_t pixels = g_.batch;
    for (int i = 0; i < g_.nsp; ++i) {
      gemm_ok_ = gemm_ok_ && g_.kernel[i] == 1 && g_.stride[i] == 1 && g_.pre[i] == 0 && g_.post_eff[i] == 0;
      pixels *= g_.in[i];
    }
    gemm_ok_ = gemm_ok_ && gemm_mma_fits(dt_, pixels, g_.out_channels, g_.in_channels);
    gemm_rows_ = pixels;
    const bool own = gemm_ok_ && tactic_ >= kOwnGemm && tactic_ < kOwnGemm + kGemmMmaConfigs;
    own_gemm_ = own ? static_cast<int>(tactic_ - kOwnGemm) : -1;
    ran_own_ = own;
    own_name_ = std::string(gemm_mma_config_name(own_gemm_)) + "_nhwc";
    const bool unpadded = tactic_ >= 0 && !own && (tactic_ & kUnpadded) != 0;
    const int64_t algo = tactic_ >= 0 && !own ? (tactic_ & ~kUnpadded) : -1;
    if (pad_ok_ && !unpadded) {
      pad_c_ = (g_.in_channels + 7) / 8 * 8;
      gp.in_channels = pad_c_;
    }
    use_cudnn_ = plan_cudnn(gp, transposed_, dt_, cl_, algo, ws_limit_, plan_.get());
    if (!use_cudnn_ && pad_c_) {  // no padded plan: the unpadded channels-last plan (or the direct kernel)
      pad_c_ = 0;
      plan_ = std::make_unique<CudnnPlan>();
      use_cudnn_ = plan_cudnn(g_, transposed_, dt_, cl_, algo, ws_limit_, plan_.get());
      w_nhwc_.reset();
    }
    // The other variant's algorithms, for tactics().
    other_tactics_.clear();
    if (pad_ok_ && use_cudnn_) {
      ConvolutionGeometry go = g_;
      if (!pad_c_) go.in_channels = (g_.in_channels + 7) / 8 * 8;
      CudnnPlan other;
      if (plan_cudnn(go, transposed_, dt_, cl_, -1, ws_limit_, &other))
        for (int64_t t : other.tactics) other_tactics_.push_back(pad_c_ ? (t | kUnpadded) : t);
    }
    pad_bytes_ = 0;
    if (pad_c_) {
      int64_t rows = g_.batch;
      for (int i = 0; i < g_.nsp; ++i) rows *= g_.in[i];
      pad_bytes_ = align256(static_cast<size_t>(rows * pad_c_) * dtype_size(dt_));
    }
    if (use_cudnn_ && cl_ && (!w_nhwc_.get() || w_nhwc_padded_ != pad_c_)) upload_nhwc();
    plan_fused();
    if (depthwise_ok_ && !use_cudnn_) depthwise_ = true;  // no cuDNN plan: the own kernel, whatever the tactic
    if (depthwise_) use_cudnn_ = false, fused_ = false;   // the plan only lists cuDNN's tactics
#endif
  }
  void set_workspace_limit(size_t bytes) override { ws_limit_ = bytes; }
  size_t workspace_size() const override {
#ifdef T2T_WITH_CUDNN
    if (use_cudnn_) return plan_->algo_bytes + plan_->stage_bytes + pad_bytes_;
#endif
    return 0;
  }
  void run(const KernelArgs& a) override {
    cudaStream_t s = stream_of(a);
    const float* bias = layer_.p.bias.empty() ? nullptr : bias_.as<const float>();
    dispatch_float(dt_, [&](auto tag) {
      using T = decltype(tag);
      const T* x = a.in[0].as<const T>();
      T* y = a.out[0].as<T>();
      const T* w = w_.as<const T>();
      const T* z = a.in.size() > 1 ? a.in[1].as<const T>() : nullptr;
#ifdef T2T_WITH_CUDNN
      if (depthwise_) {
        run_depthwise<T>(x, bias, z, y, s);
        return;
      }
      if (own_gemm_ >= 0) {
        GemmMmaArgs gm;
        gm.a = x, gm.b = w, gm.y = y, gm.z = z, gm.bias = bias, gm.bias_float = true, gm.b_nk = true;
        gm.m = gemm_rows_, gm.n = g_.out_channels, gm.k = g_.in_channels;
        gm.has_act = layer_.p.has_activation, gm.act = layer_.p.activation;
        ran_own_ = gemm_mma_aligned(gm);  // otherwise cuDNN, planned all the same
        if (ran_own_) return launch_gemm_mma(dt_, own_gemm_, gm, s);
      }
      if (pad_c_) {
        // The padded input lives after the algorithm's scratch and the staging area.
        T* xs = reinterpret_cast<T*>(static_cast<uint8_t*>(a.workspace) + plan_->algo_bytes + plan_->stage_bytes);
        int64_t rows = g_.batch;
        for (int i = 0; i < g_.nsp; ++i) rows *= g_.in[i];
        pad_channels<T><<<grid_1d(rows), kBlock, 0, s>>>(x, xs, rows, static_cast<int>(g_.in_channels),
                                                                   static_cast<int>(pad_c_));
        check_launch("conv_pad_channels");
        x = xs;
      }
      if (use_cudnn_ && fused_ && run_fused(x, z, y, a.workspace, s)) return;
      if (use_cudnn_) {
        run_cudnn<T>(x, cl_ ? w_nhwc_.as<const T>() : w, bias, y, a.workspace, s);
        run_epilogue<T>(y, z, bias, s);
        return;
      }
#endif
      Geo3 l = lift(g_);
      l.cl = cl_;
      int64_t total = a.out[0].numel();
      if (transposed_)
        direct_deconv<T><<<grid_1d(total), kBlock, 0, s>>>(l, x, w, bias, y);
      else
        direct_conv<T><<<grid_1d(total), kBlock, 0, s>>>(l, x, w, bias, y);
      check_launch(transposed_ ? "direct_deconv" : "direct_conv");
      run_epilogue<T>(y, z, nullptr, s);  // the direct kernels add the bias themselves
    });
  }
  std::vector<int64_t> tactics() const override {
#ifdef T2T_WITH_CUDNN
    if (depthwise_ok_) {
      std::vector<int64_t> t = {kOwnDepthwise};
      for (int64_t a : plan_->tactics) t.push_back(a);
      return t.size() > 1 ? t : std::vector<int64_t>{};
    }
    if (use_cudnn_ && !transposed_) {
      std::vector<int64_t> t;
      for (int64_t a : plan_->tactics) t.push_back(pad_c_ || !pad_ok_ ? a : (a | kUnpadded));
      for (int64_t a : other_tactics_) t.push_back(a);
      if (gemm_ok_)
        for (int c = 0; c < kGemmMmaConfigs; ++c) t.push_back(kOwnGemm + c);
      if (t.size() > 1) return t;
    }
#endif
    return {};
  }
  void set_tactic(int64_t id) override { tactic_ = id; }
  std::string tactic_key() const override {
    // Everything the algorithms' speed depends on: geometry, type, layout, channel padding, epilogue.
    std::string k = std::string("conv ") + dtype_name(dt_) + (cl_ ? " nhwc" : " nchw") + " n" +
                    std::to_string(g_.batch) + " c" + std::to_string(g_.in_channels) + " k" + std::to_string(g_.out_channels) +
                    " g" + std::to_string(g_.groups);
    for (int i = 0; i < g_.nsp; ++i)
      k += " " + std::to_string(g_.in[i]) + "/" + std::to_string(g_.kernel[i]) + "/" + std::to_string(g_.stride[i]) +
           "/" + std::to_string(g_.pre[i]) + "/" + std::to_string(g_.dilation[i]);
    k += " act" + std::to_string(layer_.p.has_activation ? static_cast<int>(layer_.p.activation.type) : -1);
    k += layer_.p.bias.empty() ? "" : " bias";
    k += pad_ok_ ? " pad8|unpadded" : "";  // the candidate set includes both padding variants
    k += gemm_ok_ ? " mma" : "";           // ... and the own GEMM
    return k + (has_z_ ? " z" : "");
  }
  const char* impl_name() const override {
    // The bias, residual and activation run in one epilogue kernel after cuDNN (see run_epilogue).
#ifdef T2T_WITH_CUDNN
    if (depthwise_) return "cuda_depthwise_nhwc";
    if (ran_own_) return own_name_.c_str();
    if (use_cudnn_ && fused_) return "cudnn_conv_bias_act_nhwc";
    if (use_cudnn_ && cl_) return "cudnn_conv_nhwc";
#endif
    if (use_cudnn_) return transposed_ ? "cudnn_deconv" : "cudnn_conv";
    return transposed_ ? "cuda_direct_deconv" : "cuda_direct_conv";
  }

 private:
  // Weights in the tensors' dtype, bias in float (added in float).
  void upload() {
    w_.upload_as(layer_.p.kernel.to_float(), dt_);
    if (!layer_.p.bias.empty()) {
      std::vector<float> b = layer_.p.bias.to_float();
      bias_.upload(b.data(), b.size() * sizeof(float));
    }
    uploaded_ = true;
  }

  // Bias (when given), fused residual z and fused activation in one kernel; nothing when all are absent.
  template <class T>
  void run_epilogue(T* y, const T* z, const float* bias, cudaStream_t s) {
    Epilogue e;
    e.bias = bias;
    e.has_act = layer_.p.has_activation;
    e.act = layer_.p.activation;
    if (!bias && !z && !e.has_act) return;
    int64_t sp = 1;
    for (int i = 0; i < g_.nsp; ++i) sp *= g_.out[i];
    int64_t total = g_.batch * g_.out_channels * sp;
    // Channels-last rows of K channels: 16-byte vectors where K and the pointers allow.
    if (cl_ && launch_epilogue_vec<T, float>(y, bias, z, EpilogueOps{true, e.has_act, e.act}, total, g_.out_channels, s))
      return;
    conv_epilogue<T><<<grid_1d(total), kBlock, 0, s>>>(y, z, e, total, g_.out_channels, sp, cl_);
    check_launch("conv_epilogue");
  }

  // A depthwise filter as (taps, C) floats for depthwise_nhwc.
  void upload_taps() {
    std::vector<float> wf = layer_.p.kernel.to_float();
    const int64_t c = layer_.p.num_output_maps, taps = static_cast<int64_t>(wf.size()) / c;
    std::vector<float> t(wf.size());
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t j = 0; j < taps; ++j) t[j * c + ch] = wf[ch * taps + j];
    w_taps_.upload(t.data(), t.size() * sizeof(float));
  }

  template <class T>
  void run_depthwise(const T* x, const float* bias, const T* z, T* y, cudaStream_t s) {
    DwGeo d{g_.batch, g_.in_channels, g_.in[0], g_.in[1], g_.out[0], g_.out[1], g_.kernel[0], g_.kernel[1],
            g_.stride[0], g_.stride[1], g_.pre[0], g_.pre[1], g_.dilation[0], g_.dilation[1]};
    Epilogue e;
    e.bias = bias;
    e.has_act = layer_.p.has_activation;
    e.act = layer_.p.activation;
    constexpr int V = 16 / sizeof(T);
    const bool vec = d.c % V == 0 && is_aligned(x, 16) && is_aligned(y, 16) && (!z || is_aligned(z, 16));
    const int64_t per_row = d.ow * (vec ? d.c / V : (d.c + 1) / 2), rows = d.n * d.oh;
    dim3 grid(static_cast<unsigned>(std::min<int64_t>((per_row + kBlock - 1) / kBlock, 1024)),
              static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
    auto launch = [&](auto kw) {
      constexpr int KW = decltype(kw)::value;
      if (vec)
        depthwise_nhwc<T, V, true, KW><<<grid, kBlock, 0, s>>>(d, x, w_taps_.as<const float>(), z, e, y);
      else
        depthwise_nhwc<T, 2, false, KW><<<grid, kBlock, 0, s>>>(d, x, w_taps_.as<const float>(), z, e, y);
    };
    if (d.kw == 3)
      launch(std::integral_constant<int, 3>{});
    else if (d.kw == 5)
      launch(std::integral_constant<int, 5>{});
    else
      launch(std::integral_constant<int, 0>{});
    check_launch("depthwise_nhwc");
  }

  // cuDNN's fused y = act(conv(x) + z + bias) for float16 NHWC with ReLU or no activation (its fused call
  // takes no other activation, and no activation only with the IMPLICIT_PRECOMP_GEMM algorithm): one
  // kernel instead of convolution + epilogue. Falls back for good if cuDNN refuses it at the first run.
  void plan_fused() {
    fused_ = false;
#ifdef T2T_WITH_CUDNN
    const bool relu = layer_.p.has_activation && layer_.p.activation.type == ActivationType::kRELU;
    if (!cl_ || transposed_ || dt_ != DataType::kHALF || fused_refused_ || plan_->pad_input) return;
    if (layer_.p.has_activation && !relu) return;
    if (!relu && plan_->fwd_algo != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) return;
    if (!bias_half_.get()) {
      std::vector<float> b = layer_.p.bias.empty() ? std::vector<float>(layer_.p.num_output_maps, 0.f)
                                                   : layer_.p.bias.to_float();
      std::vector<uint16_t> h(b.size());
      for (size_t i = 0; i < b.size(); ++i) h[i] = float_to_half(b[i]);
      bias_half_.upload(h.data(), h.size() * sizeof(uint16_t));
      std::vector<int> bd = {1, static_cast<int>(layer_.p.num_output_maps), 1, 1};
      if (g_.nsp == 3) bd.push_back(1);
      bias_desc_.set(DataType::kHALF, bd);
      T2T_CUDNN_CHECK(cudnnSetActivationDescriptor(act_desc_.d, relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
                                                   CUDNN_PROPAGATE_NAN, 0.0));
    }
    fused_ = true;
#endif
  }

#ifdef T2T_WITH_CUDNN
  template <class T>
  bool run_fused(const T* x, const T* z, T* y, void* workspace, cudaStream_t s) {
    CudnnPlan& p = *plan_;
    const float one = 1.f, zero = 0.f;
    cudnnStatus_t st = cudnnConvolutionBiasActivationForward(
        cudnn_handle(s), &one, p.x.d, x, p.w.d, w_nhwc_.get(), p.conv.d, p.fwd_algo, workspace, p.algo_bytes,
        z ? &one : &zero, p.y.d, z ? static_cast<const void*>(z) : static_cast<const void*>(y), bias_desc_.d,
        bias_half_.get(), act_desc_.d, p.y.d, y);
    if (st == CUDNN_STATUS_SUCCESS) return true;
    fused_ = false, fused_refused_ = true;  // this geometry has no fused kernel: convolution + epilogue from now on
    return false;
  }
#endif

  // The kernel in channels-last order (K, *k, C/G) for the NHWC filter descriptor; with pad_c_, C/G is
  // padded to pad_c_ with zero taps.
  void upload_nhwc() {
    std::vector<float> wf = layer_.p.kernel.to_float();
    const int64_t k = layer_.p.num_output_maps;
    int64_t kvol = 1;
    for (int i = 0; i < layer_.p.kernel_size.nb_dims; ++i) kvol *= layer_.p.kernel_size.d[i];
    const int64_t cg = static_cast<int64_t>(wf.size()) / (k * kvol);
    const int64_t cs = pad_c_ ? pad_c_ : cg;  // stored channels
    std::vector<float> t(static_cast<size_t>(k * kvol * cs), 0.f);
    for (int64_t o = 0; o < k; ++o)
      for (int64_t c = 0; c < cg; ++c)
        for (int64_t j = 0; j < kvol; ++j) t[(o * kvol + j) * cs + c] = wf[(o * cg + c) * kvol + j];
    w_nhwc_padded_ = pad_c_;
    w_nhwc_.upload_as(t, dt_);
  }

#ifdef T2T_WITH_CUDNN
  template <class T>
  void run_cudnn(const T* x, const T* w, const float* bias, T* y, void* workspace, cudaStream_t s) {
    CudnnPlan& p = *plan_;
    cudnnHandle_t h = cudnn_handle(s);
    auto* ws = static_cast<uint8_t*>(workspace);
    T* stage = reinterpret_cast<T*>(ws + p.algo_bytes);
    const float one = 1.f, zero = 0.f;
    if (!transposed_) {
      const T* src = x;
      if (p.pad_input) {
        int64_t n = p.shift.planes * p.shift.dst[0] * p.shift.dst[1] * p.shift.dst[2];
        shift_copy<T><<<grid_1d(n), kBlock, 0, s>>>(p.shift, x, stage);
        check_launch("conv_pad");
        src = stage;
      }
      T2T_CUDNN_CHECK(cudnnConvolutionForward(h, &one, p.x.d, src, p.w.d, w, p.conv.d, p.fwd_algo, ws, p.algo_bytes,
                                              &zero, p.y.d, y));
    } else {
      T* dst = p.crop_output ? stage : y;
      T2T_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, p.w.d, w, p.x.d, x, p.conv.d, p.bwd_algo, ws, p.algo_bytes,
                                                   &zero, p.y.d, dst));
      if (p.crop_output) {
        int64_t n = p.shift.planes * p.shift.dst[0] * p.shift.dst[1] * p.shift.dst[2];
        shift_copy<T><<<grid_1d(n), kBlock, 0, s>>>(p.shift, stage, y);
        check_launch("deconv_crop");
      }
    }
  }
  std::unique_ptr<CudnnPlan> plan_;
  bool fused_ = false, fused_refused_ = false;
  DeviceBuffer bias_half_;
  TensorDescriptor bias_desc_;
  ActivationDescriptor act_desc_;
#endif

  L layer_;
  bool transposed_;
  bool cl_;  // channels-last x, y and z (convolution only)
  DataType dt_;
  bool uploaded_ = false;
  DeviceBuffer w_, bias_;
  DeviceBuffer w_nhwc_;  // the kernel in channels-last order (K, *k, C/G), for channels-last cuDNN plans
  DeviceBuffer w_taps_;  // depthwise filters as (taps, C) floats
  int64_t pad_c_ = 0;          // channels-last input padded to this many channels (0: not padded)
  int64_t tactic_ = -1;        // the cuDNN forward algorithm the builder chose (-1: cuDNN's heuristic)
  size_t ws_limit_ = SIZE_MAX; // the engine's workspace limit (set_workspace_limit)
  static constexpr int64_t kOwnDepthwise = int64_t(1) << 20;  // tactic id of depthwise_nhwc
  // Tactic bit: a convolution that could run on a channel-padded copy runs unpadded (pad_ok_).
  static constexpr int64_t kUnpadded = int64_t(1) << 21;
  static constexpr int64_t kOwnGemm = int64_t(1) << 22;  // tactic ids kOwnGemm + c: gemm_mma in configuration c
  bool gemm_ok_ = false;    // a pointwise convolution gemm_mma can run
  int64_t gemm_rows_ = 0;   // its rows: batch x spatial positions
  int own_gemm_ = -1;       // the configuration the builder chose (-1: cuDNN)
  bool ran_own_ = false;    // the last run (before one: the plan) used it
  std::string own_name_;
  bool pad_ok_ = false;                 // the input channels may be padded to 8 (pad_c_)
  std::vector<int64_t> other_tactics_;  // the algorithms of the padding variant not planned (tactic ids)
  bool depthwise_ok_ = false;  // depthwise_nhwc can run this convolution
  bool has_z_ = false;
  int64_t w_nhwc_padded_ = 0;  // the pad_c_ w_nhwc_ was uploaded for
  size_t pad_bytes_ = 0;
  bool depthwise_ = false;
  ConvolutionGeometry g_;
  bool use_cudnn_ = false;
};

}  // namespace

std::unique_ptr<Kernel> make_Convolution(const ConvolutionLayer& l, const std::vector<TensorDesc>& in,
                                         const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Convolution on " + dt(in[0].dtype));
  return std::make_unique<ConvKernel<ConvolutionLayer>>(l, false, in[0].dtype);
}

std::unique_ptr<Kernel> make_Deconvolution(const DeconvolutionLayer& l, const std::vector<TensorDesc>& in,
                                           const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Deconvolution on " + dt(in[0].dtype));
  return std::make_unique<ConvKernel<DeconvolutionLayer>>(l, true, in[0].dtype);
}

}  // namespace torch2trt::gpu
