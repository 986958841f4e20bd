// Folds the pointwise work that follows a MatrixMultiply into its epilogue, y = act(op0(A) x op1(B) + bias + z):
// an add of a constant that varies along the last axis only joins the bias (the bias of every Linear), an add
// of another tensor of the output's shape becomes the residual input z, and an activation becomes the fused
// activation (which comes last: nothing is absorbed after it). The GEMM then writes the output once instead
// of once per pointwise layer, and cuBLASLt applies most of the epilogue inside the GEMM.
//
// A second rule rides on the same walk: a per-column Scale (what an inference BatchNorm1d after a Linear
// converts to) folds into a constant B and the bias: (A x B + b) * s + t = A x (B * s) + (b * s + t).
#include "passes/epilogue.h"
#include "passes/pass.h"

namespace torch2trt {
namespace {

// Weights of dtype t (a float type) holding `v`.
Weights weights_of(DataType t, const std::vector<float>& v) {
  if (t == DataType::kFLOAT) return Weights::f32(v);
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = t == DataType::kHALF ? float_to_half(v[i]) : float_to_bf16(v[i]);
  return Weights(t, h.data(), static_cast<int64_t>(h.size()));
}

// The N per-column values (one value repeated when it is uniform) of a constant that, under the right-aligned
// broadcast rule, varies along y's last axis only and does not grow y: shape (1, .., 1, N), (N) or all ones.
std::vector<float> per_column_constant(const Tensor* c, const Tensor* y, int64_t n) {
  auto* prod = pattern::producer_as<ConstantLayer>(c, LayerKind::kConstant);
  if (!prod || !is_floating(prod->p.weights.dtype) || c->dims().nb_dims > y->dims().nb_dims) return {};
  const Dims& d = c->dims();
  for (int i = 0; i < d.nb_dims; ++i)
    if (d.d[i] != 1 && !(i == d.nb_dims - 1 && d.d[i] == n)) return {};
  std::vector<float> v = prod->p.weights.to_float();
  if (v.size() == 1) v.assign(static_cast<size_t>(n), v[0]);
  return static_cast<int64_t>(v.size()) == n ? v : std::vector<float>{};
}

bool power_is_one(const Weights& p) {
  for (int64_t i = 0; i < p.count; ++i)
    if (p.at(i) != 1.0) return false;
  return true;
}

// Value j of a scale weights array of 1 or n values (`dflt` when empty).
double per_column(const Weights& w, double dflt, int64_t j) {
  if (w.empty()) return dflt;
  return w.count == 1 ? w.at(0) : w.at(j);
}

// Folds the Scale `s` (the only reader of mm's output) into mm: scales the columns of the constant B and the
// bias. Only without a residual or an activation, which the scale would have to apply to as well, and only
// when the scale is per column (UNIFORM, or CHANNEL / ELEMENTWISE on the last axis) with power 1.
bool fold_scale(Network& net, MatrixMultiplyLayer* mm, ScaleLayer* s, pattern::Uses& uses) {
  Tensor* y = mm->output(0);
  const int last = y->dims().nb_dims - 1;
  const int64_t n = y->dims().d[last];
  if (mm->num_inputs() != 2 || mm->p.has_activation || n < 0 || !power_is_one(s->p.power)) return false;
  if (s->p.mode != ScaleMode::kUNIFORM && s->p.channel_axis != last) return false;
  for (const Weights* w : {&s->p.scale, &s->p.shift})
    if (!w->empty() && w->count != 1 && w->count != n) return false;
  Tensor* b = mm->input(1);
  auto* bc = pattern::producer_as<ConstantLayer>(b, LayerKind::kConstant);
  if (!bc || !is_floating(bc->p.weights.dtype)) return false;
  // B stored (.., K, N) has column j at element e % N; stored transposed (.., N, K) at (e / K) % N.
  const Dims& bd = b->dims();
  const int64_t k = mm->p.op1 == MatrixOperation::kTRANSPOSE ? bd.d[bd.nb_dims - 1] : bd.d[bd.nb_dims - 2];
  std::vector<float> w = bc->p.weights.to_float();
  for (size_t e = 0; e < w.size(); ++e) {
    const int64_t i = static_cast<int64_t>(e);
    const int64_t j = mm->p.op1 == MatrixOperation::kTRANSPOSE ? (i / k) % n : i % n;
    w[e] = static_cast<float>(w[e] * per_column(s->p.scale, 1.0, j));
  }
  std::vector<float> bias = mm->p.bias.empty() ? std::vector<float>(n, 0.f) : mm->p.bias.to_float();
  for (int64_t j = 0; j < n; ++j)
    bias[j] = static_cast<float>(bias[j] * per_column(s->p.scale, 1.0, j) + per_column(s->p.shift, 0.0, j));
  Weights scaled = weights_of(bc->p.weights.dtype, w);
  if (uses.only_by(b, mm)) {
    bc->p.weights = scaled;
  } else {  // B is shared (tied weights) or a network output: the matmul gets its own scaled copy
    auto* copy = add_constant(net, bc->p.shape, scaled);
    copy->set_name(bc->name() + "_scaled");
    net.rewire_input(mm, 1, copy->output(0));
    net.topo_sort();
  }
  mm->p.bias = Weights::f32(bias);
  return true;
}

}  // namespace

int fuse_matmul_epilogue(Network& net, const BuilderConfig&) {
  return fold_readers_into_producers(net, [&net](Layer* l, Layer* next, pattern::Uses& uses) {
    if (l->kind() != LayerKind::kMatrixMultiply) return false;
    auto* mm = static_cast<MatrixMultiplyLayer*>(l);
    if (mm->p.op0 == MatrixOperation::kVECTOR || mm->p.op1 == MatrixOperation::kVECTOR) return false;
    const Tensor* y = mm->output(0);
    if (y->dims().nb_dims < 2) return false;
    if (next->kind() == LayerKind::kScale) return fold_scale(net, mm, static_cast<ScaleLayer*>(next), uses);
    const int64_t n = y->dims().d[y->dims().nb_dims - 1];
    EpilogueTarget t;
    t.layer = mm, t.bias = &mm->p.bias, t.has_activation = &mm->p.has_activation;
    t.activation = &mm->p.activation, t.residual_input = 2, t.features = n;
    t.feature_constant = [y, n](const Tensor* c) { return per_column_constant(c, y, n); };
    return absorb_epilogue(t, next);
  });
}

}  // namespace torch2trt
