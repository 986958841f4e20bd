#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cpu_paths.h"

namespace t2t_test {
namespace {

using Op = MatrixOperation;

struct MatmulSpec {
  std::string name;
  std::vector<int64_t> a, b;  // input shapes as stored
  Op op0 = Op::kNONE, op1 = Op::kNONE;
};

// float64 reference: reads each operand through its operation, broadcasting batch dimensions.
HostTensor ref_matmul(const MatmulSpec& s, const HostTensor& a, const HostTensor& b) {
  bool v0 = s.op0 == Op::kVECTOR, v1 = s.op1 == Op::kVECTOR;
  int nb = static_cast<int>(s.a.size()) - (v0 ? 1 : 2);
  const int64_t* ad = s.a.data() + nb;
  const int64_t* bd = s.b.data() + nb;
  int64_t m = v0 ? 1 : (s.op0 == Op::kTRANSPOSE ? ad[1] : ad[0]);
  int64_t k = v0 ? ad[0] : (s.op0 == Op::kTRANSPOSE ? ad[0] : ad[1]);
  int64_t n = v1 ? 1 : (s.op1 == Op::kTRANSPOSE ? bd[0] : bd[1]);
  std::vector<int64_t> batch;
  for (int i = 0; i < nb; ++i) batch.push_back(std::max(s.a[i], s.b[i]));
  std::vector<int64_t> od = batch;
  if (!v0) od.push_back(m);
  if (!v1) od.push_back(n);
  HostTensor y;
  y.dtype = a.dtype;
  y.dims = Dims::from(od);
  int64_t nbatch = 1;
  for (auto x : batch) nbatch *= x;
  y.v.resize(static_cast<size_t>(nbatch * m * n));
  for (int64_t bi = 0; bi < nbatch; ++bi) {
    // Offsets of this batch in each operand (extent-1 dimensions repeat).
    int64_t r = bi, oa = 0, ob = 0, sa = m * k, sb = k * n;
    for (int i = nb - 1; i >= 0; --i) {
      int64_t c = r % batch[i];
      r /= batch[i];
      oa += (s.a[i] == 1 ? 0 : c) * sa;
      ob += (s.b[i] == 1 ? 0 : c) * sb;
      sa *= s.a[i];
      sb *= s.b[i];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          double av = s.op0 == Op::kTRANSPOSE ? a.v[oa + kk * m + i] : a.v[oa + i * k + kk];
          double bv = s.op1 == Op::kTRANSPOSE ? b.v[ob + j * k + kk] : b.v[ob + kk * n + j];
          acc += av * bv;
        }
        y.v[(bi * m + i) * n + j] = acc;
      }
  }
  return y;
}

void run_case(const MatmulSpec& s, DataType dt) {
  OpCase c;
  c.variant = s.name + "_" + dtype_name(dt);
  c.inputs = {{dt, Dims::from(s.a)}, {dt, Dims::from(s.b)}};
  c.build = [s](Network& n, const std::vector<Tensor*>& in) {
    return std::vector<Tensor*>{add_matrix_multiply(n, in[0], s.op0, in[1], s.op1)->output(0)};
  };
  c.reference = [s](const std::vector<HostTensor>& in) { return std::vector<HostTensor>{ref_matmul(s, in[0], in[1])}; };
  check_op_all_paths(LayerKind::kMatrixMultiply, c);
}

std::vector<MatmulSpec> specs() {
  return {
      {"2d", {7, 5}, {5, 9}},
      {"2d_transpose0", {5, 7}, {5, 9}, Op::kTRANSPOSE},
      {"2d_transpose1", {7, 5}, {9, 5}, Op::kNONE, Op::kTRANSPOSE},
      {"2d_transpose_both", {5, 7}, {9, 5}, Op::kTRANSPOSE, Op::kTRANSPOSE},
      {"batched3d", {4, 6, 8}, {4, 8, 3}},
      {"broadcast_b", {2, 3, 6, 5}, {1, 1, 5, 4}},
      {"broadcast_a", {1, 6, 5}, {3, 5, 4}},
      {"broadcast_both", {2, 1, 6, 5}, {1, 3, 5, 4}},
      {"broadcast_transposes", {3, 1, 5, 6}, {1, 2, 4, 5}, Op::kTRANSPOSE, Op::kTRANSPOSE},
      {"vector0", {3, 7}, {3, 7, 4}, Op::kVECTOR, Op::kNONE},
      {"vector1", {3, 6, 7}, {3, 7}, Op::kNONE, Op::kVECTOR},
      {"vector1_transpose0", {2, 7, 6}, {1, 7}, Op::kTRANSPOSE, Op::kVECTOR},
      {"vector_both", {4, 9}, {4, 9}, Op::kVECTOR, Op::kVECTOR},
      {"vector_1d", {9}, {9, 5}, Op::kVECTOR, Op::kNONE},
      {"linear_like", {2, 8, 16}, {1, 12, 16}, Op::kNONE, Op::kTRANSPOSE},
      {"large_k", {3, 257}, {257, 33}},
  };
}

TEST(MatrixMultiply, MatchesReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    for (auto& s : specs()) run_case(s, dt);
  run_case(specs()[7], DataType::kBF16);
}

// ---- the fused epilogue, y = act(op0(A) x op1(B) + bias + z), as fuse_matmul_epilogue leaves it ----

using A = ActivationType;

struct Epilogue {
  std::string name;
  bool bias = false, residual = false, has_act = false;
  ActivationParams act;
};

// float64 references of the activations the epilogue cases use.
double act_ref(double v, const ActivationParams& a) {
  switch (a.type) {
    case A::kRELU: return v < 0 ? 0.0 : v;  // NaN stays NaN
    case A::kSIGMOID: return 1.0 / (1.0 + std::exp(-v));
    case A::kLEAKY_RELU: return v >= 0 ? v : a.alpha * v;
    case A::kCLIP: return std::min<double>(std::max<double>(v, a.alpha), a.beta);
    case A::kGELU_ERF: return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    case A::kGELU_TANH: return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
    case A::kSILU: return v / (1.0 + std::exp(-v));
    default: return std::nan("");
  }
}

// The output's dims for a spec (what the layer's shape rule must give).
Dims out_dims(const MatmulSpec& s) {
  HostTensor a, b;
  a.dims = Dims::from(s.a);
  b.dims = Dims::from(s.b);
  a.v.assign(a.numel(), 0.0);
  b.v.assign(b.numel(), 0.0);
  return ref_matmul(s, a, b).dims;
}

// Adds a matrix multiply carrying an epilogue (the builder's pass is the only producer of such layers).
MatrixMultiplyLayer* add_fused(Network& n, Tensor* a, Op op0, Tensor* b, Op op1, const Weights& bias, Tensor* z,
                               bool has_act, ActivationParams act) {
  auto l = std::make_unique<MatrixMultiplyLayer>();
  l->p.op0 = op0;
  l->p.op1 = op1;
  l->p.bias = bias;
  l->p.has_activation = has_act;
  l->p.activation = act;
  std::vector<Tensor*> in{a, b};
  if (z) in.push_back(z);
  return n.add(std::move(l), in, "add_matrix_multiply");
}

void run_fused_case(const MatmulSpec& s, const Epilogue& e, DataType dt, std::vector<std::vector<double>> fixed = {},
                    bool misalign = false, int64_t cuda_tactic = -1, const std::string& cuda_kernel = "") {
  const Dims od = out_dims(s);
  const int64_t n = od.d[od.nb_dims - 1];
  std::vector<float> bias;
  if (e.bias)
    for (double v : random_values(n, DataType::kFLOAT, -1, 1)) bias.push_back(static_cast<float>(v));
  OpCase c;
  c.variant = s.name + "_" + e.name + "_" + dtype_name(dt);
  c.inputs = {{dt, Dims::from(s.a)}, {dt, Dims::from(s.b)}};
  if (e.residual) c.inputs.push_back({dt, od});
  c.fixed = std::move(fixed);
  c.misalign = misalign;
  if (misalign) c.variant += "_misaligned";
  c.cuda_tactic = cuda_tactic;
  c.cuda_kernel = cuda_kernel;
  if (cuda_tactic >= 0) c.variant += "_tactic" + std::to_string(cuda_tactic);
  c.build = [s, e, bias](Network& net, const std::vector<Tensor*>& in) {
    Weights w = bias.empty() ? Weights() : Weights::f32(bias);
    auto* l = add_fused(net, in[0], s.op0, in[1], s.op1, w, e.residual ? in[2] : nullptr, e.has_act, e.act);
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [s, e, bias, n](const std::vector<HostTensor>& in) {
    HostTensor y = ref_matmul(s, in[0], in[1]);
    for (size_t i = 0; i < y.v.size(); ++i) {
      double v = y.v[i];
      if (!bias.empty()) v += bias[i % n];
      if (e.residual) v += in[2].v[i];
      y.v[i] = e.has_act ? act_ref(v, e.act) : v;
    }
    return std::vector<HostTensor>{y};
  };
  check_op_all_paths(LayerKind::kMatrixMultiply, c);
}

std::vector<Epilogue> epilogues() {
  return {
      {"bias", true, false, false, {}},
      {"residual", false, true, false, {}},
      {"bias_residual", true, true, false, {}},
      {"relu", false, false, true, {A::kRELU, 0, 0}},
      {"bias_relu", true, false, true, {A::kRELU, 0, 0}},
      {"bias_residual_relu", true, true, true, {A::kRELU, 0, 0}},
      {"bias_gelu_erf", true, false, true, {A::kGELU_ERF, 0, 0}},
      {"bias_residual_gelu_erf", true, true, true, {A::kGELU_ERF, 0, 0}},
      {"gelu_tanh", false, false, true, {A::kGELU_TANH, 0, 0}},
      {"bias_gelu_tanh", true, false, true, {A::kGELU_TANH, 0, 0}},
      {"bias_residual_gelu_tanh", true, true, true, {A::kGELU_TANH, 0, 0}},
      {"sigmoid", false, false, true, {A::kSIGMOID, 0, 0}},
      {"bias_residual_sigmoid", true, true, true, {A::kSIGMOID, 0, 0}},
      {"bias_leaky_relu", true, false, true, {A::kLEAKY_RELU, 0.1f, 0}},
      {"residual_clip", false, true, true, {A::kCLIP, -0.5f, 0.7f}},
  };
}

std::vector<MatmulSpec> fused_specs() {
  return {
      {"2d", {7, 5}, {5, 9}},
      {"2d_transpose0", {5, 7}, {5, 9}, Op::kTRANSPOSE},
      {"2d_transpose_both", {5, 7}, {9, 5}, Op::kTRANSPOSE, Op::kTRANSPOSE},
      {"linear_like", {2, 8, 16}, {1, 12, 16}, Op::kNONE, Op::kTRANSPOSE},  // the batch folds into the rows
      {"batched3d", {4, 6, 8}, {4, 8, 3}},
      {"broadcast_both", {2, 1, 6, 5}, {1, 3, 5, 4}},
      {"large_k", {3, 257}, {257, 33}},
  };
}

TEST(MatrixMultiplyEpilogue, MatchesReference) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16})
    for (const MatmulSpec& s : fused_specs())
      for (const Epilogue& e : epilogues()) run_fused_case(s, e, dt);
}

// An empty reduction (k = 0): the product is zero, the output act(bias + z).
TEST(MatrixMultiplyEpilogue, EmptyReduction) {
  MatmulSpec s{"k0", {3, 0}, {0, 4}};
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF})
    for (const Epilogue& e : epilogues()) run_fused_case(s, e, dt);
}

// On CUDA, n = 24 runs the epilogue kernel in 16-byte vectors (8 halves, 4 floats), n = 20 in vectors of 4
// floats and scalar halves, and buffers one element past an aligned address run it scalar. After a GEMM the
// kernel applies GELU-erf (cuBLASLt adds the bias); with k = 0 it adds the bias and the residual too.
TEST(MatrixMultiplyEpilogue, VectorWidths) {
  const Epilogue gelu{"bias_gelu_erf", true, false, true, {A::kGELU_ERF, 0, 0}};
  const Epilogue gelu_res{"bias_residual_gelu_erf", true, true, true, {A::kGELU_ERF, 0, 0}};
  const MatmulSpec specs[] = {{"n24", {2, 5, 16}, {1, 16, 24}}, {"n20", {7, 12}, {12, 20}},
                              {"k0_n24", {3, 0}, {0, 24}}, {"k0_n20", {2, 0}, {0, 20}}};
  for (DataType dt : {DataType::kHALF, DataType::kFLOAT, DataType::kBF16})
    for (const MatmulSpec& s : specs) {
      run_fused_case(s, gelu, dt);
      run_fused_case(s, gelu_res, dt);
    }
  for (DataType dt : {DataType::kHALF, DataType::kFLOAT}) {
    run_fused_case(specs[0], gelu, dt, {}, true);
    run_fused_case(specs[2], gelu_res, dt, {}, true);
  }
}

// The tactics in [lo, hi) the kernel offers for this product on `be`: split reductions (ids rank + 8 * i: k
// in 2, 4, 8 parts, lo = 8, hi = 32) or the own GEMM's configurations (ids 2^20 + c).
std::vector<int64_t> offered_tactics(Backend& be, const MatmulSpec& s, const Epilogue& e, DataType dt, int64_t lo,
                                     int64_t hi) {
  Network net;
  Tensor* a = net.add_input("a", dt, Dims::from(s.a));
  Tensor* b = net.add_input("b", dt, Dims::from(s.b));
  Tensor* z = e.residual ? net.add_input("z", dt, out_dims(s)) : nullptr;
  const Dims od = out_dims(s);
  std::vector<float> bias(static_cast<size_t>(od.d[od.nb_dims - 1]), 0.5f);
  auto* l = add_fused(net, a, s.op0, b, s.op1, e.bias ? Weights::f32(bias) : Weights(), z, e.has_act, e.act);
  std::vector<TensorDesc> in = l->input_descs(), out = {l->output(0)->desc()};
  std::unique_ptr<Kernel> k = be.make_kernel(*l, in, out);
  k->reshape(in, out);
  std::vector<int64_t> picked;
  for (int64_t t : k->tactics())
    if (t >= lo && t < hi) picked.push_back(t);
  return picked;
}

// On CUDA, tactics rank + 8 * i split the reduction of the heuristic's rank-th algorithm in 2, 4, 8 parts
// (partial sums in float32, reduced in the workspace) where cuBLASLt allows it: few output tiles and a long
// k, as in BERT's projections at batch 1. Every split it offers must give the product with the whole
// epilogue, and the kernel's name must say the split ran.
TEST(MatrixMultiplyEpilogue, SplitReduction) {
  std::string why;
  Backend* be = cuda_backend(0, &why);
  if (!be) GTEST_SKIP() << why;
  const MatmulSpec s{"m64_k1024_n256", {64, 1024}, {1024, 256}};
  const Epilogue epilogues[] = {{"bias_residual", true, true, false, {}},
                                {"bias_gelu_erf", true, false, true, {A::kGELU_ERF, 0, 0}}};
  int offered = 0;
  for (DataType dt : {DataType::kHALF, DataType::kBF16, DataType::kFLOAT})
    for (const Epilogue& e : epilogues)
      for (int64_t t : offered_tactics(*be, s, e, dt, 8, 32)) {
        ++offered;
        run_fused_case(s, e, dt, {}, false, t, "+splitk" + std::to_string(1 << (t / 8)));
      }
  if (offered == 0) GTEST_SKIP() << "cuBLASLt offers no split reduction for these shapes on " << be->device_description();
}

// On CUDA (compute capability 8.0+), float16/bfloat16 GEMMs with k and n multiples of 8 offer the own
// tensor-core kernel (gemm_mma) with the whole epilogue inside, in several tile configurations. Each must
// give the product: B as (n, k) (a Linear weight) and as (k, n), tails of every tile dimension (m = 37,
// n = 72, k = 40), one row, a batch folded into the rows, the epilogues BERT and EfficientNet fuse, ReLU
// and an activation without its own compile-time epilogue.
// Misaligned operands fall back to cuBLASLt.
TEST(MatrixMultiplyEpilogue, OwnGemm) {
  std::string why;
  Backend* be = cuda_backend(0, &why);
  if (!be) GTEST_SKIP() << why;
  const MatmulSpec specs[] = {{"nk_m37_k40_n72", {37, 40}, {72, 40}, Op::kNONE, Op::kTRANSPOSE},
                              {"kn_m37_k40_n72", {37, 40}, {40, 72}},
                              {"row_k64_n16", {1, 64}, {16, 64}, Op::kNONE, Op::kTRANSPOSE},
                              {"folded_2x64_k256_n136", {2, 64, 256}, {1, 136, 256}, Op::kNONE, Op::kTRANSPOSE}};
  const Epilogue plain{"plain", false, false, false, {}};
  const Epilogue gelu{"bias_gelu_erf", true, false, true, {A::kGELU_ERF, 0, 0}};
  const Epilogue silu_res{"bias_residual_silu", true, true, true, {A::kSILU, 0, 0}};
  const Epilogue relu{"residual_relu", false, true, true, {A::kRELU, 0, 0}};
  // No compile-time copy of the epilogue for this one: the out-of-line activation.
  const Epilogue leaky{"bias_leaky_relu", true, false, true, {A::kLEAKY_RELU, 0.1f, 0}};
  const int64_t own = int64_t(1) << 20;
  int offered = 0;
  for (DataType dt : {DataType::kHALF, DataType::kBF16})
    for (const MatmulSpec& s : specs)
      for (const Epilogue* e : {&plain, &gelu, &silu_res, &relu, &leaky})
        for (int64_t t : offered_tactics(*be, s, *e, dt, own, own + 64)) {
          ++offered;
          run_fused_case(s, *e, dt, {}, false, t, "gemm_mma");
        }
  if (offered == 0) GTEST_SKIP() << "no own GEMM on " << be->device_description();
  EXPECT_EQ(offered, 2 * 4 * 5 * 8) << "every case offers the 8 configurations (kGemmMmaConfigs)";
  run_fused_case(specs[0], gelu, DataType::kHALF, {}, /*misalign=*/true, own, "cublaslt");
  // float32 and a k that is not a multiple of 8 have no own kernel.
  EXPECT_TRUE(offered_tactics(*be, specs[0], gelu, DataType::kFLOAT, own, own + 64).empty());
  EXPECT_TRUE(offered_tactics(*be, {"k12", {8, 12}, {16, 12}, Op::kNONE, Op::kTRANSPOSE}, gelu, DataType::kHALF,
                              own, own + 64).empty());
}

// torch.relu keeps NaN; so must the fused ReLU, whichever unit applies it (the NaN row of A makes a NaN row).
TEST(MatrixMultiplyEpilogue, ReluKeepsNan) {
  MatmulSpec s{"nan_row", {4, 6}, {6, 8}};
  std::vector<double> a = random_values(24, DataType::kFLOAT, -1, 1);
  a[7] = std::numeric_limits<double>::quiet_NaN();  // row 1
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF}) {
    run_fused_case(s, {"bias_relu", true, false, true, {A::kRELU, 0, 0}}, dt, {a, {}});
    run_fused_case(s, {"relu", false, false, true, {A::kRELU, 0, 0}}, dt, {a, {}});
  }
}

// Extents given at run time: the residual's shape is checked against the output's once both are known.
TEST(MatrixMultiplyEpilogue, RuntimeShapes) {
  for (bool ref : cpu_paths()) {
    ForceReference f(ref);
    Network net;
    Tensor* a = net.add_input("a", DataType::kFLOAT, Dims{-1, -1, 4});
    Tensor* b = net.add_input("b", DataType::kFLOAT, Dims{1, 4, 5});
    Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{-1, -1, 5});
    const std::vector<float> bias = {0.5f, -0.25f, 1.f, 0.f, -1.f};
    auto* l = add_fused(net, a, Op::kNONE, b, Op::kNONE, Weights::f32(bias), z, true, {A::kRELU, 0, 0});
    EXPECT_EQ(l->output(0)->dims(), (Dims{-1, -1, 5}));
    l->output(0)->set_name("y");
    net.mark_output(l->output(0));
    auto bytes = Builder().build_serialized(net, BuilderConfig());
    auto engine = Engine::deserialize(bytes.data(), bytes.size());
    auto ctx = engine->create_execution_context();
    std::vector<float> fb(20);
    for (size_t i = 0; i < fb.size(); ++i) fb[i] = static_cast<float>(random_values(1, DataType::kFLOAT, -1, 1)[0]);
    for (auto lead : std::vector<std::pair<int64_t, int64_t>>{{2, 3}, {3, 7}}) {
      MatmulSpec s{"dyn", {lead.first, lead.second, 4}, {1, 4, 5}};
      HostTensor ha, hb;
      ha.dims = Dims::from(s.a);
      hb.dims = Dims::from(s.b);
      ha.v = random_values(ha.numel(), DataType::kFLOAT, -1, 1);
      hb.v.assign(fb.begin(), fb.end());
      HostTensor want = ref_matmul(s, ha, hb);
      std::vector<double> zv = random_values(want.numel(), DataType::kFLOAT, -1, 1);
      for (size_t i = 0; i < want.v.size(); ++i) want.v[i] = std::max(0.0, want.v[i] + bias[i % 5] + zv[i]);
      ctx->set_input_shape("a", ha.dims);
      ctx->set_input_shape("b", hb.dims);
      ctx->set_input_shape("z", want.dims);
      ASSERT_EQ(ctx->tensor_shape("y"), want.dims);
      std::vector<float> fa(ha.v.begin(), ha.v.end()), fz(zv.begin(), zv.end()), y(static_cast<size_t>(want.numel()));
      ctx->set_tensor_address("a", fa.data());
      ctx->set_tensor_address("b", fb.data());
      ctx->set_tensor_address("z", fz.data());
      ctx->set_tensor_address("y", y.data());
      ctx->enqueue(nullptr);
      for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want.v[i], 1e-5) << i;
    }
    // A residual whose run-time shape is not the output's is refused, naming it.
    ctx->set_input_shape("a", Dims{2, 3, 4});
    try {
      ctx->set_input_shape("z", Dims{2, 1, 5});
      ctx->tensor_shape("y");
      ADD_FAILURE() << "a residual of another shape than the output must be refused";
    } catch (const RuntimeFailure& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("residual"), std::string::npos) << m;
      EXPECT_NE(m.find("(2, 3, 5)"), std::string::npos) << m;
    }
  }
}

TEST(MatrixMultiplyEpilogue, ImplementationNamesTheEpilogue) {
  Network net;
  Tensor* a = net.add_input("a", DataType::kFLOAT, Dims{4, 6});
  Tensor* b = net.add_input("b", DataType::kFLOAT, Dims{6, 3});
  Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{4, 3});
  auto* l = add_fused(net, a, Op::kNONE, b, Op::kNONE, Weights::f32({1, 2, 3}), z, true, {A::kGELU_ERF, 0, 0});
  l->output(0)->set_name("y");
  net.mark_output(l->output(0));
  std::string impl = cpu_impl_of(net, 0);
  EXPECT_NE(impl.find("matmul+bias+residual+GELU_ERF"), std::string::npos) << impl;
}

TEST(MatrixMultiplyEpilogue, ErrorsNameTheArgument) {
  Network n;
  Tensor* a = n.add_input("a", DataType::kFLOAT, Dims{2, 3, 4});
  Tensor* b = n.add_input("b", DataType::kFLOAT, Dims{2, 4, 6});
  Tensor* z = n.add_input("z", DataType::kFLOAT, Dims{2, 3, 6});
  Tensor* zbad = n.add_input("zbad", DataType::kFLOAT, Dims{2, 1, 6});
  Tensor* zhalf = n.add_input("zhalf", DataType::kHALF, Dims{2, 3, 6});
  // A matmul of a and b with the given epilogue.
  auto fused = [&](const Weights& bias, Tensor* z, bool has_act, ActivationParams act) {
    return add_fused(n, a, Op::kNONE, b, Op::kNONE, bias, z, has_act, act);
  };
  const ActivationParams none{};
  expect_invalid([&] { fused(Weights::f32({1, 2, 3}), nullptr, false, none); },
                 {"bias", "N = 6", "(2, 3, 6)", "got 3"});
  int32_t ints[6] = {};
  expect_invalid([&] { fused(Weights(DataType::kINT32, ints, 6), nullptr, false, none); }, {"bias", "int32"});
  expect_invalid([&] { fused(Weights(), zbad, false, none); }, {"residual", "(2, 3, 6)", "(2, 1, 6)"});
  expect_invalid([&] { fused(Weights(), zhalf, false, none); }, {"residual", "float16", "float32"});
  expect_invalid([&] { fused(Weights(), nullptr, true, {static_cast<A>(99), 0, 0}); }, {"activation", "99"});
  expect_invalid([&] { fused(Weights(), nullptr, true, {A::kSOFTPLUS, 0, 20}); }, {"activation", "SOFTPLUS"});
  EXPECT_EQ(n.num_layers(), 0);
  // A valid fused layer: a rejected change of its residual is undone, as is one of op1 that changes N.
  auto* l = fused(Weights::f32({1, 2, 3, 4, 5, 6}), z, true, {A::kRELU, 0, 0});
  expect_invalid([&] { l->set_input(2, zbad); }, {"residual"});
  EXPECT_EQ(l->input(2), z);
  Tensor* b5 = n.add_input("b5", DataType::kFLOAT, Dims{2, 4, 5});
  expect_invalid([&] { l->set_input(1, b5); }, {"bias", "N = 5"});
  EXPECT_EQ(l->input(1), b);
  Tensor* extra = n.add_input("extra", DataType::kFLOAT, Dims{2, 3, 6});
  expect_invalid([&] { l->set_input(3, extra); }, {"inputs", "got 4"});
}

TEST(MatrixMultiply, ImplementationChoice) {
  for (bool ref : cpu_paths()) {
    ForceReference f(ref);
    for (auto& s : specs()) {
      Network net;
      Tensor* a = net.add_input("a", DataType::kFLOAT, Dims::from(s.a));
      Tensor* b = net.add_input("b", DataType::kFLOAT, Dims::from(s.b));
      auto* l = add_matrix_multiply(net, a, s.op0, b, s.op1);
      l->output(0)->set_name("y");
      net.mark_output(l->output(0));
      EXPECT_EQ(cpu_impl_of(net, 0), ref ? "ref_matmul" : "onednn_matmul") << s.name;
    }
  }
}

TEST(MatrixMultiply, RuntimeShapes) {
  MatmulSpec s{"dyn", {2, 3, 4}, {1, 4, 5}};
  for (bool ref : cpu_paths()) {
    ForceReference f(ref);
    Network net;
    Tensor* a = net.add_input("a", DataType::kFLOAT, Dims{-1, -1, 4});
    Tensor* b = net.add_input("b", DataType::kFLOAT, Dims{1, 4, -1});
    auto* l = add_matrix_multiply(net, a, Op::kNONE, b, Op::kNONE);
    EXPECT_EQ(l->output(0)->dims(), (Dims{-1, -1, -1}));
    l->output(0)->set_name("y");
    net.mark_output(l->output(0));
    auto bytes = Builder().build_serialized(net, BuilderConfig());
    auto engine = Engine::deserialize(bytes.data(), bytes.size());
    auto ctx = engine->create_execution_context();
    for (auto shapes : std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>{{{2, 3, 4}, {1, 4, 5}},
                                                                                         {{3, 7, 4}, {1, 4, 2}}}) {
      s.a = shapes.first;
      s.b = shapes.second;
      HostTensor ha, hb;
      ha.dims = Dims::from(s.a);
      hb.dims = Dims::from(s.b);
      ha.v = random_values(ha.numel(), DataType::kFLOAT, -1, 1);
      hb.v = random_values(hb.numel(), DataType::kFLOAT, -1, 1);
      HostTensor want = ref_matmul(s, ha, hb);
      ctx->set_input_shape("a", ha.dims);
      ctx->set_input_shape("b", hb.dims);
      ASSERT_EQ(ctx->tensor_shape("y"), want.dims);
      std::vector<float> fa(ha.v.begin(), ha.v.end()), fb(hb.v.begin(), hb.v.end()), y(static_cast<size_t>(want.numel()));
      ctx->set_tensor_address("a", fa.data());
      ctx->set_tensor_address("b", fb.data());
      ctx->set_tensor_address("y", y.data());
      ctx->enqueue(nullptr);
      for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want.v[i], 1e-5) << i;
    }
  }
}

TEST(MatrixMultiply, ErrorsNameTheArgument) {
  Network n;
  Tensor* a = n.add_input("a", DataType::kFLOAT, Dims{2, 3, 4});
  Tensor* b = n.add_input("b", DataType::kFLOAT, Dims{2, 5, 6});
  Tensor* b2 = n.add_input("b2", DataType::kFLOAT, Dims{4, 6});
  Tensor* b3 = n.add_input("b3", DataType::kFLOAT, Dims{3, 4, 6});
  Tensor* bi = n.add_input("bi", DataType::kINT32, Dims{2, 4, 6});
  Tensor* ai = n.add_input("ai", DataType::kINT32, Dims{2, 3, 4});
  Tensor* bh = n.add_input("bh", DataType::kHALF, Dims{2, 4, 6});
  expect_invalid([&] { add_matrix_multiply(n, a, Op::kNONE, b, Op::kNONE); }, {"input0/input1", "4", "5", "(2, 3, 4)", "(2, 5, 6)"});
  expect_invalid([&] { add_matrix_multiply(n, a, Op::kNONE, b2, Op::kNONE); }, {"input1", "batch dimensions", "(4, 6)"});
  expect_invalid([&] { add_matrix_multiply(n, a, Op::kNONE, b3, Op::kNONE); }, {"input0/input1", "broadcast", "2 vs 3"});
  expect_invalid([&] { add_matrix_multiply(n, ai, Op::kNONE, bi, Op::kNONE); }, {"input0", "int32"});
  expect_invalid([&] { add_matrix_multiply(n, a, Op::kNONE, bh, Op::kNONE); }, {"input1", "float16", "float32"});
  expect_invalid([&] { add_matrix_multiply(n, a, static_cast<Op>(5), b2, Op::kNONE); }, {"op0", "5"});
  Tensor* v = n.add_input("v", DataType::kFLOAT, Dims{4});
  expect_invalid([&] { add_matrix_multiply(n, v, Op::kNONE, b2, Op::kNONE); }, {"input0", "rank >= 2", "(4,)"});
  EXPECT_EQ(n.num_layers(), 0);
  // A rejected change of op1 is undone.
  Tensor* c = n.add_input("c", DataType::kFLOAT, Dims{2, 4, 6});
  auto* l = add_matrix_multiply(n, a, Op::kNONE, c, Op::kNONE);
  expect_invalid([&] {
    l->p.op1 = Op::kTRANSPOSE;
    l->changed([&] { l->p.op1 = Op::kNONE; });
  }, {"input0/input1"});
  EXPECT_EQ(l->p.op1, Op::kNONE);
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, 3, 6}));
}

}  // namespace
}  // namespace t2t_test
