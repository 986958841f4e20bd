// Gather and scatter on the CPU. Out-of-range indices (after adding the extent to negative ones) read
// as zero in gather and are skipped by scatter: nothing outside a tensor is ever touched.
#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/move_util.h"

namespace torch2trt::cpu {
namespace {

int64_t prod(const Dims& d, int from, int to) {
  int64_t v = 1;
  for (int i = from; i < to; ++i) v *= d.d[i];
  return v;
}

// Element-wise modes: for each position p of the indices, the element of `d` at p with p[axis]
// replaced by the index. Calls f(i, offset) for every position i, with offset -1 when out of range.
template <class F>
void for_each_element_index(const TensorView& idx, const Dims& d, int axis, bool parallel, F&& f) {
  const Dims& q = idx.dims;
  const int n = q.nb_dims;
  std::vector<int64_t> ds = contiguous_strides(d);
  const int64_t inner = q.d[n - 1], rows = idx.numel() / inner;
  auto body = [&](int64_t b, int64_t e) {
    int64_t pos[kMaxDims] = {0};
    for (int64_t r = b, i = n - 2; i >= 0; --i) {
      pos[i] = r % q.d[i];
      r /= q.d[i];
    }
    for (int64_t row = b; row < e; ++row) {
      int64_t base = 0;
      for (int i = 0; i < n - 1; ++i)
        if (i != axis) base += pos[i] * ds[i];
      for (int64_t k = 0; k < inner; ++k) {
        int64_t lin = row * inner + k;
        int64_t j = wrap_index(index_at(idx, lin), d.d[axis]);
        int64_t off = j < 0 ? -1 : base + j * ds[axis] + (axis == n - 1 ? 0 : k * ds[n - 1]);
        f(lin, off);
      }
      for (int i = n - 2; i >= 0; --i) {
        if (++pos[i] < q.d[i]) break;
        pos[i] = 0;
      }
    }
  };
  if (parallel)
    parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)), body);
  else
    body(0, rows);
}

// ND modes: row r of the indices (all but the last extent) holds a k-tuple naming a slice of `slice`
// elements of `d` after `batch` leading batch dimensions. Returns the element offset, or -1.
int64_t nd_offset(const TensorView& idx, const Dims& d, int batch, int64_t row, int64_t rows_per_batch,
                  const std::vector<int64_t>& ds) {
  int64_t k = idx.dims.d[idx.dims.nb_dims - 1];
  int64_t off = (row / rows_per_batch) * (batch > 0 ? ds[batch - 1] : 0);
  for (int64_t t = 0; t < k; ++t) {
    int64_t j = wrap_index(index_at(idx, row * k + t), d.d[batch + t]);
    if (j < 0) return -1;
    off += j * ds[batch + t];
  }
  return off;
}

class GatherKernel : public Kernel {
 public:
  explicit GatherKernel(const GatherParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    switch (p_.mode) {
      case GatherMode::kDEFAULT: run_default(a); return;
      case GatherMode::kELEMENT: run_element(a); return;
      case GatherMode::kND: run_nd(a); return;
    }
  }
  const char* impl_name() const override { return "cpu_gather"; }

 private:
  // out[b, o, j, i] = data[b', o, indices[b'', j], i]; b broadcasts between data and indices when e = 1.
  void run_default(const KernelArgs& a) const {
    const TensorView &data = a.in[0], &idx = a.in[1], &y = a.out[0];
    const Dims &dd = data.dims, &qd = idx.dims;
    const int e = p_.num_elementwise_dims, axis = p_.axis;
    const size_t es = dtype_size(y.dtype);
    const int64_t batch = e ? y.dims.d[0] : 1, outer = prod(dd, e, axis), n = dd.d[axis];
    const int64_t inner = prod(dd, axis + 1, dd.nb_dims), per = prod(qd, e, qd.nb_dims);
    const int64_t data_batch = e && dd.d[0] != 1 ? prod(dd, 1, dd.nb_dims) : 0;
    const int64_t idx_batch = e && qd.d[0] != 1 ? per : 0;
    const size_t block = static_cast<size_t>(inner) * es;
    const auto* src = static_cast<const uint8_t*>(data.data);
    auto* dst = static_cast<uint8_t*>(y.data);
    parallel_for(batch * outer * per, std::max<int64_t>(1, static_cast<int64_t>(16384 / std::max<size_t>(block, 1))),
                 [&](int64_t b, int64_t end) {
                   for (int64_t r = b; r < end; ++r) {
                     int64_t j = r % per, o = (r / per) % outer, bt = r / (per * outer);
                     int64_t i = wrap_index(index_at(idx, bt * idx_batch + j), n);
                     uint8_t* out = dst + static_cast<size_t>(r) * block;
                     if (i < 0)
                       std::memset(out, 0, block);
                     else
                       std::memcpy(out, src + static_cast<size_t>(bt * data_batch + (o * n + i) * inner) * es, block);
                   }
                 });
  }
  void run_element(const KernelArgs& a) const {
    dispatch_bits(a.out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* src = a.in[0].as<const T>();
      T* dst = a.out[0].as<T>();
      for_each_element_index(a.in[1], a.in[0].dims, p_.axis, true,
                             [&](int64_t i, int64_t off) { dst[i] = off < 0 ? T{} : src[off]; });
    });
  }
  void run_nd(const KernelArgs& a) const {
    const TensorView &data = a.in[0], &idx = a.in[1], &y = a.out[0];
    const int e = p_.num_elementwise_dims;
    const int64_t k = idx.dims.d[idx.dims.nb_dims - 1];
    const int64_t rows = idx.numel() / std::max<int64_t>(k, 1);
    const int64_t rows_per_batch = prod(idx.dims, e, idx.dims.nb_dims - 1);
    const size_t es = dtype_size(y.dtype);
    const size_t block = static_cast<size_t>(prod(data.dims, e + static_cast<int>(k), data.dims.nb_dims)) * es;
    std::vector<int64_t> ds = contiguous_strides(data.dims);
    const auto* src = static_cast<const uint8_t*>(data.data);
    auto* dst = static_cast<uint8_t*>(y.data);
    parallel_for(rows, std::max<int64_t>(1, static_cast<int64_t>(16384 / std::max<size_t>(block, 1))),
                 [&](int64_t b, int64_t end) {
                   for (int64_t r = b; r < end; ++r) {
                     int64_t off = nd_offset(idx, data.dims, e, r, rows_per_batch, ds);
                     uint8_t* out = dst + static_cast<size_t>(r) * block;
                     if (off < 0)
                       std::memset(out, 0, block);
                     else
                       std::memcpy(out, src + static_cast<size_t>(off) * es, block);
                   }
                 });
  }
  GatherParams p_;
};

class ScatterKernel : public Kernel {
 public:
  explicit ScatterKernel(const ScatterParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    const TensorView &data = a.in[0], &idx = a.in[1], &upd = a.in[2], &y = a.out[0];
    const size_t es = dtype_size(y.dtype);
    if (y.data != data.data) std::memcpy(y.data, data.data, static_cast<size_t>(y.numel()) * es);
    if (upd.numel() == 0) return;
    // Serial, so that when updates collide the last one in row-major order wins, run after run.
    switch (p_.mode) {
      case ScatterMode::kELEMENT:
        dispatch_bits(y.dtype, [&](auto tag) {
          using T = decltype(tag);
          const T* u = upd.as<const T>();
          T* dst = y.as<T>();
          for_each_element_index(idx, y.dims, p_.axis, false, [&](int64_t i, int64_t off) {
            if (off >= 0) dst[off] = u[i];
          });
        });
        return;
      case ScatterMode::kND: {
        const int64_t k = idx.dims.d[idx.dims.nb_dims - 1];
        const int64_t rows = idx.numel() / k;
        const size_t block = static_cast<size_t>(prod(y.dims, static_cast<int>(k), y.dims.nb_dims)) * es;
        std::vector<int64_t> ds = contiguous_strides(y.dims);
        const auto* src = static_cast<const uint8_t*>(upd.data);
        auto* dst = static_cast<uint8_t*>(y.data);
        for (int64_t r = 0; r < rows; ++r) {
          int64_t off = nd_offset(idx, y.dims, 0, r, rows, ds);
          if (off >= 0) std::memcpy(dst + static_cast<size_t>(off) * es, src + static_cast<size_t>(r) * block, block);
        }
        return;
      }
    }
  }
  const char* impl_name() const override { return "cpu_scatter"; }

 private:
  ScatterParams p_;
};

}  // namespace

std::unique_ptr<Kernel> make_Gather(const GatherLayer& l, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "gather");
  if (!why->empty()) return nullptr;
  return std::make_unique<GatherKernel>(l.p);
}

std::unique_ptr<Kernel> make_Scatter(const ScatterLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "scatter");
  if (!why->empty()) return nullptr;
  return std::make_unique<ScatterKernel>(l.p);
}

}  // namespace torch2trt::cpu
