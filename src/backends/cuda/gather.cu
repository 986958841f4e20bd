// Gather and scatter on CUDA, with the CPU kernels' semantics: an index still out of range after adding
// the extent to a negative one reads as zero in gather and is skipped by scatter. Scatter collisions are
// resolved as on the CPU (the last update in row-major order wins) through a per-element "winner" pass.
#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

int64_t prod(const Dims& d, int from, int to) {
  int64_t v = 1;
  for (int i = from; i < to; ++i) v *= d.d[i];
  return v;
}

template <class I>
__device__ __forceinline__ int64_t wrap_index(I raw, int64_t n) {
  int64_t i = static_cast<int64_t>(raw);
  if (i < 0) i += n;
  return i >= 0 && i < n ? i : -1;
}

// DEFAULT: out[b, o, j, i] = data[b', o, indices[b'', j], i] (b broadcast between data and indices).
struct DefaultGeo {
  int64_t outer, n, inner, per, data_batch, idx_batch;
};

template <class T, class I>
__global__ void gather_default(DefaultGeo g, const T* __restrict__ src, const I* __restrict__ idx, T* __restrict__ dst,
                               int64_t total) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t c = t % g.inner, r = t / g.inner;
    int64_t j = r % g.per, o = (r / g.per) % g.outer, bt = r / (g.per * g.outer);
    int64_t i = wrap_index(idx[bt * g.idx_batch + j], g.n);
    dst[t] = i < 0 ? T{} : src[bt * g.data_batch + (o * g.n + i) * g.inner + c];
  }
}

// ELEMENT modes: position p of the indices addresses the element of `d` at p with p[axis] replaced by the
// index value.
struct ElementGeo {
  int rank, axis;
  int64_t q[kMaxDims];   // indices extents
  int64_t ds[kMaxDims];  // strides of the addressed tensor
  int64_t extent;        // its extent along the axis
};

template <class I>
__device__ __forceinline__ int64_t element_offset(const ElementGeo& g, const I* idx, int64_t lin) {
  int64_t j = wrap_index(idx[lin], g.extent);
  if (j < 0) return -1;
  int64_t off = 0, r = lin;
  for (int d = g.rank - 1; d >= 0; --d) {
    int64_t c = r % g.q[d];
    r /= g.q[d];
    off += (d == g.axis ? j : c) * g.ds[d];
  }
  return off;
}

template <class T, class I>
__global__ void gather_element(ElementGeo g, const T* __restrict__ src, const I* __restrict__ idx, T* __restrict__ dst,
                               int64_t total) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off = element_offset(g, idx, t);
    dst[t] = off < 0 ? T{} : src[off];
  }
}

// ND modes: row r of the indices (all but the last extent) holds a k-tuple naming a slice of `block`
// elements after `batch` leading batch dimensions.
struct NdGeo {
  int batch;
  int64_t k, block, rows_per_batch, batch_stride;
  int64_t d[kMaxDims], ds[kMaxDims];  // extents and strides of the addressed tensor
};

template <class I>
__device__ __forceinline__ int64_t nd_offset(const NdGeo& g, const I* idx, int64_t row) {
  int64_t off = (row / g.rows_per_batch) * g.batch_stride;
  for (int64_t t = 0; t < g.k; ++t) {
    int64_t j = wrap_index(idx[row * g.k + t], g.d[g.batch + t]);
    if (j < 0) return -1;
    off += j * g.ds[g.batch + t];
  }
  return off;
}

template <class T, class I>
__global__ void gather_nd(NdGeo g, const T* __restrict__ src, const I* __restrict__ idx, T* __restrict__ dst,
                          int64_t total) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off = nd_offset(g, idx, t / g.block);
    dst[t] = off < 0 ? T{} : src[off + t % g.block];
  }
}

ElementGeo element_geo(const Dims& idx, const Dims& d, int axis) {
  ElementGeo g{};
  g.rank = idx.nb_dims;
  g.axis = axis;
  std::vector<int64_t> ds = contiguous_strides(d);
  for (int i = 0; i < g.rank; ++i) g.q[i] = idx.d[i], g.ds[i] = ds[i];
  g.extent = d.d[axis];
  return g;
}

NdGeo nd_geo(const Dims& idx, const Dims& d, int batch) {
  NdGeo g{};
  g.batch = batch;
  g.k = idx.d[idx.nb_dims - 1];
  g.block = prod(d, batch + static_cast<int>(g.k), d.nb_dims);
  g.rows_per_batch = std::max<int64_t>(1, prod(idx, batch, idx.nb_dims - 1));
  std::vector<int64_t> ds = contiguous_strides(d);
  g.batch_stride = batch > 0 ? ds[batch - 1] : 0;
  for (int i = 0; i < d.nb_dims; ++i) g.d[i] = d.d[i], g.ds[i] = ds[i];
  return g;
}

// Calls f(T{}, I{}) with the element bits type and the index type.
template <class F>
void dispatch_gather(DataType data, DataType index, F&& f) {
  dispatch_bytes(dtype_size(data), [&](auto t) {
    if (index == DataType::kINT64)
      f(t, int64_t{});
    else
      f(t, int32_t{});
  });
}

class GatherKernel : public Kernel {
 public:
  explicit GatherKernel(const GatherParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    const TensorView &data = a.in[0], &idx = a.in[1], &y = a.out[0];
    int64_t total = y.numel();
    cudaStream_t s = stream_of(a);
    dispatch_gather(data.dtype, idx.dtype, [&](auto tt, auto it) {
      using T = decltype(tt);
      using I = decltype(it);
      const T* src = data.as<const T>();
      const I* ix = idx.as<const I>();
      T* dst = y.as<T>();
      switch (p_.mode) {
        case GatherMode::kDEFAULT: {
          const Dims &dd = data.dims, &qd = idx.dims;
          const int e = p_.num_elementwise_dims, axis = p_.axis;
          DefaultGeo g{prod(dd, e, axis), dd.d[axis], prod(dd, axis + 1, dd.nb_dims), prod(qd, e, qd.nb_dims),
                       e && dd.d[0] != 1 ? prod(dd, 1, dd.nb_dims) : 0, e && qd.d[0] != 1 ? prod(qd, e, qd.nb_dims) : 0};
          gather_default<T, I><<<grid_1d(total), kBlock, 0, s>>>(g, src, ix, dst, total);
          break;
        }
        case GatherMode::kELEMENT:
          gather_element<T, I><<<grid_1d(total), kBlock, 0, s>>>(element_geo(idx.dims, data.dims, p_.axis), src, ix,
                                                                   dst, total);
          break;
        case GatherMode::kND:
          gather_nd<T, I><<<grid_1d(total), kBlock, 0, s>>>(nd_geo(idx.dims, data.dims, p_.num_elementwise_dims), src,
                                                              ix, dst, total);
          break;
      }
    });
    check_launch("gather");
  }
  const char* impl_name() const override { return "cuda_gather"; }

 private:
  GatherParams p_;
};

// Scatter, pass 1: for every target element, the largest (row-major last) update number + 1 hitting it.
// ELEMENT updates are single elements; ND updates are slices, identified by their first element.
template <class I>
__global__ void scatter_claim(ScatterMode mode, ElementGeo eg, NdGeo ng, const I* __restrict__ idx,
                              unsigned long long* __restrict__ winner, int64_t updates) {
  for (int64_t u = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; u < updates;
       u += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off = mode == ScatterMode::kELEMENT ? element_offset(eg, idx, u) : nd_offset(ng, idx, u);
    if (off >= 0) atomicMax(winner + off, static_cast<unsigned long long>(u + 1));
  }
}

// Pass 2: each winning update writes its element (or slice).
template <class T, class I>
__global__ void scatter_write(ScatterMode mode, ElementGeo eg, NdGeo ng, const I* __restrict__ idx,
                              const unsigned long long* __restrict__ winner, const T* __restrict__ upd,
                              T* __restrict__ dst, int64_t total) {
  const int64_t block = mode == ScatterMode::kELEMENT ? 1 : ng.block;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t u = t / block;
    int64_t off = mode == ScatterMode::kELEMENT ? element_offset(eg, idx, u) : nd_offset(ng, idx, u);
    if (off >= 0 && winner[off] == static_cast<unsigned long long>(u + 1)) dst[off + t % block] = upd[t];
  }
}

class ScatterKernel : public Kernel {
 public:
  explicit ScatterKernel(const ScatterParams& p) : p_(p) {}
  void reshape(const std::vector<TensorDesc>&, const std::vector<TensorDesc>& out) override {
    winner_bytes_ = static_cast<size_t>(out[0].dims.volume()) * sizeof(unsigned long long);
  }
  size_t workspace_size() const override { return winner_bytes_; }
  void run(const KernelArgs& a) override {
    const TensorView &data = a.in[0], &idx = a.in[1], &upd = a.in[2], &y = a.out[0];
    cudaStream_t s = stream_of(a);
    const size_t es = dtype_size(y.dtype);
    if (y.data != data.data)
      T2T_CUDA_CHECK(cudaMemcpyAsync(y.data, data.data, static_cast<size_t>(y.numel()) * es, cudaMemcpyDeviceToDevice, s));
    int64_t total = upd.numel();
    if (total == 0) return;
    auto* winner = static_cast<unsigned long long*>(a.workspace);
    T2T_CUDA_CHECK(cudaMemsetAsync(winner, 0, winner_bytes_, s));
    ElementGeo eg{};
    NdGeo ng{};
    int64_t updates = total;
    if (p_.mode == ScatterMode::kELEMENT) {
      eg = element_geo(idx.dims, y.dims, p_.axis);
    } else {
      ng = nd_geo(idx.dims, y.dims, 0);
      updates = idx.numel() / std::max<int64_t>(ng.k, 1);
    }
    dispatch_gather(y.dtype, idx.dtype, [&](auto tt, auto it) {
      using T = decltype(tt);
      using I = decltype(it);
      scatter_claim<I><<<grid_1d(updates), kBlock, 0, s>>>(p_.mode, eg, ng, idx.as<const I>(), winner, updates);
      check_launch("scatter_claim");
      scatter_write<T, I><<<grid_1d(total), kBlock, 0, s>>>(p_.mode, eg, ng, idx.as<const I>(), winner,
                                                             upd.as<const T>(), y.as<T>(), total);
    });
    check_launch("scatter_write");
  }
  const char* impl_name() const override { return "cuda_scatter"; }

 private:
  ScatterParams p_;
  size_t winner_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> make_Gather(const GatherLayer& l, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "Gather");
  if (!why->empty()) return nullptr;
  return std::make_unique<GatherKernel>(l.p);
}

std::unique_ptr<Kernel> make_Scatter(const ScatterLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "Scatter");
  if (!why->empty()) return nullptr;
  return std::make_unique<ScatterKernel>(l.p);
}

}  // namespace torch2trt::gpu
