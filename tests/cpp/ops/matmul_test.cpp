#include <gtest/gtest.h>

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
