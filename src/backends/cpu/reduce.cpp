#include <algorithm>
#include <limits>

#include "backends/cpu/cpu_kernels.h"

namespace torch2trt::cpu {
namespace {

struct Group {
  int64_t n, stride;
};

// The input seen as alternating runs of kept and reduced dimensions (adjacent runs of one kind merged,
// extents of 1 dropped): output element (p, j) reads x[base(p) + j + reduced offsets], where j walks
// the trailing kept run (contiguous) and p the other kept runs.
struct Plan {
  std::vector<Group> outer;  // kept runs before the trailing one
  std::vector<Group> red;    // reduced runs
  int64_t inner = 1;         // extent of the trailing kept run (stride 1), or 1
  int64_t outer_count = 1, red_count = 1;
};

Plan make_plan(const Dims& d, uint32_t mask) {
  std::vector<std::pair<int64_t, bool>> runs;
  for (int i = 0; i < d.nb_dims; ++i) {
    if (d.d[i] == 1) continue;
    bool r = (mask >> i) & 1u;
    if (!runs.empty() && runs.back().second == r)
      runs.back().first *= d.d[i];
    else
      runs.push_back({d.d[i], r});
  }
  std::vector<int64_t> stride(runs.size());
  int64_t acc = 1;
  for (size_t i = runs.size(); i-- > 0;) stride[i] = acc, acc *= runs[i].first;
  Plan p;
  size_t end = runs.size();
  if (end && !runs.back().second) p.inner = runs[--end].first;
  for (size_t i = 0; i < end; ++i) {
    (runs[i].second ? p.red : p.outer).push_back({runs[i].first, stride[i]});
    (runs[i].second ? p.red_count : p.outer_count) *= runs[i].first;
  }
  return p;
}

// Folds x over reduced positions [r0, r1) (row-major over the reduced runs) into acc[0, jn).
template <class T, class Acc, class F>
void fold(const T* x, const Plan& pl, int64_t base, int64_t jn, int64_t r0, int64_t r1, Acc* acc, F f) {
  int nr = static_cast<int>(pl.red.size());
  if (nr == 0) {
    if (r0 < r1)
      for (int64_t j = 0; j < jn; ++j) acc[j] = f(acc[j], x[base + j]);
    return;
  }
  int64_t idx[kMaxDims], off = 0, rem = r0;
  for (int g = nr - 1; g >= 0; --g) {
    idx[g] = rem % pl.red[g].n;
    rem /= pl.red[g].n;
    off += idx[g] * pl.red[g].stride;
  }
  const Group& last = pl.red[nr - 1];
  for (int64_t r = r0; r < r1;) {
    int64_t run = std::min(last.n - idx[nr - 1], r1 - r);
    const T* q = x + base + off;
    if (jn == 1) {
      Acc a = acc[0];
      for (int64_t k = 0; k < run; ++k) a = f(a, q[k * last.stride]);
      acc[0] = a;
    } else {
      for (int64_t k = 0; k < run; ++k) {
        const T* row = q + k * last.stride;
        for (int64_t j = 0; j < jn; ++j) acc[j] = f(acc[j], row[j]);
      }
    }
    r += run;
    off += run * last.stride;
    idx[nr - 1] += run;
    for (int g = nr - 1; g > 0 && idx[g] == pl.red[g].n; --g) {
      off -= pl.red[g].n * pl.red[g].stride;
      idx[g] = 0;
      ++idx[g - 1];
      off += pl.red[g - 1].stride;
    }
  }
}

// Runs the reduction of x (dims `d`) into y with accumulator type Acc, starting value `init`,
// fold step f(acc, x) (also used to merge partial results) and final step fin(acc, count) -> T.
template <class T, class Acc, class F, class Fin>
void reduce(const T* x, const Dims& d, uint32_t mask, T* y, Acc init, F f, Fin fin) {
  Plan pl = make_plan(d, mask);
  if (pl.outer_count * pl.inner == 0) return;
  const int64_t block = std::min<int64_t>(pl.inner, 256);
  const int64_t nblocks = (pl.inner + block - 1) / block;
  const int64_t items = pl.outer_count * nblocks;
  // A few big reductions (a full sum) would leave threads idle: split the reduced range too.
  int64_t nsplit = 1;
  if (items < num_threads() && pl.red_count * block >= (1 << 16))
    nsplit = std::max<int64_t>(1, std::min<int64_t>(num_threads() / items + 1, pl.red_count * block / (1 << 15)));
  const int64_t R = pl.red_count;
  auto base_of = [&](int64_t p) {
    int64_t base = 0;
    for (size_t g = pl.outer.size(); g-- > 0;) {
      base += (p % pl.outer[g].n) * pl.outer[g].stride;
      p /= pl.outer[g].n;
    }
    return base;
  };
  std::vector<Acc> partial(nsplit > 1 ? static_cast<size_t>(items * nsplit * block) : 0, init);
  int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, R * block / nsplit));
  parallel_for(items * nsplit, grain, [&](int64_t b, int64_t e) {
    Acc acc[256];
    for (int64_t w = b; w < e; ++w) {
      int64_t item = w / nsplit, s = w % nsplit;
      int64_t p = item / nblocks, j0 = (item % nblocks) * block, jn = std::min(block, pl.inner - j0);
      std::fill(acc, acc + jn, init);
      fold(x, pl, base_of(p) + j0, jn, R * s / nsplit, R * (s + 1) / nsplit, acc, f);
      if (nsplit == 1) {
        for (int64_t j = 0; j < jn; ++j) y[p * pl.inner + j0 + j] = fin(acc[j], R);
      } else {
        std::copy(acc, acc + jn, partial.begin() + w * block);
      }
    }
  });
  if (nsplit == 1) return;
  for (int64_t item = 0; item < items; ++item) {
    int64_t p = item / nblocks, j0 = (item % nblocks) * block, jn = std::min(block, pl.inner - j0);
    for (int64_t j = 0; j < jn; ++j) {
      Acc a = partial[item * nsplit * block + j];
      for (int64_t s = 1; s < nsplit; ++s) a = f(a, partial[(item * nsplit + s) * block + j]);
      y[p * pl.inner + j0 + j] = fin(a, R);
    }
  }
}

template <class T>
void reduce_float(ReduceOperation op, const T* x, const Dims& d, uint32_t mask, T* y) {
  auto cast = [](double a, int64_t) { return static_cast<T>(a); };
  switch (op) {
    case ReduceOperation::kSUM:
      return reduce<T, double>(x, d, mask, y, 0.0, [](double a, auto v) { return a + v; }, cast);
    case ReduceOperation::kAVG:
      return reduce<T, double>(x, d, mask, y, 0.0, [](double a, auto v) { return a + v; },
                               [](double a, int64_t n) { return static_cast<T>(a / static_cast<double>(n)); });
    case ReduceOperation::kPROD:
      return reduce<T, double>(x, d, mask, y, 1.0, [](double a, auto v) { return a * v; }, cast);
    case ReduceOperation::kMAX:
      return reduce<T, double>(x, d, mask, y, -std::numeric_limits<double>::infinity(), [](double a, auto v) {
        double u = static_cast<double>(v);
        return a != a ? a : (u != u || u > a ? u : a);  // a NaN wins and stays, as torch.amax
      }, cast);
    case ReduceOperation::kMIN:
      return reduce<T, double>(x, d, mask, y, std::numeric_limits<double>::infinity(), [](double a, auto v) {
        double u = static_cast<double>(v);
        return a != a ? a : (u != u || u < a ? u : a);
      }, cast);
  }
}

template <class T>
void reduce_int(ReduceOperation op, const T* x, const Dims& d, uint32_t mask, T* y) {
  // Sums and products wrap like the fixed-width type (computed unsigned to avoid signed overflow).
  auto wrap = [](uint64_t a, int64_t) { return static_cast<T>(static_cast<int64_t>(a)); };
  auto same = [](T a, int64_t) { return a; };
  auto u64 = [](auto v) { return static_cast<uint64_t>(static_cast<int64_t>(v)); };
  switch (op) {
    case ReduceOperation::kSUM:
      return reduce<T, uint64_t>(x, d, mask, y, 0, [u64](uint64_t a, auto v) { return a + u64(v); }, wrap);
    case ReduceOperation::kPROD:
      return reduce<T, uint64_t>(x, d, mask, y, 1, [u64](uint64_t a, auto v) { return a * u64(v); }, wrap);
    case ReduceOperation::kMAX:
      return reduce<T, T>(x, d, mask, y, std::numeric_limits<T>::lowest(), [](T a, T v) { return v > a ? v : a; },
                          same);
    case ReduceOperation::kMIN:
      return reduce<T, T>(x, d, mask, y, std::numeric_limits<T>::max(), [](T a, T v) { return v < a ? v : a; }, same);
    case ReduceOperation::kAVG: break;  // rejected by the shape rule and by make_Reduce
  }
}

class ReduceKernel : public Kernel {
 public:
  explicit ReduceKernel(const ReduceParams& p) : p_(p) {}
  void run(const KernelArgs& a) override {
    const TensorView &X = a.in[0], &Y = a.out[0];
    switch (X.dtype) {
      case DataType::kFLOAT: return reduce_float(p_.op, X.as<float>(), X.dims, p_.axes, Y.as<float>());
      case DataType::kINT32: return reduce_int(p_.op, X.as<int32_t>(), X.dims, p_.axes, Y.as<int32_t>());
      case DataType::kINT64: return reduce_int(p_.op, X.as<int64_t>(), X.dims, p_.axes, Y.as<int64_t>());
      default: throw Unsupported(std::string("reduce on ") + dtype_name(X.dtype) + " reached the CPU kernel");
    }
  }
  const char* impl_name() const override { return "cpu_reduce"; }

 private:
  ReduceParams p_;
};

}  // namespace

std::unique_ptr<Kernel> make_Reduce(const ReduceLayer& l, const std::vector<TensorDesc>& in,
                                    const std::vector<TensorDesc>&, std::string* why) {
  DataType t = in[0].dtype;
  bool is_int = t == DataType::kINT32 || t == DataType::kINT64;
  bool ok = t == DataType::kFLOAT || (is_int && l.p.op != ReduceOperation::kAVG);
  if (!ok) {
    *why = std::string("reduce ") + reduce_op_name(l.p.op) + " on " + dtype_name(t) + " is not implemented";
    return nullptr;
  }
  return std::make_unique<ReduceKernel>(l.p);
}

}  // namespace torch2trt::cpu
