// CUDA matrix multiply through cuBLASLt: batched with strides, broadcast batch dimensions, transposes and
// vectors. float32 computes in float32 (no TF32); float16/bfloat16 accumulate in float32.
#include <cstring>

#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// Scratch offered to cuBLASLt (NVIDIA recommends 32 MiB on Hopper).
constexpr size_t kLtWorkspace = size_t(32) << 20;

cudaDataType_t lt_type(DataType t) {
  switch (t) {
    case DataType::kHALF: return CUDA_R_16F;
    case DataType::kBF16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

// Owning wrappers of the cuBLASLt descriptors.
struct MatmulDesc {
  cublasLtMatmulDesc_t d = nullptr;
  ~MatmulDesc() {
    if (d) cublasLtMatmulDescDestroy(d);
  }
};
struct Layout {
  cublasLtMatrixLayout_t d = nullptr;
  ~Layout() {
    if (d) cublasLtMatrixLayoutDestroy(d);
  }
  // A column-major rows x cols matrix with leading dimension ld, `batch` of them `stride` elements apart.
  void set(cudaDataType_t t, int64_t rows, int64_t cols, int64_t ld, int32_t batch, int64_t stride) {
    if (d) cublasLtMatrixLayoutDestroy(d), d = nullptr;
    T2T_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d, t, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld));
    T2T_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(d, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof(batch)));
    T2T_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(d, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
  }
};
struct Preference {
  cublasLtMatmulPreference_t d = nullptr;
  Preference() { T2T_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&d)); }
  ~Preference() { cublasLtMatmulPreferenceDestroy(d); }
};

// Row-major C (m x n) = A (m x k) x B (k x n) is column-major C^T = B^T x A^T: cuBLASLt's "A" is our B
// and its "B" our A, both read in their stored (row-major) form as column-major matrices.
class MatmulKernel : public Kernel {
 public:
  MatmulKernel(const MatrixMultiplyLayer& layer, DataType dt) : dt_(dt) {
    layer_.p = layer.p;
    layer_.set_name(layer.name());
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    g_ = layer_.geometry(in[0].dims, in[1].dims);
    const int64_t m = g_.m, n = g_.n, k = g_.k;
    const int64_t size_a = m * k, size_b = k * n, size_c = m * n;
    // Batch strides (elements) of A, B, C over the output batch dims; 0 where an operand is broadcast.
    const Dims& bo = g_.batch_out;
    int64_t st[3][kMaxDims] = {};
    int64_t acc[3] = {size_a, size_b, size_c};
    for (int i = bo.nb_dims - 1; i >= 0; --i) {
      st[0][i] = g_.batch0.d[i] == 1 ? 0 : acc[0];
      st[1][i] = g_.batch1.d[i] == 1 ? 0 : acc[1];
      st[2][i] = acc[2];
      acc[0] *= g_.batch0.d[i];
      acc[1] *= g_.batch1.d[i];
      acc[2] *= bo.d[i];
    }
    OffsetCalc<3> calc = make_offset_calc<3>(bo, st);
    // A weight shared by every batch entry (B broadcast, A dense and not transposed) folds the batch
    // into the rows of A and C: one GEMM of (batch * m) rows, the common linear-layer case.
    int64_t batch = bo.volume();
    rows_ = m;
    if (batch > 1 && calc.rank == 1 && calc.strides[1][0] == 0 && calc.strides[0][0] == size_a && !g_.trans0 &&
        calc.strides[2][0] == size_c) {
      rows_ = m * batch;
      calc.dims[0] = 1;
      calc.strides[0][0] = calc.strides[1][0] = calc.strides[2][0] = 0;
    }
    // The innermost merged batch dimension is cuBLASLt's strided batch; outer ones are a loop of calls.
    int r = calc.rank;
    inner_batch_ = calc.dims[r - 1];
    for (int j = 0; j < 3; ++j) inner_stride_[j] = calc.strides[j][r - 1];
    outer_ = calc;
    outer_.dims[r - 1] = 1;
    outer_count_ = 1;
    for (int d = 0; d < r; ++d) outer_count_ *= outer_.dims[d];
    if (inner_batch_ > INT32_MAX) throw Unsupported("matrix multiply: batch of " + std::to_string(inner_batch_) + " exceeds cuBLASLt's limit");
    k_zero_ = k == 0;
    if (k_zero_ || rows_ == 0 || n == 0) return;

    cudaDataType_t t = lt_type(dt_);
    desc_ = std::make_unique<MatmulDesc>();
    T2T_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc_->d, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t ta = g_.trans1 ? CUBLAS_OP_T : CUBLAS_OP_N, tb = g_.trans0 ? CUBLAS_OP_T : CUBLAS_OP_N;
    T2T_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc_->d, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
    T2T_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc_->d, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
    int32_t nb = static_cast<int32_t>(inner_batch_);
    // Our B: stored (k, n) -> column-major n x k, ld n; stored transposed (n, k) -> k x n, ld k.
    a_.set(t, g_.trans1 ? k : n, g_.trans1 ? n : k, g_.trans1 ? k : n, nb, inner_stride_[1]);
    // Our A: stored (rows, k) -> column-major k x rows, ld k; stored transposed (k, m) -> m x k, ld m.
    b_.set(t, g_.trans0 ? rows_ : k, g_.trans0 ? k : rows_, g_.trans0 ? rows_ : k, nb, inner_stride_[0]);
    c_.set(t, n, rows_, n, nb, inner_stride_[2]);
    // Two algorithms: one for 16-byte aligned pointers (the usual case: cudaMalloc, torch tensors) and
    // one for any element-aligned pointer (views at odd offsets); run() picks by the actual pointers.
    // Batch entries start at base + i * stride: 16-byte alignment needs 16-byte multiples as strides too.
    bool strides_aligned = true;
    for (int j = 0; j < 3; ++j)
      strides_aligned = strides_aligned && (inner_batch_ == 1 || (inner_stride_[j] * dtype_size(dt_)) % 16 == 0);
    aligned_ok_ = strides_aligned && pick(16, &aligned_);
    if (!pick(static_cast<uint32_t>(dtype_size(dt_)), &unaligned_))
      throw Unsupported("matrix multiply '" + layer_.name() + "': cuBLASLt has no algorithm for m=" +
                        std::to_string(rows_) + " n=" + std::to_string(n) + " k=" + std::to_string(k) + " (" +
                        dtype_name(dt_) + ")");
  }
  size_t workspace_size() const override { return k_zero_ ? 0 : kLtWorkspace; }
  void run(const KernelArgs& a) override {
    cudaStream_t s = stream_of(a);
    const size_t es = dtype_size(dt_);
    auto* A = static_cast<const uint8_t*>(a.in[0].data);
    auto* B = static_cast<const uint8_t*>(a.in[1].data);
    auto* C = static_cast<uint8_t*>(a.out[0].data);
    if (k_zero_) {  // an empty sum: zeros (cuBLASLt refuses k = 0)
      T2T_CUDA_CHECK(cudaMemsetAsync(C, 0, static_cast<size_t>(a.out[0].numel()) * es, s));
      return;
    }
    if (!desc_) return;
    const float one = 1.f, zero = 0.f;
    cublasLtHandle_t h = cublaslt_handle();
    for (int64_t o = 0; o < outer_count_; ++o) {
      int64_t off[3];
      outer_.get(o, off);
      const void* pa = A + off[0] * es;
      const void* pb = B + off[1] * es;
      void* pc = C + off[2] * es;
      bool aligned = aligned_ok_ && ((reinterpret_cast<uintptr_t>(pa) | reinterpret_cast<uintptr_t>(pb) |
                                      reinterpret_cast<uintptr_t>(pc)) % 16 == 0);
      const cublasLtMatmulAlgo_t* algo = aligned ? &aligned_ : &unaligned_;
      T2T_CUBLAS_CHECK(cublasLtMatmul(h, desc_->d, &one, pb, a_.d, pa, b_.d, &zero, pc, c_.d, pc, c_.d, algo,
                                      a.workspace, kLtWorkspace, s));
    }
  }
  const char* impl_name() const override { return "cublaslt_matmul"; }

 private:
  bool pick(uint32_t alignment, cublasLtMatmulAlgo_t* algo) {
    Preference pref;
    size_t ws = kLtWorkspace;
    T2T_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.d, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
    for (auto attr : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
      T2T_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.d, attr, &alignment, sizeof(alignment)));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(cublaslt_handle(), desc_->d, a_.d, b_.d, c_.d, c_.d, pref.d, 1,
                                                       &result, &found);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0) return false;
    *algo = result.algo;
    return true;
  }

  MatrixMultiplyLayer layer_;
  DataType dt_;
  MatrixMultiplyGeometry g_;
  int64_t rows_ = 0;             // m, or batch * m when the batch is folded into the rows
  int64_t inner_batch_ = 1;      // cuBLASLt's batch count
  int64_t inner_stride_[3] = {}; // its strides for A, B, C (elements)
  OffsetCalc<3> outer_;          // offsets of the outer batch entries (one call each)
  int64_t outer_count_ = 1;
  bool k_zero_ = false;
  std::unique_ptr<MatmulDesc> desc_;
  Layout a_, b_, c_;
  cublasLtMatmulAlgo_t aligned_{}, unaligned_{};
  bool aligned_ok_ = false;
};

}  // namespace

std::unique_ptr<Kernel> make_MatrixMultiply(const MatrixMultiplyLayer& l, const std::vector<TensorDesc>& in,
                                            const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "MatrixMultiply on " + dt(in[0].dtype));
  return std::make_unique<MatmulKernel>(l, in[0].dtype);
}

}  // namespace torch2trt::gpu
