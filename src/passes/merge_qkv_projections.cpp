// Merges the q, k and v projections of a self-attention block into one matrix multiply:
//   q = reshape(x op1(Wq) + bq), k = reshape(x op1(Wk) + bk), v = reshape(x op1(Wv) + bv)   (..., S, H, D)
//   y = Attention(q, k, v [, mask])                                                      heads_interleaved
// becomes
//   qkv = reshape(x op1([Wq | Wk | Wv]) + [bq | bk | bv])                                (..., S, 3, H, D)
//   y = Attention(qkv [, mask])                                                                packed_qkv
// At BERT-base batch 1 each 768-wide projection GEMM is latency-bound: one 2304-wide GEMM costs about 1.5 of
// them instead of 3. Runs after fuse_attention (which makes the Attention layer reading the projections'
// (..., S, H, D) layout and takes the softmax scale into its parameters) and fuse_matmul_epilogue (which
// puts each bias into its matrix multiply). Anything else between a projection and the attention -- a
// scale fuse_attention left as an ElementWise or Scale, an activation, a transpose -- stops the match: it
// would apply to one third of the packed tensor only. So do a residual input or an activation in a
// projection's epilogue, a precision pin, and any other reader of a projection or of its reshapes.
#include <cstring>
#include <string>
#include <vector>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

// How far same_value looks back, and how many reshapes may sit between a projection and the attention.
constexpr int kMaxDepth = 4;

bool is_identity(const std::vector<int32_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int32_t>(i)) return false;
  return true;
}

// The Shuffle producing t when it only reshapes (no transposes): a free view of its input.
ShuffleLayer* reshape_of(const Tensor* t) {
  auto* s = pattern::producer_as<ShuffleLayer>(t, LayerKind::kShuffle);
  if (!s || !s->input(0)) return nullptr;
  Dims target;
  try {
    if (!s->reshape_target(&target)) return nullptr;
    const auto first = expand_permutation(*s, s->p.first_transpose, s->input(0)->dims().nb_dims, "first_transpose");
    const auto second = expand_permutation(*s, s->p.second_transpose, t->dims().nb_dims, "second_transpose");
    if (!is_identity(first) || !is_identity(second)) return nullptr;
  } catch (const InvalidArgument&) {
    return nullptr;
  }
  return s;
}

// True when a and b hold the same values: the same tensor, or the same output of two data-movement layers
// (Shuffle, Cast, Identity) with equal parameters reading the same values. nn.MultiheadAttention with
// batch_first=False permutes its input once per projection; the three permutes are one value.
bool same_value(const Tensor* a, const Tensor* b, int depth = 0) {
  if (a == b) return true;
  if (!a || !b || depth >= kMaxDepth) return false;
  const Layer *la = a->producer(), *lb = b->producer();
  if (!la || !lb || la->kind() != lb->kind() || a->producer_index() != b->producer_index()) return false;
  if (la->kind() != LayerKind::kShuffle && la->kind() != LayerKind::kCast && la->kind() != LayerKind::kIdentity)
    return false;
  if (la->precision_is_set() || lb->precision_is_set() || la->num_inputs() != lb->num_inputs()) return false;
  Writer wa, wb;
  la->save(wa);
  lb->save(wb);
  if (wa.buf != wb.buf || !wa.blobs.empty() || !wb.blobs.empty()) return false;
  for (int i = 0; i < la->num_inputs(); ++i)
    if (!same_value(la->input(i), lb->input(i), depth + 1)) return false;
  return true;
}

// One projection: the matrix multiply, its constant B, and the layers from it to the attention input.
struct Projection {
  MatrixMultiplyLayer* mm = nullptr;
  ConstantLayer* weights = nullptr;
  Tensor* result = nullptr;  // the attention's input
};

// Traces attention input t back through reshape-only Shuffles to the MatrixMultiply producing it. Every
// tensor on the way is read by the next layer only and is no network output, so that the whole chain can go.
bool trace(Tensor* t, const pattern::Uses& uses, const Layer* reader, Projection* p) {
  p->result = t;
  for (int hops = 0; hops <= kMaxDepth; ++hops) {
    if (!uses.only_by(t, reader)) return false;
    if (auto* mm = pattern::producer_as<MatrixMultiplyLayer>(t, LayerKind::kMatrixMultiply)) {
      p->mm = mm;
      p->weights = pattern::producer_as<ConstantLayer>(mm->input(1), LayerKind::kConstant);
      return p->weights != nullptr;
    }
    ShuffleLayer* s = reshape_of(t);
    if (!s) return false;
    reader = s;
    t = s->input(0);
  }
  return false;
}

// The three projections read one input the same way, with constant B of one shape and type, and each
// writes (..., S, N) with N = H * D of the attention input (..., S, H, D): then, row by row, the packed
// output's columns are q's, then k's, then v's, and its reshape to (..., S, 3, H, D) is free.
bool compatible(const Projection (&pr)[3]) {
  const Projection& q = pr[0];
  if (pr[0].mm == pr[1].mm || pr[0].mm == pr[2].mm || pr[1].mm == pr[2].mm) return false;
  const Dims& t = q.result->dims();
  const Dims& y = q.mm->output(0)->dims();
  if (t.nb_dims < 3 || y.nb_dims < 2) return false;
  const int64_t h = t.d[t.nb_dims - 2], d = t.d[t.nb_dims - 1], n = y.d[y.nb_dims - 1];
  if (h <= 0 || d <= 0 || n != h * d) return false;
  for (const Projection& p : pr) {
    const MatrixMultiplyLayer& m = *p.mm;
    // A residual or an activation in the epilogue does not split into thirds of one GEMM's epilogue.
    if (m.num_inputs() != 2 || m.p.has_activation) return false;
    if (m.p.op0 == MatrixOperation::kVECTOR || m.p.op1 == MatrixOperation::kVECTOR) return false;
    if (m.p.op0 != q.mm->p.op0 || m.p.op1 != q.mm->p.op1 || !same_value(m.input(0), q.mm->input(0))) return false;
    if (m.input(1)->dims() != q.mm->input(1)->dims() || !is_floating(p.weights->p.weights.dtype) ||
        p.weights->p.weights.dtype != q.weights->p.weights.dtype)
      return false;
    if (m.p.bias.empty() != q.mm->p.bias.empty() || (!m.p.bias.empty() && m.p.bias.count != n)) return false;
    if (m.output(0)->desc().dtype != q.mm->output(0)->dtype() || m.output(0)->dims() != y) return false;
    if (p.result->dims() != t) return false;
  }
  return true;
}

// The three arrays interleaved in chunks: outer times { chunk of w[0], chunk of w[1], chunk of w[2] }.
Weights interleave(const Weights* const (&w)[3], int64_t outer, int64_t chunk) {
  const size_t es = dtype_size(w[0]->dtype), bytes = static_cast<size_t>(chunk) * es;
  std::vector<uint8_t> out(static_cast<size_t>(3 * outer * chunk) * es);
  uint8_t* dst = out.data();
  for (int64_t o = 0; o < outer; ++o)
    for (const Weights* x : w) {
      std::memcpy(dst, x->as<uint8_t>() + static_cast<size_t>(o) * bytes, bytes);
      dst += bytes;
    }
  return Weights(w[0]->dtype, out.data(), 3 * outer * chunk);
}

// B of the merged GEMM: the three constants side by side along N, which is the last dim of a (..., K, N) B
// and the one before it of a B stored transposed, (..., N, K).
Weights merged_weights(const Projection (&pr)[3], MatrixOperation op1, Dims* dims) {
  *dims = pr[0].weights->p.shape;
  const int axis = op1 == MatrixOperation::kTRANSPOSE ? dims->nb_dims - 2 : dims->nb_dims - 1;
  int64_t outer = 1, chunk = 1;
  for (int i = 0; i < dims->nb_dims; ++i) (i < axis ? outer : chunk) *= dims->d[i];
  dims->d[axis] *= 3;
  const Weights* const w[3] = {&pr[0].weights->p.weights, &pr[1].weights->p.weights, &pr[2].weights->p.weights};
  return interleave(w, outer, chunk);
}

Weights merged_bias(const Projection (&pr)[3]) {
  const Weights* const b[3] = {&pr[0].mm->p.bias, &pr[1].mm->p.bias, &pr[2].mm->p.bias};
  if (b[0]->empty()) return Weights();
  if (b[1]->dtype == b[0]->dtype && b[2]->dtype == b[0]->dtype) return interleave(b, 1, b[0]->count);
  std::vector<float> v;
  for (const Weights* x : b) {
    std::vector<float> f = x->to_float();
    v.insert(v.end(), f.begin(), f.end());
  }
  return Weights::f32(v);
}

// The packed view (..., S, 3, H, D) of the merged (..., 3 N) output, from the attention input dims
// (..., S, H, D). Explicit extents: a 0 copying an input extent could copy the one that grew threefold.
// One extent known only at run time is inferred; more cannot be written without copies, and are refused.
bool packed_target(const Dims& t, Dims* target) {
  int unknown = 0;
  target->nb_dims = t.nb_dims + 1;
  for (int i = 0, j = 0; i < t.nb_dims; ++i) {
    if (i == t.nb_dims - 2) target->d[j++] = 3;
    target->d[j++] = t.d[i];
    unknown += t.d[i] < 0;
  }
  return unknown <= 1;
}

}  // namespace

int merge_qkv_projections(Network& net, const BuilderConfig& config) {
  auto uses = std::make_unique<pattern::Uses>(net);
  int merged = 0;
  const int n = net.num_layers();  // layers added below are not candidates
  for (int li = 0; li < n; ++li) {
    if (net.layer(li)->kind() != LayerKind::kAttention) continue;
    auto* att = static_cast<AttentionLayer*>(net.layer(li));
    if (att->p.packed_qkv || !att->p.heads_interleaved || att->num_inputs() < 3) continue;
    Projection pr[3];
    bool ok = true;
    for (int i = 0; i < 3 && ok; ++i) ok = att->input(i) && trace(att->input(i), *uses, att, &pr[i]);
    if (!ok || !compatible(pr)) continue;

    // Everything is checked on detached layers first, so that a refusal leaves the network as it was.
    const MatrixMultiplyLayer& q = *pr[0].mm;
    Tensor* a = q.input(0);
    Dims w_dims;
    Weights w = merged_weights(pr, q.p.op1, &w_dims);
    MatrixMultiplyLayer mm_probe;
    mm_probe.p = q.p;
    mm_probe.p.bias = merged_bias(pr);
    ShuffleLayer view_probe;
    view_probe.p.has_reshape = true;
    view_probe.p.zero_is_placeholder = false;
    AttentionLayer att_probe;
    att_probe.p = att->p;
    att_probe.p.packed_qkv = true;
    std::vector<TensorDesc> att_in, att_out;
    Dims want_view;
    if (!packed_target(pr[0].result->dims(), &view_probe.p.reshape_dims)) continue;
    try {
      std::vector<TensorDesc> y = mm_probe.infer({a->desc(), TensorDesc{w.dtype, w_dims}});
      Dims want_y = q.output(0)->dims();
      want_y.d[want_y.nb_dims - 1] *= 3;
      if (y[0].dims != want_y) continue;
      std::vector<TensorDesc> packed = view_probe.infer(y);
      if (packed[0].dims != view_probe.p.reshape_dims) continue;
      TensorDesc unset;
      unset.dims.nb_dims = -1;
      att_in = {packed[0], unset, unset};
      if (att->num_inputs() > 3 && att->input(3)) att_in.push_back(att->input(3)->desc());
      att_out = att_probe.infer(att_in);
    } catch (const InvalidArgument&) {
      continue;
    }
    // The GEMM is the one the target ran before, N three times wider; the packed attention is new to it.
    if (att_out[0].dims != att->output(0)->dims() || att_out[0].dtype != att->output(0)->dtype() ||
        !pattern::target_runs(att_probe, att_in, att_out, config))
      continue;

    const std::string name = q.name() + "+k+v";
    auto* wc = add_constant(net, w_dims, w);
    wc->set_name(pr[0].weights->name() + "+k+v");
    auto* mm = add_matrix_multiply(net, a, q.p.op0, wc->output(0), q.p.op1);
    mm->set_name(name);
    mm->p = mm_probe.p;
    mm->changed([] {});
    auto* view = add_shuffle(net, mm->output(0));
    view->set_name(name + "_heads");
    view->p = view_probe.p;
    view->changed([] {});
    att->p.packed_qkv = true;
    net.rewire_input(att, 0, view->output(0));
    net.rewire_input(att, 1, nullptr);
    net.rewire_input(att, 2, nullptr);
    uses = std::make_unique<pattern::Uses>(net);
    ++merged;
  }
  if (merged) {
    net.topo_sort();
    net.reinfer();
    // The three projections, their reshapes and constants (and the inputs only they read) now reach no output.
    remove_dead_layers(net, config);
  }
  return merged;
}

}  // namespace torch2trt
