// Fuses layer normalization written out with reduce and elementwise layers into one Normalization:
//   mean = avg(x, axes)          d = x - mean           var = avg(d^2, axes)   (d^2: pow(d, 2) or d * d;
//                                                        d may be computed twice, as (x - u) often is)
//   n = d / sqrt(var + eps)      or d * rsqrt(var + eps) (recip(sqrt(.)) or pow(., -0.5))
//   y = n [* gamma] [+ beta]     gamma, beta constants broadcasting to x, either operand order
// Both averages keep dims and use the same axes (any set: the Normalization layer takes an axes mask);
// eps may be absent (0). The fused layer computes the statistics in one kernel, in double on the CPU.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <set>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

using pattern::Match;
using pattern::Uses;
using E = ElementWiseOperation;

ReduceLayer* average(const Tensor* t) {
  auto* r = pattern::producer_as<ReduceLayer>(t, LayerKind::kReduce);
  return r && r->p.op == ReduceOperation::kAVG && r->p.keep_dims ? r : nullptr;
}

// The only layer reading t (in one or more slots), or null.
Layer* sole_reader(const Uses& uses, const Tensor* t) {
  const auto& u = uses.of(t);
  return !u.empty() && uses.only_by(t, u[0]) ? u[0] : nullptr;
}

// The operand of an ElementWise `l` other than `t` (null when t is neither operand, or both).
Tensor* other_operand(const Layer* l, const Tensor* t) {
  if (l->input(0) == t && l->input(1) != t) return l->input(1);
  if (l->input(1) == t && l->input(0) != t) return l->input(0);
  return nullptr;
}

// A constant usable as Normalization's scale or bias: same dtype as x and broadcasting into x's shape.
bool affine_constant(const Tensor* c, const Tensor* x) {
  if (!c || !c->producer() || c->producer()->kind() != LayerKind::kConstant || c->dtype() != x->dtype()) return false;
  const Dims &cd = c->dims(), &xd = x->dims();
  if (cd.nb_dims > xd.nb_dims) return false;
  for (int j = 0; j < cd.nb_dims; ++j) {
    int64_t e = cd.d[j], xe = xd.d[xd.nb_dims - cd.nb_dims + j];
    if (e != 1 && e != xe) return false;
  }
  return true;
}

struct LayerNormMatch {
  Match m;
  Tensor* x = nullptr;
  Tensor* result = nullptr;
  Tensor* gamma = nullptr;
  Tensor* beta = nullptr;
  uint32_t axes = 0;
  double eps = 0;
};

// True when t is one of the deviations x - mean (a model may compute it more than once).
using IsDeviation = std::function<bool(const Tensor*)>;

// n = d * r or r * d with r = 1 / sqrt(ve) (as recip(sqrt(ve)) or pow(ve, -0.5)); or n = d / sqrt(ve).
bool match_normalize(const Uses& uses, Tensor* ve, const IsDeviation& is_dev, LayerNormMatch& r, Tensor** n) {
  Layer* a = sole_reader(uses, ve);
  if (!a) return false;
  Tensor* rstd = nullptr;
  if (a->kind() == LayerKind::kUnary && static_cast<UnaryLayer*>(a)->p.op == UnaryOperation::kSQRT) {
    r.m.add(a);
    Layer* b = sole_reader(uses, a->output(0));
    if (!b) return false;
    if (pattern::elementwise(b->output(0), E::kDIV) && is_dev(b->input(0)) && b->input(1) == a->output(0)) {
      r.m.add(b);
      *n = b->output(0);
      return true;
    }
    if (b->kind() == LayerKind::kUnary && static_cast<UnaryLayer*>(b)->p.op == UnaryOperation::kRECIP) {
      r.m.add(b);
      rstd = b->output(0);
    }
  } else if (auto* p = pattern::elementwise(a->output(0), E::kPOW)) {
    auto e = pattern::scalar_constant(p->input(1));
    if (p->input(0) == ve && e && *e == -0.5) {
      r.m.add(p);
      rstd = p->output(0);
    }
  }
  if (!rstd) return false;
  Layer* mul = sole_reader(uses, rstd);
  if (!mul || !pattern::elementwise(mul->output(0), E::kPROD) || !is_dev(other_operand(mul, rstd))) return false;
  r.m.add(mul);
  *n = mul->output(0);
  return true;
}

// Matches from the first average (mean = avg(x)); fills r on success.
bool match(const Uses& uses, ReduceLayer* mean, LayerNormMatch& r) {
  r.x = mean->input(0);
  r.axes = mean->p.axes;
  r.m.add(mean);
  // d = x - mean, possibly computed by several identical layers ((x - u).pow(2) ... (x - u) / std).
  std::vector<Tensor*> devs;
  if (mean->output(0)->is_output()) return false;
  for (Layer* sub : uses.of(mean->output(0))) {
    if (!pattern::elementwise(sub->output(0), E::kSUB) || sub->input(0) != r.x || sub->input(1) != mean->output(0))
      return false;
    r.m.add(sub);
    devs.push_back(sub->output(0));
  }
  auto is_dev = [&](const Tensor* t) { return std::find(devs.begin(), devs.end(), t) != devs.end(); };
  // The deviations are read by the square and by the normalizing division or product.
  Layer* square = nullptr;
  for (Tensor* d : devs)
    for (Layer* l : uses.of(d)) {
      bool dd = pattern::elementwise(l->output(0), E::kPROD) && l->input(0) == d && l->input(1) == d;
      auto two = l->num_inputs() == 2 ? pattern::scalar_constant(l->input(1)) : std::nullopt;
      bool pow2 = pattern::elementwise(l->output(0), E::kPOW) && l->input(0) == d && two && *two == 2.0;
      if (dd || pow2) square = l;
    }
  if (!square) return false;
  r.m.add(square);
  Layer* var = sole_reader(uses, square->output(0));
  auto* var_avg = var ? average(var->output(0)) : nullptr;
  if (!var_avg || var_avg->p.axes != r.axes) return false;
  r.m.add(var_avg);
  Tensor* ve = var_avg->output(0);
  if (Layer* plus = sole_reader(uses, ve); plus && pattern::elementwise(plus->output(0), E::kSUM)) {
    Tensor* c = other_operand(plus, ve);
    auto eps = pattern::scalar_constant(c);
    if (!eps || *eps < 0 || !std::isfinite(*eps)) return false;
    r.eps = *eps;
    r.m.add(plus);
    ve = plus->output(0);
  }
  Tensor* n = nullptr;
  if (!match_normalize(uses, ve, is_dev, r, &n)) return false;
  // Every reader of a deviation must now be in the match: the square and the normalizing layer.
  for (Tensor* d : devs)
    for (Layer* l : uses.of(d))
      if (!r.m.contains(l)) return false;
  r.result = n;
  // Optional affine tail: * gamma, then + beta (each with a constant in either operand slot).
  if (Layer* l = sole_reader(uses, r.result); l && pattern::elementwise(l->output(0), E::kPROD)) {
    Tensor* g = other_operand(l, r.result);
    if (affine_constant(g, r.x)) {
      r.gamma = g;
      r.m.add(l);
      r.result = l->output(0);
    }
  }
  if (Layer* l = sole_reader(uses, r.result); l && pattern::elementwise(l->output(0), E::kSUM)) {
    Tensor* b = other_operand(l, r.result);
    if (affine_constant(b, r.x)) {
      r.beta = b;
      r.m.add(l);
      r.result = l->output(0);
    }
  }
  return r.m.self_contained(uses, r.result) && r.result->dtype() == r.x->dtype() && r.result->dims() == r.x->dims();
}

}  // namespace

int fuse_layer_norm(Network& net, const BuilderConfig&) {
  pattern::Rewrites rw(net);
  for (int i = 0; i < net.num_layers(); ++i) {
    auto* mean = average(net.layer(i)->output(0));
    if (!mean || !is_floating(mean->input(0)->dtype()) || rw.gone(mean)) continue;
    LayerNormMatch r;
    if (!match(rw.uses(), mean, r)) continue;
    const int rank = r.x->dims().nb_dims;
    // Checked on a detached layer first, so that a refusal leaves nothing behind in the network.
    NormalizationLayer probe;
    probe.p.axes = r.axes;
    probe.p.epsilon = static_cast<float>(r.eps);
    TensorDesc one{r.x->dtype(), Dims::from(std::vector<int64_t>(rank, 1))};
    try {
      probe.infer({r.x->desc(), r.gamma ? r.gamma->desc() : one, r.beta ? r.beta->desc() : one});
    } catch (const InvalidArgument&) {
      continue;
    }
    Tensor* scale = r.gamma ? r.gamma : pattern::add_scalar_constant(net, 1.0, r.x->dtype(), rank);
    Tensor* bias = r.beta ? r.beta : pattern::add_scalar_constant(net, 0.0, r.x->dtype(), rank);
    auto* norm = add_normalization(net, r.x, scale, bias, r.axes);
    norm->p.epsilon = static_cast<float>(r.eps);
    norm->set_name(mean->name() + "_layer_norm");
    rw.replace(r.m.layers, r.result, norm->output(0));
  }
  return rw.finish();
}

}  // namespace torch2trt
