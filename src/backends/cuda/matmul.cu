// CUDA matrix multiply through cuBLASLt: batched with strides, broadcast batch dimensions, transposes and
// vectors. float32 computes in float32 (no TF32); float16/bfloat16 accumulate in float32.
// The fused epilogue y = act(A x B + bias + z) runs inside the GEMM where cuBLASLt can: the bias through its
// BIAS epilogues, z as its C matrix with beta = 1, ReLU and the tanh GELU through RELU_BIAS / GELU_BIAS.
// Other activations (GELU_ERF, which cuBLASLt's tanh-form GELU would not match, SIGMOID, ...) run in one
// small kernel over y after the GEMM. A single float16/bfloat16 GEMM (no batch left after folding it into
// the rows) also has the own tensor-core kernel with the whole epilogue inside (gemm_mma.h) among its
// tactics: BERT's FFN then runs GEMM, bias and GELU-erf in one launch.
#include <algorithm>
#include <cstring>

#include "backends/common/pointwise_math.h"
#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/gemm_mma.h"
#include "backends/cuda/vector_io.cuh"

namespace torch2trt::gpu {
namespace {

// Scratch offered to cuBLASLt (NVIDIA recommends 32 MiB on Hopper), or the engine's limit when lower.
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

// The part of the epilogue that runs after the GEMM, in one pass over y (n columns):
// y = act((product ? y : 0) + bias[col] + z), each part optional (product false when k = 0: an empty sum).
// One element per thread; post_ops runs epilogue_vec (vector_io.cuh) instead where n and the pointers
// allow 16-byte vectors.
template <class T>
__global__ void matmul_epilogue(T* y, const T* __restrict__ bias, const T* __restrict__ z, EpilogueOps e,
                                int64_t total, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float v = e.product ? to_float(y[i]) : 0.f;
    if (bias) v += to_float(bias[i % n]);
    if (z) v += to_float(z[i]);
    if (e.has_act) v = pw::activation<float>(e.act.type, v, e.act.alpha, e.act.beta);
    y[i] = from_float<T>(v);
  }
}

// The cuBLASLt epilogue computing act(x + bias) for the fused activation, or DEFAULT when cuBLASLt has no
// exact equivalent (the activation then runs in matmul_epilogue). cuBLASLt's GELU is the tanh form. Its
// RELU is not used: it turns NaN into 0 where torch.relu keeps NaN (measured on an H200).
cublasLtEpilogue_t lt_epilogue(const MatrixMultiplyParams& p) {
  const bool bias = !p.bias.empty();
  if (p.has_activation && p.activation.type == ActivationType::kGELU_TANH)
    return bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
  return bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
}

// Row-major C (m x n) = A (m x k) x B (k x n) is column-major C^T = B^T x A^T: cuBLASLt's "A" is our B
// and its "B" our A, both read in their stored (row-major) form as column-major matrices.
class MatmulKernel : public Kernel {
 public:
  MatmulKernel(const MatrixMultiplyLayer& layer, DataType dt, bool residual) : dt_(dt), residual_(residual) {
    layer_.p = layer.p;
    layer_.set_name(layer.name());
    base_name_ = "cublaslt_matmul";
    if (!layer.p.bias.empty()) base_name_ += "+bias";
    if (residual) base_name_ += "+residual";
    if (layer.p.has_activation) base_name_ += std::string("+") + activation_type_name(layer.p.activation.type);
    name_ = base_name_;
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    aligned_ok_ = ran_split_ = mma_fits_ = false, split_ = 0, heuristic_count_ = 0, own_ = -1;  // nothing of earlier shapes survives
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
    n_ = n;
    // The own kernel takes one dense GEMM: A (rows, k) as stored, B (k, n) or (n, k), y dense.
    mma_fits_ = !k_zero_ && rows_ > 0 && n > 0 && outer_count_ == 1 && inner_batch_ == 1 && !g_.trans0 &&
                gemm_mma_fits(dt_, rows_, n, k);
    if (mma_fits_ && tactic_ >= kOwnGemm && tactic_ < kOwnGemm + kGemmMmaConfigs) own_ = static_cast<int>(tactic_ - kOwnGemm);
    own_name_ = std::string(gemm_mma_config_name(own_)) + base_name_.substr(std::strlen("cublaslt_matmul"));
    if (!layer_.p.bias.empty() && !bias_.get()) upload_bias();
    if (k_zero_ || rows_ == 0 || n == 0) {  // nothing for cuBLASLt: drop the descriptor of earlier shapes
      desc_.reset();
      post_bias_ = post_act_ = false;
      const bool any = !layer_.p.bias.empty() || residual_ || layer_.p.has_activation;
      name_ = base_name_ + (k_zero_ && any ? "+epilogue_kernel" : "");
      return;
    }

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
    // The epilogue changes the heuristic's answer, so it is set before asking. Should cuBLASLt have no
    // algorithm with it, the GEMM runs plain and matmul_epilogue adds the bias and the activation instead.
    set_epilogue(lt_epilogue(layer_.p));
    aligned_ok_ = strides_aligned && pick(16, &aligned_);
    bool found = pick(static_cast<uint32_t>(dtype_size(dt_)), &unaligned_);
    if (!found && epilogue_ != CUBLASLT_EPILOGUE_DEFAULT) {
      set_epilogue(CUBLASLT_EPILOGUE_DEFAULT);
      aligned_ok_ = strides_aligned && pick(16, &aligned_);
      found = pick(static_cast<uint32_t>(dtype_size(dt_)), &unaligned_);
    }
    if (!found)
      throw Unsupported("matrix multiply '" + layer_.name() + "': cuBLASLt has no algorithm for m=" +
                        std::to_string(rows_) + " n=" + std::to_string(n) + " k=" + std::to_string(k) + " (" +
                        dtype_name(dt_) + ")");
    // What the cuBLASLt epilogue does not cover runs in matmul_epilogue after the GEMM.
    post_bias_ = !layer_.p.bias.empty() && epilogue_ == CUBLASLT_EPILOGUE_DEFAULT;
    post_act_ = layer_.p.has_activation && epilogue_ != CUBLASLT_EPILOGUE_RELU &&
                epilogue_ != CUBLASLT_EPILOGUE_RELU_BIAS && epilogue_ != CUBLASLT_EPILOGUE_GELU &&
                epilogue_ != CUBLASLT_EPILOGUE_GELU_BIAS;
    name_ = base_name_ + (post_bias_ || post_act_ ? "+epilogue_kernel" : "");
    split_name_ = base_name_ + "+splitk" + std::to_string(split_) + (post_bias_ || post_act_ ? "+epilogue_kernel" : "");
    ran_split_ = split_ > 1 && aligned_ok_;  // until a run says otherwise: what aligned operands run
    ran_own_ = own_ >= 0;
  }
  size_t workspace_size() const override { return k_zero_ ? 0 : ws_; }
  void set_workspace_limit(size_t bytes) override { ws_ = std::min(kLtWorkspace, bytes); }
  void run(const KernelArgs& a) override {
    cudaStream_t s = stream_of(a);
    const size_t es = dtype_size(dt_);
    auto* A = static_cast<const uint8_t*>(a.in[0].data);
    auto* B = static_cast<const uint8_t*>(a.in[1].data);
    auto* C = static_cast<uint8_t*>(a.out[0].data);
    auto* Z = residual_ ? static_cast<const uint8_t*>(a.in[2].data) : nullptr;
    const int64_t total = a.out[0].numel();
    if (k_zero_) {  // an empty sum (cuBLASLt refuses k = 0): zeros, or act(bias + z)
      if (!layer_.p.bias.empty() || Z || layer_.p.has_activation)
        post_ops(C, Z, /*product=*/false, /*bias=*/true, layer_.p.has_activation, total, s);
      else
        T2T_CUDA_CHECK(cudaMemsetAsync(C, 0, static_cast<size_t>(total) * es, s));
      return;
    }
    if (!desc_) return;
    if (own_ >= 0) {
      GemmMmaArgs g;
      g.a = A, g.b = B, g.y = C, g.z = Z, g.bias = bias_.get(), g.bias_float = false, g.b_nk = g_.trans1;
      g.m = rows_, g.n = n_, g.k = g_.k;
      g.has_act = layer_.p.has_activation, g.act = layer_.p.activation;
      ran_own_ = gemm_mma_aligned(g);
      if (ran_own_) return launch_gemm_mma(dt_, own_, g, s);
    }
    // z enters as cuBLASLt's C matrix: D = A x B + 1 * z (C and D share one layout, z being dense like y).
    const float one = 1.f, zero = 0.f;
    const float* beta = Z ? &one : &zero;
    cublasLtHandle_t h = cublaslt_handle();
    for (int64_t o = 0; o < outer_count_; ++o) {
      int64_t off[3];
      outer_.get(o, off);
      const void* pa = A + off[0] * es;
      const void* pb = B + off[1] * es;
      void* pd = C + off[2] * es;
      const void* pc = Z ? static_cast<const void*>(Z + off[2] * es) : pd;
      bool aligned = aligned_ok_ && ((reinterpret_cast<uintptr_t>(pa) | reinterpret_cast<uintptr_t>(pb) |
                                      reinterpret_cast<uintptr_t>(pc) | reinterpret_cast<uintptr_t>(pd)) % 16 == 0);
      const cublasLtMatmulAlgo_t* algo = aligned ? &aligned_ : &unaligned_;
      ran_split_ = aligned && split_ > 1;
      T2T_CUBLAS_CHECK(cublasLtMatmul(h, desc_->d, &one, pb, a_.d, pa, b_.d, beta, pc, c_.d, pd, c_.d, algo,
                                      ws_ ? a.workspace : nullptr, ws_, s));
    }
    if (post_bias_ || post_act_) post_ops(C, nullptr, /*product=*/true, post_bias_, post_act_, total, s);
  }
  const char* impl_name() const override {
    return ran_own_ ? own_name_.c_str() : ran_split_ ? split_name_.c_str() : name_.c_str();
  }
  // Tactics: the cuBLASLt heuristic's top answers for 16-byte aligned operands, by rank (0: its choice),
  // each also with the reduction split where the algorithm allows (see pick). Listed only when asked (the
  // builder): a context only checks the one tactic it runs. Then the own kernel's tile configurations.
  std::vector<int64_t> tactics() const override {
    std::vector<int64_t> t;
    if (!aligned_ok_) return t;
    for (int rank = 0; rank < heuristic_count_; ++rank)
      for (int s = 0; s < kSplitCount; ++s) {
        cublasLtMatmulAlgo_t a = heuristic_[rank];
        if (s == 0 || split_k(&a, kSplits[s])) t.push_back(rank + kTop * s);
      }
    if (mma_fits_)
      for (int c = 0; c < kGemmMmaConfigs; ++c) t.push_back(kOwnGemm + c);
    return t;
  }
  void set_tactic(int64_t id) override { tactic_ = id; }
  std::string tactic_key() const override {
    // "v3": the tactics include split reductions and the own kernel; entries timed before are not reused.
    return std::string("matmul v3 ") + dtype_name(dt_) + " m" + std::to_string(rows_) + " n" + std::to_string(n_) +
           " k" + std::to_string(g_.k) + " b" + std::to_string(inner_batch_) + (g_.trans0 ? " tA" : "") +
           (g_.trans1 ? " tB" : "") + " ep" + std::to_string(static_cast<int>(epilogue_)) + (residual_ ? " z" : "") + (mma_fits_ ? " mma" : "");
  }

 private:
  // Sets the cuBLASLt epilogue (and its bias pointer) on the matmul descriptor.
  void set_epilogue(cublasLtEpilogue_t e) {
    epilogue_ = e;
    T2T_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc_->d, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof(e)));
    if (e == CUBLASLT_EPILOGUE_DEFAULT || e == CUBLASLT_EPILOGUE_RELU || e == CUBLASLT_EPILOGUE_GELU) return;
    // The bias is one value per row of cuBLASLt's column-major D, which is n x rows: one per column of our
    // row-major output, as the layer defines it. Its type is left at the default, D's type (the
    // documented rule for float, half and bfloat16 outputs), and every batch entry reads the same vector
    // (CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE defaults to 0).
    const void* bias = bias_.get();
    T2T_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(desc_->d, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  }

  // The bias in the output type, as cuBLASLt's epilogue reads it (matmul_epilogue reads the same buffer).
  void upload_bias() { bias_.upload_as(layer_.p.bias.to_float(), dt_); }

  // y = act((product ? y : 0) + bias + z) over the whole output, in place.
  void post_ops(uint8_t* y, const uint8_t* z, bool product, bool with_bias, bool with_act, int64_t total,
                cudaStream_t s) {
    if (total <= 0) return;
    EpilogueOps e;
    e.product = product;
    e.has_act = with_act;
    e.act = layer_.p.activation;
    const int64_t n = std::max<int64_t>(n_, 1);
    dispatch_float(dt_, [&](auto tag) {
      using T = decltype(tag);
      const T* bias = with_bias && bias_.get() ? bias_.as<T>() : nullptr;
      // Rows of n columns: 16-byte vectors where n and the pointers allow (the FFN's GELU after its GEMM).
      if (launch_epilogue_vec<T, T>(reinterpret_cast<T*>(y), bias, reinterpret_cast<const T*>(z), e, total, n, s))
        return;
      matmul_epilogue<T><<<grid_1d(total), kBlock, 0, s>>>(reinterpret_cast<T*>(y), bias,
                                                           reinterpret_cast<const T*>(z), e, total, n);
      check_launch("matmul_epilogue");
    });
  }

  // The heuristic's algorithm for this alignment: its first answer, or for 16-byte alignment the tactic
  // the builder chose (`tactic_`; one these shapes do not allow: the first answer). Aligned operands keep
  // the heuristic's top answers (heuristic_) for tactics(): each as given and, where the algorithm can split
  // the reduction, with k split in 2, 4 or 8 parts summed in float32 in the workspace. Few output tiles
  // (BERT's 128-row GEMMs at batch 1 fill a fraction of the SMs) leave the heuristic's unsplit choice
  // reading the weights with a few blocks.
  bool pick(uint32_t alignment, cublasLtMatmulAlgo_t* algo) {
    Preference pref;
    size_t ws = ws_;
    T2T_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.d, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
    for (auto attr : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
      T2T_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.d, attr, &alignment, sizeof(alignment)));
    cublasLtMatmulHeuristicResult_t result[kTop] = {};
    int found = 0;
    cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(cublaslt_handle(), desc_->d, a_.d, b_.d, c_.d, c_.d, pref.d,
                                                       alignment == 16 ? kTop : 1, result, &found);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0) return false;
    *algo = result[0].algo;
    if (alignment != 16) return true;
    split_ = 0;
    heuristic_count_ = found;
    for (int rank = 0; rank < found; ++rank) heuristic_[rank] = result[rank].algo;
    if (tactic_ <= 0 || tactic_ >= kOwnGemm) return true;  // the own kernel's fallback: the heuristic's choice
    const int rank = static_cast<int>(tactic_ % kTop), s = static_cast<int>(tactic_ / kTop);
    if (rank >= found || s >= kSplitCount) return true;
    cublasLtMatmulAlgo_t chosen = result[rank].algo;
    if (s > 0 && !split_k(&chosen, kSplits[s])) return true;
    *algo = chosen;
    split_ = s > 0 ? kSplits[s] : 0;
    return true;
  }

  // Sets `algo` to sum k in `parts` slices (partial products in float32, the compute type, reduced in the
  // workspace): true when the algorithm supports it for these operands within the workspace.
  bool split_k(cublasLtMatmulAlgo_t* algo, int32_t parts) const {
    int32_t support = 0;
    uint32_t schemes = 0;
    size_t written = 0;
    if (cublasLtMatmulAlgoCapGetAttribute(algo, CUBLASLT_ALGO_CAP_SPLITK_SUPPORT, &support, sizeof(support),
                                          &written) != CUBLAS_STATUS_SUCCESS || !support)
      return false;
    if (cublasLtMatmulAlgoCapGetAttribute(algo, CUBLASLT_ALGO_CAP_REDUCTION_SCHEME_MASK, &schemes, sizeof(schemes),
                                          &written) != CUBLAS_STATUS_SUCCESS ||
        !(schemes & CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE))
      return false;  // the in-place and output-type schemes add the partial sums in half precision
    if (static_cast<int64_t>(parts) > g_.k / 16) return false;  // slices of fewer than 16 terms: no gain
    uint32_t scheme = CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
    if (cublasLtMatmulAlgoConfigSetAttribute(algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &parts, sizeof(parts)) !=
            CUBLAS_STATUS_SUCCESS ||
        cublasLtMatmulAlgoConfigSetAttribute(algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, &scheme, sizeof(scheme)) !=
            CUBLAS_STATUS_SUCCESS)
      return false;
    cublasLtMatmulHeuristicResult_t check = {};
    return cublasLtMatmulAlgoCheck(cublaslt_handle(), desc_->d, a_.d, b_.d, c_.d, c_.d, algo, &check) ==
               CUBLAS_STATUS_SUCCESS &&
           check.workspaceSize <= ws_;
  }

  // Tactic ids (stored in engine files and timing caches): the heuristic's rank + kTop * the index of
  // the split in kSplits (0: the algorithm as the heuristic gave it).
  static constexpr int kTop = 8;
  static constexpr int kSplitCount = 4;
  static constexpr int32_t kSplits[kSplitCount] = {1, 2, 4, 8};
  // Tactic ids kOwnGemm + c: the own kernel (gemm_mma) in tile configuration c.
  static constexpr int64_t kOwnGemm = int64_t(1) << 20;

  MatrixMultiplyLayer layer_;
  DataType dt_;
  bool residual_;                // input 2 (z) is present
  MatrixMultiplyGeometry g_;
  int64_t n_ = 1;                // output columns
  DeviceBuffer bias_;            // the bias in dt_, when there is one
  cublasLtEpilogue_t epilogue_ = CUBLASLT_EPILOGUE_DEFAULT;
  bool post_bias_ = false, post_act_ = false;  // left to matmul_epilogue after the GEMM
  std::string base_name_, name_;  // impl_name(): the epilogue's parts, "+epilogue_kernel" when one runs
  std::string split_name_;        // ... with "+splitkN" when the split algorithm ran
  bool ran_split_ = false;        // the last run (or, before one, aligned operands) used the split algorithm
  int64_t rows_ = 0;             // m, or batch * m when the batch is folded into the rows
  int64_t inner_batch_ = 1;      // cuBLASLt's batch count
  int64_t inner_stride_[3] = {}; // its strides for A, B, C (elements)
  OffsetCalc<3> outer_;          // offsets of the outer batch entries (one call each)
  int64_t outer_count_ = 1;
  bool k_zero_ = false;
  std::unique_ptr<MatmulDesc> desc_;
  Layout a_, b_, c_;
  cublasLtMatmulAlgo_t aligned_{}, unaligned_{};
  cublasLtMatmulAlgo_t heuristic_[kTop] = {};  // the heuristic's top answers for aligned operands (see pick)
  int heuristic_count_ = 0;
  int64_t tactic_ = -1;      // the builder's choice among them (-1: the first)
  int32_t split_ = 0;        // k split in this many parts by the aligned algorithm (0: as the heuristic gave it)
  size_t ws_ = kLtWorkspace; // scratch cuBLASLt may use: kLtWorkspace or the engine's lower limit
  bool aligned_ok_ = false;
  bool mma_fits_ = false;   // the own kernel can run these shapes (gemm_mma_fits)
  int own_ = -1;            // its configuration when the builder chose it (-1: cuBLASLt)
  bool ran_own_ = false;    // the last run (or, before one, the plan) used it; misaligned pointers use cuBLASLt
  std::string own_name_;    // impl_name() then: "gemm_mma_64x64+bias+GELU_ERF"
};

}  // namespace

std::unique_ptr<Kernel> make_MatrixMultiply(const MatrixMultiplyLayer& l, const std::vector<TensorDesc>& in,
                                            const std::vector<TensorDesc>&, std::string* why) {
  for (const TensorDesc& d : in)
    if (!is_float_type(d.dtype)) return unsupported(why, "MatrixMultiply on " + dt(d.dtype));
  return std::make_unique<MatmulKernel>(l, in[0].dtype, in.size() > 2);
}

}  // namespace torch2trt::gpu
