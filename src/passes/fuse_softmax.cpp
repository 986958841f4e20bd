// Fuses softmax written out with reduce and elementwise layers into one SoftMax layer:
//   e = exp(x - max(x, axis))  or  e = exp(x)       s = sum(e, axis)       y = e / s  or  e * recip(s)
// over one axis, reductions keeping dims; the max may be a MAX reduction or the values of a MAX top-1.
// The version without the max overflows for large inputs; the SoftMax layer subtracts the maximum
// itself, so the fused result equals the original wherever the original is finite.
#include <memory>
#include <set>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

using pattern::Match;
using pattern::Uses;
using E = ElementWiseOperation;

// A single-axis reduction with op `op` that keeps dims.
ReduceLayer* reduce_one_axis(Layer* l, ReduceOperation op) {
  if (!l || l->kind() != LayerKind::kReduce || l->precision_is_set()) return nullptr;
  auto* r = static_cast<ReduceLayer*>(l);
  uint32_t a = r->p.axes;
  return r->p.op == op && r->p.keep_dims && a != 0 && (a & (a - 1)) == 0 ? r : nullptr;
}

struct SoftmaxMatch {
  Match m;
  Tensor* x = nullptr;
  Tensor* result = nullptr;
  uint32_t axes = 0;
};

// The layer giving max(x) over one axis with dims kept, when t is that: a MAX reduction, or the values of
// a MAX top-1 (how torch's x.max(dim, keepdim=True) converts; its indices must then be unread, which
// self_contained checks). Its axes mask goes to *axes.
Layer* max_of(Tensor* t, const Tensor* x, uint32_t* axes) {
  Layer* l = t->producer();
  if (!l || l->precision_is_set() || l->input(0) != x) return nullptr;
  if (auto* r = reduce_one_axis(l, ReduceOperation::kMAX)) {
    *axes = r->p.axes;
    return r;
  }
  if (l->kind() == LayerKind::kTopK && t->producer_index() == 0) {
    const auto& p = static_cast<TopKLayer*>(l)->p;
    if (p.op != TopKOperation::kMAX || p.k != 1) return nullptr;
    *axes = p.axes;
    return l;
  }
  return nullptr;
}

// With `with_max`, takes in x - max(x) when it is there; without, softmax(u) for exp(u) whatever u is.
bool match(const Uses& uses, UnaryLayer* exp, bool with_max, SoftmaxMatch& r) {
  r.m.add(exp);
  Tensor* u = exp->input(0);
  r.x = u;
  uint32_t max_axes = 0;
  if (auto* sub = pattern::elementwise(u, E::kSUB); with_max && sub && uses.only_by(u, exp)) {
    Layer* m = max_of(sub->input(1), sub->input(0), &max_axes);
    if (m && uses.only_by(sub->input(1), sub)) {
      r.x = sub->input(0);
      r.m.add(sub);
      r.m.add(m);
    } else {
      max_axes = 0;
    }
  }
  // e is read by the sum and by the division (or the product with the reciprocal).
  Tensor* e = exp->output(0);
  ReduceLayer* sum = nullptr;
  for (Layer* l : uses.of(e))
    if (auto* s = reduce_one_axis(l, ReduceOperation::kSUM)) sum = s;
  if (!sum || (max_axes && max_axes != sum->p.axes)) return false;
  r.axes = sum->p.axes;
  r.m.add(sum);
  Tensor* s = sum->output(0);
  const auto& readers = uses.of(s);
  if (readers.size() != 1 || s->is_output()) return false;
  Layer* div = readers[0];
  if (pattern::elementwise(div->output(0), E::kDIV) && div->input(0) == e && div->input(1) == s) {
    r.m.add(div);
    r.result = div->output(0);
  } else if (div->kind() == LayerKind::kUnary && static_cast<UnaryLayer*>(div)->p.op == UnaryOperation::kRECIP) {
    Tensor* rs = div->output(0);
    const auto& rr = uses.of(rs);
    if (rr.size() != 1 || rs->is_output()) return false;
    Layer* mul = rr[0];
    bool e_times_r = mul->num_inputs() == 2 && ((mul->input(0) == e && mul->input(1) == rs) ||
                                                (mul->input(0) == rs && mul->input(1) == e));
    if (!pattern::elementwise(mul->output(0), E::kPROD) || !e_times_r) return false;
    r.m.add(div);
    r.m.add(mul);
    r.result = mul->output(0);
  } else {
    return false;
  }
  return r.m.self_contained(uses, r.result) && r.result->dtype() == r.x->dtype() && r.result->dims() == r.x->dims();
}

}  // namespace

int fuse_softmax(Network& net, const BuilderConfig&) {
  pattern::Rewrites rw(net);
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    if (l->kind() != LayerKind::kUnary || static_cast<UnaryLayer*>(l)->p.op != UnaryOperation::kEXP ||
        l->precision_is_set() || rw.gone(l) || !is_floating(l->output(0)->dtype()))
      continue;
    // The max may not be absorbable (its indices read elsewhere, another axis): softmax(x - max) then.
    SoftmaxMatch r;
    if (!match(rw.uses(), static_cast<UnaryLayer*>(l), true, r)) {
      r = SoftmaxMatch();
      if (!match(rw.uses(), static_cast<UnaryLayer*>(l), false, r)) continue;
    }
    auto* sm = add_softmax(net, r.x);
    sm->p.axes = r.axes;
    sm->changed([] {});
    sm->set_name(l->name() + "_softmax");
    rw.replace(r.m.layers, r.result, sm->output(0));
  }
  return rw.finish();
}

}  // namespace torch2trt
