// CPU resize: NEAREST as one gather over per-dim index tables (any dtype); LINEAR and CUBIC as one
// separable float32 pass per resampled dim, shrinking dims first so later passes touch less data.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/common/resize_taps.h"
#include "backends/cpu/cpu_kernels.h"

namespace torch2trt::cpu {
namespace {

// One resampled dim: the tensor is viewed as [outer, in, inner] -> [outer, out, inner]; output index
// j reads taps idx[j*k .. j*k+k) with weights w[...].
struct Pass : ResizeTaps {
  int dim = 0;
  int64_t in = 0, out = 0, outer = 0, inner = 0;
};

void make_taps(const ResizeParams& p, float s, Pass& ps) { resize_taps(p, s, ps.in, ps.out, &ps); }

void run_pass(const Pass& ps, const float* x, float* y) {
  int64_t rows = ps.outer * ps.out;
  int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, ps.inner * ps.k));
  parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t o = r / ps.out, j = r % ps.out;
      const float* xb = x + o * ps.in * ps.inner;
      float* yr = y + r * ps.inner;
      const int64_t* ix = &ps.idx[j * ps.k];
      const float* w = &ps.w[j * ps.k];
      if (ps.inner == 1) {
        float acc = 0.f;
        for (int q = 0; q < ps.k; ++q) acc += w[q] * xb[ix[q]];
        yr[0] = acc;
        continue;
      }
      const float* x0 = xb + ix[0] * ps.inner;
      for (int64_t c = 0; c < ps.inner; ++c) yr[c] = w[0] * x0[c];
      for (int q = 1; q < ps.k; ++q) {
        const float* xq = xb + ix[q] * ps.inner;
        float wq = w[q];
        for (int64_t c = 0; c < ps.inner; ++c) yr[c] += wq * xq[c];
      }
    }
  });
}

template <class T>
void gather_nearest(const std::vector<std::vector<int64_t>>& tab, const Dims& in, const Dims& out, const void* xv,
                    void* yv) {
  const T* x = static_cast<const T*>(xv);
  T* y = static_cast<T*>(yv);
  int r = out.nb_dims;
  std::vector<int64_t> in_stride(r, 1);
  for (int d = r - 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * in.d[d + 1];
  int64_t w = out.d[r - 1];
  int64_t rows = out.volume() / w;
  const int64_t* last = tab[r - 1].data();
  parallel_for(rows, std::max<int64_t>(1, (1 << 14) / w), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t rem = row, base = 0;
      for (int d = r - 2; d >= 0; --d) {
        int64_t i = rem % out.d[d];
        rem /= out.d[d];
        base += tab[d][i] * in_stride[d];
      }
      const T* xr = x + base;
      T* yr = y + row * w;
      for (int64_t j = 0; j < w; ++j) yr[j] = xr[last[j]];
    }
  });
}

class ResizeKernel : public Kernel {
 public:
  explicit ResizeKernel(const ResizeParams& p) : p_(p) {}

  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    in_ = in[0].dims;
    out_ = out[0].dims;
    elem_ = dtype_size(in[0].dtype);
    nearest_.clear();
    passes_.clear();
    ws_ = 0;
    if (out_.volume() == 0) return;
    int r = in_.nb_dims;
    if (p_.mode == InterpolationMode::kNEAREST) {
      nearest_.resize(r);
      for (int d = 0; d < r; ++d) {
        float s = resize_coordinate_scale(p_.coordinate_transformation, in_.d[d], out_.d[d], scale_of(d));
        nearest_[d].resize(out_.d[d]);
        for (int64_t j = 0; j < out_.d[d]; ++j)
          nearest_[d][j] = nearest_index(p_.nearest_rounding, resize_source_coordinate(p_, s, j, out_.d[d]), in_.d[d]);
      }
      return;
    }
    for (int d = 0; d < r; ++d) {
      float s = resize_coordinate_scale(p_.coordinate_transformation, in_.d[d], out_.d[d], scale_of(d));
      bool identity = in_.d[d] == out_.d[d];
      for (int64_t j = 0; identity && j < out_.d[d]; ++j)
        identity = resize_source_coordinate(p_, s, j, out_.d[d]) == static_cast<float>(j);
      if (identity) continue;  // every output sample sits exactly on its input sample
      Pass ps;
      ps.dim = d;
      ps.in = in_.d[d];
      ps.out = out_.d[d];
      make_taps(p_, s, ps);
      passes_.push_back(std::move(ps));
    }
    std::stable_sort(passes_.begin(), passes_.end(), [](const Pass& a, const Pass& b) {
      return static_cast<double>(a.out) / a.in < static_cast<double>(b.out) / b.in;
    });
    Dims cur = in_;
    int64_t biggest = 0;
    for (size_t i = 0; i < passes_.size(); ++i) {
      Pass& ps = passes_[i];
      ps.outer = 1, ps.inner = 1;
      for (int d = 0; d < ps.dim; ++d) ps.outer *= cur.d[d];
      for (int d = ps.dim + 1; d < r; ++d) ps.inner *= cur.d[d];
      cur.d[ps.dim] = ps.out;
      if (i + 1 < passes_.size()) biggest = std::max(biggest, cur.volume());
    }
    size_t buf = align(static_cast<size_t>(biggest) * sizeof(float));
    ws_ = passes_.size() >= 3 ? 2 * buf : passes_.size() == 2 ? buf : 0;
  }

  size_t workspace_size() const override { return ws_; }

  void run(const KernelArgs& a) override {
    if (out_.volume() == 0) return;
    if (p_.mode == InterpolationMode::kNEAREST) {
      switch (elem_) {
        case 1: gather_nearest<uint8_t>(nearest_, in_, out_, a.in[0].data, a.out[0].data); return;
        case 2: gather_nearest<uint16_t>(nearest_, in_, out_, a.in[0].data, a.out[0].data); return;
        case 4: gather_nearest<uint32_t>(nearest_, in_, out_, a.in[0].data, a.out[0].data); return;
        case 8: gather_nearest<uint64_t>(nearest_, in_, out_, a.in[0].data, a.out[0].data); return;
      }
      throw Unsupported("resize: elements of " + std::to_string(elem_) + " bytes are not handled");
    }
    const float* x = a.in[0].as<float>();
    float* y = a.out[0].as<float>();
    if (passes_.empty()) {
      std::memcpy(y, x, static_cast<size_t>(out_.volume()) * sizeof(float));
      return;
    }
    auto* ws = static_cast<uint8_t*>(a.workspace);
    float* bufs[2] = {reinterpret_cast<float*>(ws), reinterpret_cast<float*>(ws + ws_ / 2)};
    const float* src = x;
    for (size_t i = 0; i < passes_.size(); ++i) {
      float* dst = i + 1 == passes_.size() ? y : bufs[i % 2];
      run_pass(passes_[i], src, dst);
      src = dst;
    }
  }

  const char* impl_name() const override {
    return p_.mode == InterpolationMode::kNEAREST ? "cpu_resize_nearest" : "cpu_resize_separable";
  }

 private:
  double scale_of(int d) const { return p_.scales.empty() ? 0.0 : p_.scales[d]; }
  static size_t align(size_t n) { return (n + 63) & ~size_t(63); }

  ResizeParams p_;
  Dims in_, out_;
  size_t elem_ = 4;
  std::vector<std::vector<int64_t>> nearest_;
  std::vector<Pass> passes_;
  size_t ws_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_Resize(const ResizeLayer& l, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>&, std::string* why) {
  DataType t = in[0].dtype;
  if (l.p.mode != InterpolationMode::kNEAREST && t != DataType::kFLOAT) {
    *why = std::string(interpolation_mode_name(l.p.mode)) + " resize on " + dtype_name(t) + " is not implemented";
    return nullptr;
  }
  if (t == DataType::kFP8) {
    *why = "resize on fp8 is not implemented";
    return nullptr;
  }
  return std::make_unique<ResizeKernel>(l.p);
}

}  // namespace torch2trt::cpu
