// CPU matrix multiply: oneDNN matmul when available, a row-parallel loop GEMM otherwise.
#include <algorithm>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/onednn_util.h"

namespace torch2trt::cpu {
namespace {

// Row-major strides of a batch shape whose innermost element is a block of `block` values.
std::vector<int64_t> batch_strides(const Dims& d, int64_t block) {
  std::vector<int64_t> s(d.nb_dims);
  int64_t acc = block;
  for (int i = d.nb_dims - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= d.d[i];
  }
  return s;
}

// Offset of batch `idx` (row-major over `out`) in an operand whose batch extents are equal to out's or 1.
int64_t batch_offset(int64_t idx, const Dims& out, const Dims& mine, const std::vector<int64_t>& strides) {
  int64_t off = 0;
  for (int i = out.nb_dims - 1; i >= 0; --i) {
    int64_t c = idx % out.d[i];
    idx /= out.d[i];
    if (mine.d[i] != 1) off += c * strides[i];
  }
  return off;
}

// C = A x B per batch, in blocks of kRows output rows. The block's rows of A are gathered contiguous;
// then each row (or column) of B is loaded once per block and used for every row in it: an axpy sweep
// over B's rows when B is stored (k, n), dot products when it is stored transposed (n, k).
void ref_matmul(const MatrixMultiplyGeometry& g, const float* a, const float* b, float* c) {
  constexpr int64_t kRows = 8;
  const int64_t m = g.m, n = g.n, k = g.k;
  const int64_t batches = g.batch_out.volume(), blocks = (m + kRows - 1) / kRows;
  auto sa = batch_strides(g.batch0, m * k), sb = batch_strides(g.batch1, k * n);
  parallel_for(batches * blocks, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> arows(static_cast<size_t>(kRows * k));
    for (int64_t t = lo; t < hi; ++t) {
      int64_t bi = t / blocks, i0 = (t % blocks) * kRows, rows = std::min(kRows, m - i0);
      const float* ab = a + batch_offset(bi, g.batch_out, g.batch0, sa);
      const float* bb = b + batch_offset(bi, g.batch_out, g.batch1, sb);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t kk = 0; kk < k; ++kk) arows[r * k + kk] = g.trans0 ? ab[kk * m + i0 + r] : ab[(i0 + r) * k + kk];
      float* cb = c + (bi * m + i0) * n;
      if (g.trans1) {
        for (int64_t j = 0; j < n; ++j) {
          const float* bj = bb + j * k;
          for (int64_t r = 0; r < rows; ++r) {
            const float* ar = arows.data() + r * k;
            float acc = 0.f;
            for (int64_t kk = 0; kk < k; ++kk) acc += ar[kk] * bj[kk];
            cb[r * n + j] = acc;
          }
        }
      } else {
        std::fill(cb, cb + rows * n, 0.f);
        for (int64_t kk = 0; kk < k; ++kk) {
          const float* __restrict bk = bb + kk * n;
          for (int64_t r = 0; r < rows; ++r) {
            const float av = arows[r * k + kk];
            float* __restrict cr = cb + r * n;
            for (int64_t j = 0; j < n; ++j) cr[j] += av * bk[j];
          }
        }
      }
    }
  });
}

#ifdef T2T_WITH_ONEDNN
// Describes one operand of the product: batch extents then a (rows, cols) matrix stored either row-major
// or transposed; the batch strides follow the stored matrix size.
dnnl::memory::desc operand_md(const Dims& batch, int64_t rows, int64_t cols, bool transposed) {
  dnnl::memory::dims d(batch.d, batch.d + batch.nb_dims), s;
  for (int64_t x : batch_strides(batch, rows * cols)) s.push_back(x);
  d.push_back(rows);
  d.push_back(cols);
  s.push_back(transposed ? 1 : cols);
  s.push_back(transposed ? rows : 1);
  return dnnl::memory::desc(d, dnnl::memory::data_type::f32, s);
}

bool build_onednn(const MatrixMultiplyGeometry& g, dnn::Primitive* prim) {
  if (g.m == 0 || g.n == 0 || g.k == 0 || g.batch_out.volume() == 0) return false;
  auto src = operand_md(g.batch0, g.m, g.k, g.trans0);
  auto wei = operand_md(g.batch1, g.k, g.n, g.trans1);
  auto dst = operand_md(g.batch_out, g.m, g.n, false);
  try {
    dnnl::matmul::desc d(src, wei, dst);
    dnnl::matmul::primitive_desc pd(d, dnn::engine());
    prim->init(pd, {{DNNL_ARG_SRC, src, src, false}, {DNNL_ARG_WEIGHTS, wei, wei, false}, {DNNL_ARG_DST, dst, dst, true}});
    return true;
  } catch (const dnnl::error&) {
    return false;  // e.g. a broadcast this oneDNN does not implement: the loop GEMM runs it
  }
}
#endif

class MatmulKernel : public Kernel {
 public:
  explicit MatmulKernel(const MatrixMultiplyLayer& layer) {
    // A detached copy for the shape rule, so the kernel does not depend on the network's lifetime.
    layer_.p = layer.p;
    layer_.set_name(layer.name());
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    g_ = layer_.geometry(in[0].dims, in[1].dims);
    use_dnn_ = false;
#ifdef T2T_WITH_ONEDNN
    if (onednn_enabled()) use_dnn_ = build_onednn(g_, &prim_);
#endif
  }
  void run(const KernelArgs& a) override {
    const float* x0 = a.in[0].as<float>();
    const float* x1 = a.in[1].as<float>();
    float* y = a.out[0].as<float>();
#ifdef T2T_WITH_ONEDNN
    if (use_dnn_) {
      prim_.run({const_cast<float*>(x0), const_cast<float*>(x1), y}, nullptr);  // dense layouts: no scratch
      return;
    }
#endif
    ref_matmul(g_, x0, x1, y);
  }
  const char* impl_name() const override { return use_dnn_ ? "onednn_matmul" : "ref_matmul"; }

 private:
  MatrixMultiplyLayer layer_;
  MatrixMultiplyGeometry g_;
  bool use_dnn_ = false;
#ifdef T2T_WITH_ONEDNN
  dnn::Primitive prim_;
#endif
};

}  // namespace

std::unique_ptr<Kernel> make_MatrixMultiply(const MatrixMultiplyLayer& l, const std::vector<TensorDesc>& in,
                                            const std::vector<TensorDesc>&, std::string* why) {
  if (in[0].dtype != DataType::kFLOAT || in[1].dtype != DataType::kFLOAT) {
    *why = std::string("matrix multiply on ") + dtype_name(in[0].dtype) + " is not implemented on the CPU";
    return nullptr;
  }
  return std::make_unique<MatmulKernel>(l);
}

}  // namespace torch2trt::cpu
