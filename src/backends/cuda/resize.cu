// CUDA resize with the CPU kernel's plan: NEAREST as one gather through per-dim index tables (any dtype);
// LINEAR and CUBIC as one separable pass per resampled dim (smallest ratio first), intermediates in
// float32. The tables are built on the host by backends/common/resize_taps (shared with the CPU kernel).
#include <algorithm>
#include <cmath>

#include "backends/common/resize_taps.h"
#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// One resampled dim: the tensor is viewed as [outer, in, inner] -> [outer, out, inner]; output index j
// reads taps idx[j*k .. j*k+k) with weights w[...].
struct Pass : ResizeTaps {
  int dim = 0;
  int64_t in = 0, out = 0, outer = 0, inner = 0;
  DeviceBuffer table;  // idx (int64) then w (float) on the device
};

void make_taps(const ResizeParams& p, float s, Pass& ps) { resize_taps(p, s, ps.in, ps.out, &ps); }

struct PassGeo {
  int64_t in, out, outer, inner;
  int k;
  const int64_t* idx;
  const float* w;
};

template <class In, class Out>
__global__ void resize_pass(PassGeo g, const In* __restrict__ x, Out* __restrict__ y) {
  const int64_t total = g.outer * g.out * g.inner;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t c = t % g.inner, r = t / g.inner;
    int64_t j = r % g.out, o = r / g.out;
    const In* xb = x + o * g.in * g.inner + c;
    float acc = 0.f;
    for (int q = 0; q < g.k; ++q) acc += g.w[j * g.k + q] * to_float(xb[g.idx[j * g.k + q] * g.inner]);
    y[t] = from_float<Out>(acc);
  }
}

class ResizeKernel : public Kernel {
 public:
  ResizeKernel(const ResizeParams& p, DataType dt) : p_(p), dt_(dt) {}

  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    in_ = in[0].dims;
    out_ = out[0].dims;
    passes_.clear();
    ws_ = 0;
    if (out_.volume() == 0) return;
    int r = in_.nb_dims;
    if (p_.mode == InterpolationMode::kNEAREST) {
      std::vector<int64_t> xs = contiguous_strides(in_);
      cpu::AxisMap map;
      map.dims = out_;
      map.offset.assign(r, {});
      for (int d = 0; d < r; ++d) {
        float s = resize_coordinate_scale(p_.coordinate_transformation, in_.d[d], out_.d[d], scale_of(d));
        auto& o = map.offset[d];
        o.resize(static_cast<size_t>(out_.d[d]));
        for (int64_t j = 0; j < out_.d[d]; ++j)
          o[j] = nearest_index(p_.nearest_rounding, resize_source_coordinate(p_, s, j, out_.d[d]), in_.d[d]) * xs[d];
      }
      nearest_.upload(map);
      return;
    }
    for (int d = 0; d < r; ++d) {
      float s = resize_coordinate_scale(p_.coordinate_transformation, in_.d[d], out_.d[d], scale_of(d));
      bool identity = in_.d[d] == out_.d[d];
      for (int64_t j = 0; identity && j < out_.d[d]; ++j)
        identity = resize_source_coordinate(p_, s, j, out_.d[d]) == static_cast<float>(j);
      if (identity) continue;  // every output sample sits exactly on its input sample
      auto ps = std::make_unique<Pass>();
      ps->dim = d;
      ps->in = in_.d[d];
      ps->out = out_.d[d];
      make_taps(p_, s, *ps);
      passes_.push_back(std::move(ps));
    }
    std::stable_sort(passes_.begin(), passes_.end(), [](const auto& a, const auto& b) {
      return static_cast<double>(a->out) / a->in < static_cast<double>(b->out) / b->in;
    });
    Dims cur = in_;
    int64_t biggest = 0;
    for (size_t i = 0; i < passes_.size(); ++i) {
      Pass& ps = *passes_[i];
      ps.outer = 1, ps.inner = 1;
      for (int d = 0; d < ps.dim; ++d) ps.outer *= cur.d[d];
      for (int d = ps.dim + 1; d < r; ++d) ps.inner *= cur.d[d];
      cur.d[ps.dim] = ps.out;
      if (i + 1 < passes_.size()) biggest = std::max(biggest, cur.volume());
      // One upload per pass: the index table, then the weights.
      std::vector<uint8_t> bytes(ps.idx.size() * sizeof(int64_t) + ps.w.size() * sizeof(float));
      std::memcpy(bytes.data(), ps.idx.data(), ps.idx.size() * sizeof(int64_t));
      std::memcpy(bytes.data() + ps.idx.size() * sizeof(int64_t), ps.w.data(), ps.w.size() * sizeof(float));
      ps.table.upload(bytes.data(), bytes.size());
    }
    size_t buf = (static_cast<size_t>(biggest) * sizeof(float) + 255) & ~size_t(255);
    ws_ = passes_.size() >= 3 ? 2 * buf : passes_.size() == 2 ? buf : 0;
  }

  size_t workspace_size() const override { return ws_; }

  void run(const KernelArgs& a) override {
    if (out_.volume() == 0) return;
    cudaStream_t s = stream_of(a);
    if (p_.mode == InterpolationMode::kNEAREST) {
      nearest_.run(dtype_size(dt_), a.in[0].data, a.out[0].data, out_.volume(), nullptr, 0, s, "resize");
      return;
    }
    if (passes_.empty()) {
      T2T_CUDA_CHECK(cudaMemcpyAsync(a.out[0].data, a.in[0].data, static_cast<size_t>(out_.volume()) * dtype_size(dt_),
                                     cudaMemcpyDeviceToDevice, s));
      return;
    }
    auto* ws = static_cast<uint8_t*>(a.workspace);
    float* bufs[2] = {reinterpret_cast<float*>(ws), reinterpret_cast<float*>(ws + ws_ / 2)};
    dispatch_float(dt_, [&](auto tag) {
      using T = decltype(tag);
      const size_t np = passes_.size();
      const void* src = a.in[0].data;
      for (size_t i = 0; i < np; ++i) {
        const Pass& ps = *passes_[i];
        PassGeo g{ps.in, ps.out, ps.outer, ps.inner, ps.k, ps.table.as<const int64_t>(),
                  reinterpret_cast<const float*>(ps.table.as<const int64_t>() + ps.idx.size())};
        int64_t total = ps.outer * ps.out * ps.inner;
        bool first = i == 0, last = i + 1 == np;
        void* dst = last ? a.out[0].data : bufs[i % 2];
        unsigned grid = grid_1d(total);
        if (first && last)
          resize_pass<T, T><<<grid, kBlock, 0, s>>>(g, static_cast<const T*>(src), static_cast<T*>(dst));
        else if (first)
          resize_pass<T, float><<<grid, kBlock, 0, s>>>(g, static_cast<const T*>(src), static_cast<float*>(dst));
        else if (last)
          resize_pass<float, T><<<grid, kBlock, 0, s>>>(g, static_cast<const float*>(src), static_cast<T*>(dst));
        else
          resize_pass<float, float><<<grid, kBlock, 0, s>>>(g, static_cast<const float*>(src), static_cast<float*>(dst));
        check_launch("resize");
        src = dst;
      }
    });
  }

  const char* impl_name() const override {
    return p_.mode == InterpolationMode::kNEAREST ? "cuda_resize_nearest" : "cuda_resize_separable";
  }

 private:
  double scale_of(int d) const { return p_.scales.empty() ? 0.0 : p_.scales[d]; }

  ResizeParams p_;
  DataType dt_;
  Dims in_, out_;
  DeviceAxisMap nearest_;
  std::vector<std::unique_ptr<Pass>> passes_;
  size_t ws_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_Resize(const ResizeLayer& l, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>&, std::string* why) {
  DataType t = in[0].dtype;
  if (t == DataType::kFP8) return unsupported(why, "Resize on fp8");
  if (l.p.mode != InterpolationMode::kNEAREST && !is_float_type(t))
    return unsupported(why, std::string(interpolation_mode_name(l.p.mode)) + " Resize on " + dt(t));
  return std::make_unique<ResizeKernel>(l.p, t);
}

}  // namespace torch2trt::gpu
