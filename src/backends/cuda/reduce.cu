#include <limits>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

constexpr int kMaxRowBlock = 256;

// Reduction policies: accumulator type, start value, step (fold one element), merge (two partial
// accumulators) and final value. Float sums and products accumulate in double as the CPU kernel does;
// integer sums and products wrap like the fixed-width type (computed unsigned, no signed overflow).
template <class T>
struct FloatSum {
  using Acc = double;
  static __device__ Acc init() { return 0.0; }
  static __device__ Acc step(Acc a, T v) { return a + static_cast<double>(to_float(v)); }
  static __device__ Acc merge(Acc a, Acc b) { return a + b; }
  static __device__ T fin(Acc a, int64_t) { return from_float<T>(static_cast<float>(a)); }
};
template <class T>
struct FloatAvg : FloatSum<T> {
  static __device__ T fin(double a, int64_t n) { return from_float<T>(static_cast<float>(a / static_cast<double>(n))); }
};
template <class T>
struct FloatProd {
  using Acc = double;
  static __device__ Acc init() { return 1.0; }
  static __device__ Acc step(Acc a, T v) { return a * static_cast<double>(to_float(v)); }
  static __device__ Acc merge(Acc a, Acc b) { return a * b; }
  static __device__ T fin(Acc a, int64_t) { return from_float<T>(static_cast<float>(a)); }
};
// A NaN wins and stays, as torch.amax / torch.amin.
template <class T, bool Max>
struct FloatExtreme {
  using Acc = float;
  static __device__ Acc init() { return Max ? -INFINITY : INFINITY; }
  static __device__ Acc merge(Acc a, Acc v) { return a != a ? a : (v != v || (Max ? v > a : v < a) ? v : a); }
  static __device__ Acc step(Acc a, T v) { return merge(a, to_float(v)); }
  static __device__ T fin(Acc a, int64_t) { return from_float<T>(a); }
};
template <class T>
struct IntSum {
  using Acc = uint64_t;
  static __device__ Acc init() { return 0; }
  static __device__ Acc step(Acc a, T v) { return a + static_cast<uint64_t>(static_cast<int64_t>(v)); }
  static __device__ Acc merge(Acc a, Acc b) { return a + b; }
  static __device__ T fin(Acc a, int64_t) { return static_cast<T>(static_cast<int64_t>(a)); }
};
template <class T>
struct IntProd {
  using Acc = uint64_t;
  static __device__ Acc init() { return 1; }
  static __device__ Acc step(Acc a, T v) { return a * static_cast<uint64_t>(static_cast<int64_t>(v)); }
  static __device__ Acc merge(Acc a, Acc b) { return a * b; }
  static __device__ T fin(Acc a, int64_t) { return static_cast<T>(static_cast<int64_t>(a)); }
};
template <class T, bool Max>
struct IntExtreme {
  using Acc = T;
  static __device__ Acc init() { return Max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max(); }
  static __device__ Acc merge(Acc a, Acc v) { return (Max ? v > a : v < a) ? v : a; }
  static __device__ Acc step(Acc a, T v) { return merge(a, v); }
  static __device__ T fin(Acc a, int64_t) { return a; }
};

// Output o reads the input at base(o) + red(r) for r in [0, R): `kept` maps output indices to base
// offsets, `red` maps reduction indices to offsets from the base.
struct ReducePlan {
  OffsetCalc<1> kept, red;
  int64_t outputs = 0, R = 0;
  bool rows = false;  // the innermost input dimension is reduced: a block per output reads contiguously
};

// One block per output (innermost dimension reduced).
template <class T, class P>
__global__ void reduce_rows(const T* __restrict__ x, T* __restrict__ y, ReducePlan pl) {
  __shared__ typename P::Acc smem[kMaxRowBlock];
  for (int64_t o = blockIdx.x; o < pl.outputs; o += gridDim.x) {
    int64_t base;
    pl.kept.get(o, &base);
    typename P::Acc a = P::init();
    for (int64_t r = threadIdx.x; r < pl.R; r += blockDim.x) {
      int64_t off;
      pl.red.get(r, &off);
      a = P::step(a, x[base + off]);
    }
    a = block_reduce(a, P::merge, smem);
    if (threadIdx.x == 0) y[o] = P::fin(a, pl.R);
  }
}

// One thread per output (innermost dimension kept): neighbouring threads read neighbouring addresses.
template <class T, class P>
__global__ void reduce_columns(const T* __restrict__ x, T* __restrict__ y, ReducePlan pl) {
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < pl.outputs;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t base;
    pl.kept.get(o, &base);
    typename P::Acc a = P::init();
    for (int64_t r = 0; r < pl.R; ++r) {
      int64_t off;
      pl.red.get(r, &off);
      a = P::step(a, x[base + off]);
    }
    y[o] = P::fin(a, pl.R);
  }
}

template <class T, class P>
void launch(const ReducePlan& pl, const T* x, T* y, cudaStream_t s) {
  if (pl.rows) {
    int block = pow2_block(pl.R, 32, kMaxRowBlock);
    unsigned grid = static_cast<unsigned>(std::min<int64_t>(pl.outputs, 1 << 20));
    reduce_rows<T, P><<<grid, block, 0, s>>>(x, y, pl);
  } else {
    reduce_columns<T, P><<<grid_1d(pl.outputs), kBlock, 0, s>>>(x, y, pl);
  }
  check_launch("reduce");
}

class ReduceKernel : public Kernel {
 public:
  explicit ReduceKernel(const ReduceParams& p) : p_(p) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    const Dims& d = in[0].dims;
    std::vector<int64_t> st = contiguous_strides(d);
    Dims kd, rd;
    int64_t ks[1][kMaxDims] = {}, rs[1][kMaxDims] = {};
    int innermost = -1;  // innermost dimension with extent > 1
    for (int i = 0; i < d.nb_dims; ++i) {
      if (d.d[i] != 1) innermost = i;
      if ((p_.axes >> i) & 1u) {
        rs[0][rd.nb_dims] = st[i];
        rd.d[rd.nb_dims++] = d.d[i];
      } else {
        ks[0][kd.nb_dims] = st[i];
        kd.d[kd.nb_dims++] = d.d[i];
      }
    }
    plan_.kept = make_offset_calc<1>(kd, ks);
    plan_.red = make_offset_calc<1>(rd, rs);
    plan_.outputs = kd.volume();
    plan_.R = rd.volume();
    plan_.rows = innermost >= 0 && ((p_.axes >> innermost) & 1u);
  }
  void run(const KernelArgs& a) override {
    cudaStream_t s = stream_of(a);
    const DataType t = a.in[0].dtype;
    if (is_float_type(t)) {
      dispatch_float(t, [&](auto tag) { run_float<decltype(tag)>(a, s); });
    } else if (t == DataType::kINT32) {
      run_int<int32_t>(a, s);
    } else if (t == DataType::kINT64) {
      run_int<int64_t>(a, s);
    } else {
      throw Unsupported(std::string("CUDA reduce on ") + dtype_name(t) + " reached the kernel");
    }
  }
  const char* impl_name() const override { return "cuda_reduce"; }

 private:
  template <class T>
  void run_float(const KernelArgs& a, cudaStream_t s) const {
    const T* x = a.in[0].as<const T>();
    T* y = a.out[0].as<T>();
    switch (p_.op) {
      case ReduceOperation::kSUM: return launch<T, FloatSum<T>>(plan_, x, y, s);
      case ReduceOperation::kAVG: return launch<T, FloatAvg<T>>(plan_, x, y, s);
      case ReduceOperation::kPROD: return launch<T, FloatProd<T>>(plan_, x, y, s);
      case ReduceOperation::kMAX: return launch<T, FloatExtreme<T, true>>(plan_, x, y, s);
      case ReduceOperation::kMIN: return launch<T, FloatExtreme<T, false>>(plan_, x, y, s);
    }
  }
  template <class T>
  void run_int(const KernelArgs& a, cudaStream_t s) const {
    const T* x = a.in[0].as<const T>();
    T* y = a.out[0].as<T>();
    switch (p_.op) {
      case ReduceOperation::kSUM: return launch<T, IntSum<T>>(plan_, x, y, s);
      case ReduceOperation::kPROD: return launch<T, IntProd<T>>(plan_, x, y, s);
      case ReduceOperation::kMAX: return launch<T, IntExtreme<T, true>>(plan_, x, y, s);
      case ReduceOperation::kMIN: return launch<T, IntExtreme<T, false>>(plan_, x, y, s);
      case ReduceOperation::kAVG: break;  // refused by make_Reduce
    }
    throw Unsupported("CUDA reduce: AVG of integers reached the kernel");
  }

  ReduceParams p_;
  ReducePlan plan_;
};

}  // namespace

std::unique_ptr<Kernel> make_Reduce(const ReduceLayer& l, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>&, std::string* why) {
  DataType t = in[0].dtype;
  bool ok = is_float_type(t) || ((t == DataType::kINT32 || t == DataType::kINT64) && l.p.op != ReduceOperation::kAVG);
  if (!ok) return unsupported(why, std::string("Reduce ") + reduce_op_name(l.p.op) + " on " + dt(t));
  return std::make_unique<ReduceKernel>(l.p);
}

}  // namespace torch2trt::gpu
