// Fuses scaled dot-product attention written out with matrix multiplies and a softmax into one
// Attention layer:
//   s = (q [* c | / c]) x (k [* c | / c])ᵀ [* c | / c]    c: one-element constants, multiplied into `scale`;
//                                                         kᵀ: op1 TRANSPOSE, or op1 NONE on a (..., D, Sk) k
//                                                         (a swap of the last two dims is absorbed, any
//                                                         other such k gets a transpose Shuffle)
//   x = s | s + mask | mask + s                          additive mask of s's dtype, broadcasting into s
//     | select(allowed, s, -inf) | select(blocked, -inf, s)   bool masks (the second gets a NOT)
//   w = softmax(x) over the last axis
//     | select(max(x) == -inf, 0, softmax(x))             zero rows for queries that may attend to nothing
//   y = w x v
// A bool mask equal to the causal pattern (j <= i, top-left aligned; or a float mask of 0 and -inf in that
// pattern) becomes `causal` instead of a mask input. When q, k and v are all (..., S, H, D) tensors swapped
// to (..., H, S, D) by transpose Shuffles, the layer reads them before the swap (heads_interleaved), and a
// swap of y back to (..., Sq, H, Dv) is absorbed too, so the kernel reads and writes the projections'
// layout directly. A match is fused only when the target backend (and, with FP16/BF16, the reduced type)
// has an Attention kernel for it.
#include <cmath>
#include <memory>
#include <set>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

using pattern::Match;
using pattern::Uses;
using E = ElementWiseOperation;

// A matrix multiply without a fused epilogue. Compared through the serialized parameters, so that any
// field a later change adds (bias, activation, ...) makes a layer count as "not plain" without this pass
// having to know it.
bool plain_matmul(const MatrixMultiplyLayer* m) {
  if (!m || m->num_inputs() != 2) return false;
  MatrixMultiplyLayer plain;
  plain.p.op0 = m->p.op0;
  plain.p.op1 = m->p.op1;
  Writer a, b;
  m->save(a);
  plain.save(b);
  return a.buf == b.buf && a.blobs.empty();
}

MatrixMultiplyLayer* matmul(const Tensor* t) {
  auto* m = pattern::producer_as<MatrixMultiplyLayer>(t, LayerKind::kMatrixMultiply);
  return plain_matmul(m) ? m : nullptr;
}

// Peels x * c, c * x and x / c off t (c a finite one-element constant, not growing x), multiplying the
// constants into *scale and adding the layers to the match. Returns the tensor under them.
Tensor* peel_scale(Tensor* t, double* scale, Match& m) {
  for (;;) {
    auto* e = pattern::producer_as<ElementWiseLayer>(t, LayerKind::kElementWise);
    if (!e) return t;
    Tensor* x = nullptr;
    double c = 0;
    if (e->p.op == E::kPROD) {
      if (auto v = pattern::scalar_constant(e->input(1)))
        x = e->input(0), c = *v;
      else if (auto w = pattern::scalar_constant(e->input(0)))
        x = e->input(1), c = *w;
    } else if (e->p.op == E::kDIV) {
      if (auto v = pattern::scalar_constant(e->input(1)); v && *v != 0) x = e->input(0), c = 1 / *v;
    }
    if (!x || x->dims() != t->dims() || !std::isfinite(c)) return t;
    *scale *= c;
    m.add(e);
    t = x;
  }
}

// The Shuffle producing t when it only swaps dims a and b (no reshape, no second transpose), else null.
ShuffleLayer* swap_of(const Tensor* t, int a, int b) {
  auto* s = pattern::producer_as<ShuffleLayer>(t, LayerKind::kShuffle);
  if (!s || (s->num_inputs() > 1 && s->input(1)) || s->p.has_reshape) return nullptr;
  const int r = s->input(0)->dims().nb_dims;
  if (a < 0 || b < 0 || a >= r || b >= r) return nullptr;
  std::vector<int32_t> want(r);
  for (int i = 0; i < r; ++i) want[i] = i;
  std::swap(want[a], want[b]);
  std::vector<int32_t> first, second;
  try {
    first = expand_permutation(*s, s->p.first_transpose, r, "first_transpose");
    second = expand_permutation(*s, s->p.second_transpose, r, "second_transpose");
  } catch (const InvalidArgument&) {
    return nullptr;
  }
  for (int i = 0; i < r; ++i)
    if (second[i] != i) return nullptr;
  return first == want ? s : nullptr;
}

// (..., H, S, D) from (..., S, H, D): the heads swap of a transformer block.
ShuffleLayer* heads_swap_of(const Tensor* t) {
  const int r = t->dims().nb_dims;
  return r >= 3 ? swap_of(t, r - 3, r - 2) : nullptr;
}

bool is_scalar(const Tensor* t, double v) {
  auto c = pattern::scalar_constant(t);
  return c && (*c == v || (std::isnan(v) && std::isnan(*c)));
}

struct AttentionMatch {
  Match m;
  Tensor *q = nullptr, *k = nullptr, *v = nullptr;
  Tensor* mask = nullptr;
  bool negate_mask = false;  // a bool mask that says where *not* to attend
  bool transpose_k = false;  // k is (..., D, Sk) and needs a transpose Shuffle
  AttentionParams p;
  Tensor* result = nullptr;  // the tensor the Attention output replaces
};

// Matches softmax(x) or select(max(x) == -inf, 0, softmax(x)) producing w; returns x.
Tensor* match_weights(Tensor* w, AttentionMatch& r) {
  SoftMaxLayer* sm = pattern::producer_as<SoftMaxLayer>(w, LayerKind::kSoftMax);
  if (auto* sel = pattern::producer_as<SelectLayer>(w, LayerKind::kSelect)) {
    sm = pattern::producer_as<SoftMaxLayer>(sel->input(2), LayerKind::kSoftMax);
    auto* eq = pattern::elementwise(sel->input(0), E::kEQUAL);
    if (!sm || !eq || !is_scalar(sel->input(1), 0.0) || sel->output(0)->dims() != sm->output(0)->dims()) return nullptr;
    Tensor* mx = is_scalar(eq->input(1), -INFINITY) ? eq->input(0) : is_scalar(eq->input(0), -INFINITY) ? eq->input(1) : nullptr;
    auto* red = mx ? pattern::producer_as<ReduceLayer>(mx, LayerKind::kReduce) : nullptr;
    const int rank = sm->input(0)->dims().nb_dims;
    if (!red || red->p.op != ReduceOperation::kMAX || !red->p.keep_dims || red->p.axes != 1u << (rank - 1) ||
        red->input(0) != sm->input(0))
      return nullptr;
    r.p.zero_empty_rows = true;
    r.m.add(sel);
    r.m.add(eq);
    r.m.add(red);
  }
  if (!sm || sm->p.log || sm->p.axes != 1u << (sm->input(0)->dims().nb_dims - 1)) return nullptr;
  r.m.add(sm);
  return sm->input(0);
}

// Matches the scores s = q' x k'ᵀ (with scales peeled) under x; fills q, k and the scale.
bool match_scores(Tensor* s, AttentionMatch& r) {
  double scale = 1;
  s = peel_scale(s, &scale, r.m);
  auto* mm = matmul(s);
  if (!mm || mm->p.op0 != MatrixOperation::kNONE || mm->p.op1 == MatrixOperation::kVECTOR) return false;
  r.m.add(mm);
  r.q = peel_scale(mm->input(0), &scale, r.m);
  Tensor* k = peel_scale(mm->input(1), &scale, r.m);
  if (mm->p.op1 == MatrixOperation::kNONE) {
    const int rk = k->dims().nb_dims;
    if (auto* t = swap_of(k, rk - 2, rk - 1)) {
      r.m.add(t);
      k = peel_scale(t->input(0), &scale, r.m);
    } else {
      r.transpose_k = true;
    }
  }
  r.k = k;
  if (!std::isfinite(scale) || std::fabs(scale) > 3.4e38) return false;
  r.p.scale = static_cast<float>(scale);
  return true;
}

// Matches everything from the product with v back to q and k.
bool match(MatrixMultiplyLayer* pv, AttentionMatch& r) {
  if (pv->p.op0 != MatrixOperation::kNONE || pv->p.op1 != MatrixOperation::kNONE) return false;
  r.m.add(pv);
  r.v = pv->input(1);
  r.result = pv->output(0);
  Tensor* x = match_weights(pv->input(0), r);
  if (!x) return false;
  if (auto* sel = pattern::producer_as<SelectLayer>(x, LayerKind::kSelect)) {
    Tensor* s = nullptr;
    if (is_scalar(sel->input(2), -INFINITY))
      s = sel->input(1);
    else if (is_scalar(sel->input(1), -INFINITY))
      s = sel->input(2), r.negate_mask = true;
    if (!s || s->dims() != x->dims()) return false;
    r.mask = sel->input(0);
    r.m.add(sel);
    return match_scores(s, r);
  }
  if (auto* add = pattern::elementwise(x, E::kSUM)) {
    r.m.add(add);
    // The scores are the operand that leads back to a matrix multiply; the other is the mask.
    for (int i = 0; i < 2; ++i) {
      Tensor* s = add->input(i);
      AttentionMatch t = r;
      if (s->dims() == x->dims() && match_scores(s, t)) {
        t.mask = add->input(1 - i);
        r = t;
        return true;
      }
    }
    return false;
  }
  return match_scores(x, r);
}

// True when the constant mask (Sq, Sk) in its last two dims (all others 1) allows exactly j <= i.
bool is_causal_mask(const Tensor* mask, bool negated, int64_t sq, int64_t sk) {
  auto* c = pattern::producer_as<ConstantLayer>(mask, LayerKind::kConstant);
  const Dims& d = mask->dims();
  if (!c || d.nb_dims < 2 || d.d[d.nb_dims - 2] != sq || d.d[d.nb_dims - 1] != sk || !d.is_static()) return false;
  for (int i = 0; i < d.nb_dims - 2; ++i)
    if (d.d[i] != 1) return false;
  const Weights& w = c->p.weights;
  if (w.count != sq * sk) return false;
  const bool boolean = mask->dtype() == DataType::kBOOL;
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = 0; j < sk; ++j) {
      double v = w.at(i * sk + j);
      bool allowed = j <= i;
      if (boolean ? ((v != 0) != negated) != allowed : v != (allowed ? 0.0 : -INFINITY)) return false;
    }
  return true;
}

// Input descriptors of the Attention layer the match would make.
std::vector<TensorDesc> attention_inputs(const AttentionMatch& r) {
  std::vector<TensorDesc> in = {r.q->desc(), r.k->desc(), r.v->desc()};
  if (r.transpose_k) std::swap(in[1].dims.d[in[1].dims.nb_dims - 1], in[1].dims.d[in[1].dims.nb_dims - 2]);
  if (r.mask) in.push_back(r.mask->desc());
  return in;
}

// Swaps the heads and sequence dims of a (..., S, H, D) / (..., H, S, D) tensor.
Tensor* add_heads_swap(Network& net, Tensor* t, const std::string& name) {
  const int r = t->dims().nb_dims;
  auto* s = add_shuffle(net, t);
  std::vector<int32_t> perm(r);
  for (int i = 0; i < r; ++i) perm[i] = i;
  std::swap(perm[r - 3], perm[r - 2]);
  s->p.first_transpose = perm;
  s->changed([] {});
  s->set_name(name);
  return s->output(0);
}

}  // namespace

int fuse_attention(Network& net, const BuilderConfig& config) {
  pattern::Rewrites rw(net);
  for (int li = 0; li < net.num_layers(); ++li) {
    auto* pv = matmul(net.layer(li)->output(0));  // the product with v, which ends every match
    if (!pv || !is_floating(pv->output(0)->dtype())) continue;
    AttentionMatch r;
    if (!match(pv, r) || !r.m.self_contained(rw.uses(), r.result)) continue;

    // The (..., S, H, D) layout when q, k and v all come from heads swaps that nothing else reads.
    ShuffleLayer *tq = heads_swap_of(r.q), *tk = r.transpose_k ? nullptr : heads_swap_of(r.k), *tv = heads_swap_of(r.v);
    AttentionMatch inter = r;
    bool interleaved = false;
    if (tq && tk && tv) {
      inter.m.add(tq), inter.m.add(tk), inter.m.add(tv);
      inter.q = tq->input(0), inter.k = tk->input(0), inter.v = tv->input(0);
      inter.p.heads_interleaved = true;
      // The output swap back to (..., Sq, H, Dv), when it is the only reader.
      if (auto readers = rw.uses().of(r.result); readers.size() == 1 && !r.result->is_output())
        if (auto* to = heads_swap_of(readers[0]->output(0)); to && to == readers[0]) {
          inter.m.add(to);
          inter.result = to->output(0);
        }
      interleaved = inter.m.self_contained(rw.uses(), inter.result);
    }
    AttentionMatch& f = interleaved ? inter : r;
    bool taken = false;  // by an earlier fusion of this run (its layers are removed at the end)
    for (const Layer* l : f.m.layers) taken = taken || rw.gone(l);
    // An operand computed inside the match (scores + scores read as a mask, say) would lose its producer.
    for (const Tensor* t : {f.q, f.k, f.v, f.mask})
      taken = taken || (t && t->producer() && f.m.contains(t->producer()));
    if (taken) continue;

    // Sq and Sk from the layer's own view of q and k; a constant causal mask becomes the causal flag.
    std::vector<TensorDesc> in = attention_inputs(f);
    const int rank = in[0].dims.nb_dims, seq = f.p.heads_interleaved ? rank - 3 : rank - 2;
    if (f.mask && is_causal_mask(f.mask, f.negate_mask, in[0].dims.d[seq], in[1].dims.d[seq])) {
      f.mask = nullptr;
      f.negate_mask = false;
      f.p.causal = true;
      in.resize(3);
    }
    // Checked on a detached layer first, so that a refusal leaves nothing behind in the network.
    AttentionLayer probe;
    probe.p = f.p;
    std::vector<TensorDesc> out;
    try {
      out = probe.infer(in);
    } catch (const InvalidArgument&) {
      continue;
    }
    Dims want = f.result->dims();
    if (f.p.heads_interleaved && f.result == r.result) std::swap(want.d[want.nb_dims - 3], want.d[want.nb_dims - 2]);
    if (out[0].dtype != f.result->dtype() || out[0].dims != want || !pattern::target_runs(probe, in, {out[0]}, config)) continue;

    const std::string name = pv->name() + "_attention";
    Tensor* k = f.k;
    if (f.transpose_k) {
      auto* s = add_shuffle(net, k);
      std::vector<int32_t> perm(rank);
      for (int i = 0; i < rank; ++i) perm[i] = i;
      std::swap(perm[rank - 2], perm[rank - 1]);
      s->p.first_transpose = perm;
      s->changed([] {});
      s->set_name(name + "_key_transpose");
      k = s->output(0);
    }
    Tensor* mask = f.mask;
    if (mask && f.negate_mask) {
      auto* u = add_unary(net, mask, UnaryOperation::kNOT);
      u->set_name(name + "_mask_not");
      mask = u->output(0);
    }
    auto* att = add_attention(net, f.q, k, f.v, mask, f.p);
    att->set_name(name);
    Tensor* y = att->output(0);
    // Interleaved but read as (..., H, Sq, Dv): one swap of the output instead of three of the inputs.
    if (f.p.heads_interleaved && f.result == r.result) y = add_heads_swap(net, y, name + "_heads_swap");
    rw.replace(f.m.layers, f.result, y);
  }
  return rw.finish();
}

}  // namespace torch2trt
