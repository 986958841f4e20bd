// CPU matrix multiply: oneDNN matmul when available, a row-parallel loop GEMM otherwise, followed by the
// fused epilogue y = act(y + bias + z) in one pass over y when the builder fused one.
#include <algorithm>

#include "backends/common/pointwise_math.h"
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

// Appends the fused epilogue's parts to a kernel name: "ref_matmul+bias+residual+GELU_ERF".
std::string epilogue_suffix(const MatrixMultiplyParams& p, bool residual) {
  std::string s;
  if (!p.bias.empty()) s += "+bias";
  if (residual) s += "+residual";
  if (p.has_activation) s += std::string("+") + activation_type_name(p.activation.type);
  return s;
}

// y[r, j] = act(y[r, j] + bias[j] + z[r, j]) in place over `rows` rows of n columns; bias and z optional.
void run_epilogue(const MatrixMultiplyParams& p, const float* bias, const float* z, float* y, int64_t rows,
                  int64_t n) {
  const ActivationParams act = p.activation;
  const bool has_act = p.has_activation;
  parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      float* yr = y + r * n;
      const float* zr = z ? z + r * n : nullptr;
      for (int64_t j = 0; j < n; ++j) {
        float v = yr[j];
        if (bias) v += bias[j];
        if (zr) v += zr[j];
        yr[j] = has_act ? pw::activation<float>(act.type, v, act.alpha, act.beta) : v;
      }
    }
  });
}

class MatmulKernel : public Kernel {
 public:
  MatmulKernel(const MatrixMultiplyLayer& layer, bool residual) : residual_(residual) {
    // A detached copy for the shape rule, so the kernel does not depend on the network's lifetime.
    layer_.p = layer.p;
    layer_.set_name(layer.name());
    bias_ = layer.p.bias.to_float();
    dnn_name_ = "onednn_matmul" + epilogue_suffix(layer.p, residual);
    ref_name_ = "ref_matmul" + epilogue_suffix(layer.p, residual);
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
    if (use_dnn_)
      prim_.run({const_cast<float*>(x0), const_cast<float*>(x1), y}, nullptr);  // dense layouts: no scratch
    else
#endif
      ref_matmul(g_, x0, x1, y);
    const float* z = residual_ ? a.in[2].as<float>() : nullptr;
    if (!bias_.empty() || z || layer_.p.has_activation)
      run_epilogue(layer_.p, bias_.empty() ? nullptr : bias_.data(), z, y,
                   a.out[0].numel() / std::max<int64_t>(g_.n, 1), g_.n);
  }
  const char* impl_name() const override { return use_dnn_ ? dnn_name_.c_str() : ref_name_.c_str(); }

 private:
  MatrixMultiplyLayer layer_;
  bool residual_;
  std::vector<float> bias_;  // empty when there is none
  std::string dnn_name_, ref_name_;  // implementation names with the epilogue's parts
  MatrixMultiplyGeometry g_;
  bool use_dnn_ = false;
#ifdef T2T_WITH_ONEDNN
  dnn::Primitive prim_;
#endif
};

}  // namespace

std::unique_ptr<Kernel> make_MatrixMultiply(const MatrixMultiplyLayer& l, const std::vector<TensorDesc>& in,
                                            const std::vector<TensorDesc>&, std::string* why) {
  for (const TensorDesc& d : in)
    if (d.dtype != DataType::kFLOAT) {
      *why = std::string("matrix multiply on ") + dtype_name(d.dtype) + " is not implemented on the CPU";
      return nullptr;
    }
  return std::make_unique<MatmulKernel>(l, in.size() > 2);
}

}  // namespace torch2trt::cpu
