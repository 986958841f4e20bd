// Fuses GELU written out with elementwise layers into one Activation layer:
//   erf form   x * 0.5 * (1 + erf(x / sqrt(2)))                         -> GELU_ERF
//   tanh form  0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))   -> GELU_TANH
// The outer product is flattened into a constant coefficient times factors, so any operand order and
// grouping match; the argument of erf/tanh is read as a polynomial in x, so x / sqrt(2), x * 0.7071...,
// pow(x, 3), x * x * x and k * x * (1 + c * x * x) all match their forms.
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

using pattern::Match;
using pattern::Uses;
using E = ElementWiseOperation;

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kCubic = 0.044715;
// Polynomials beyond this degree are not GELU arguments; the bound also keeps products small.
constexpr int kMaxDegree = 6;

// Coefficients by power of x; exact zeros are dropped so that "no other term" is a size check.
using Poly = std::map<int, double>;

Poly trimmed(Poly p) {
  for (auto it = p.begin(); it != p.end();) it = it->second == 0 ? p.erase(it) : std::next(it);
  return p;
}

Poly add(const Poly& a, const Poly& b, double sign) {
  Poly r = a;
  for (auto& [k, c] : b) r[k] += sign * c;
  return trimmed(r);
}

std::optional<Poly> mul(const Poly& a, const Poly& b) {
  Poly r;
  for (auto& [i, x] : a)
    for (auto& [j, y] : b) {
      if (i + j > kMaxDegree) return std::nullopt;
      r[i + j] += x * y;
    }
  return trimmed(r);
}

Poly scaled(Poly p, double s) {
  for (auto& [k, c] : p) c *= s;
  return trimmed(p);
}

class GeluMatcher {
 public:
  GeluMatcher(const Uses& uses, Match& m) : uses_(uses), m_(m) {}

  // t = coef * product(factors), through PROD, DIV by a scalar and NEG layers read only by the expression.
  // Each factor comes with the layer that reads it.
  void flatten(Tensor* t, Layer* reader, double& coef, std::vector<std::pair<Tensor*, Layer*>>& factors) {
    if (auto c = pattern::scalar_constant(t)) {
      coef *= *c;
      return;
    }
    bool descend = reader == nullptr || uses_.only_by(t, reader);
    if (descend) {
      if (auto* l = pattern::elementwise(t, E::kPROD)) {
        m_.add(l);
        flatten(l->input(0), l, coef, factors);
        flatten(l->input(1), l, coef, factors);
        return;
      }
      if (auto* l = pattern::elementwise(t, E::kDIV)) {
        auto d = pattern::scalar_constant(l->input(1));
        if (d && *d != 0) {
          m_.add(l);
          coef /= *d;
          flatten(l->input(0), l, coef, factors);
          return;
        }
      }
      auto* u = pattern::producer_as<UnaryLayer>(t, LayerKind::kUnary);
      if (u && u->p.op == UnaryOperation::kNEG) {
        m_.add(u);
        coef = -coef;
        flatten(u->input(0), u, coef, factors);
        return;
      }
    }
    factors.push_back({t, reader});
  }

  // t as a polynomial in x, through SUM, SUB, PROD, DIV by a scalar, POW by a small integer, NEG and
  // UNIFORM Scale layers read only by the expression.
  std::optional<Poly> poly(Tensor* t, Layer* reader, const Tensor* x) {
    if (t == x) return Poly{{1, 1.0}};
    if (auto c = pattern::scalar_constant(t)) return trimmed(Poly{{0, *c}});
    if (!uses_.only_by(t, reader)) return std::nullopt;
    if (auto* l = pattern::producer_as<ElementWiseLayer>(t, LayerKind::kElementWise)) {
      auto a = poly(l->input(0), l, x);
      if (!a) return std::nullopt;
      std::optional<Poly> r;
      switch (l->p.op) {
        case E::kSUM:
        case E::kSUB:
        case E::kPROD: {
          auto b = poly(l->input(1), l, x);
          if (!b) return std::nullopt;
          r = l->p.op == E::kPROD ? mul(*a, *b) : add(*a, *b, l->p.op == E::kSUM ? 1 : -1);
          break;
        }
        case E::kDIV: {
          auto d = pattern::scalar_constant(l->input(1));
          if (d && *d != 0) r = scaled(*a, 1 / *d);
          break;
        }
        case E::kPOW: {
          auto e = pattern::scalar_constant(l->input(1));
          if (!e || *e != std::floor(*e) || *e < 1 || *e > kMaxDegree) break;
          r = *a;
          for (int i = 1; i < static_cast<int>(*e) && r; ++i) r = mul(*r, *a);
          break;
        }
        default: break;
      }
      if (r) m_.add(l);
      return r;
    }
    if (auto* u = pattern::producer_as<UnaryLayer>(t, LayerKind::kUnary)) {
      if (u->p.op != UnaryOperation::kNEG) return std::nullopt;
      auto a = poly(u->input(0), u, x);
      if (a) m_.add(u);
      return a ? std::optional<Poly>(scaled(*a, -1)) : std::nullopt;
    }
    if (auto* s = pattern::producer_as<ScaleLayer>(t, LayerKind::kScale)) {
      if (s->p.mode != ScaleMode::kUNIFORM || !s->p.power.empty()) return std::nullopt;
      auto a = poly(s->input(0), s, x);
      if (!a) return std::nullopt;
      Poly r = scaled(*a, s->p.scale.empty() ? 1.0 : s->p.scale.at(0));
      if (!s->p.shift.empty()) r = add(r, Poly{{0, s->p.shift.at(0)}}, 1);
      m_.add(s);
      return r;
    }
    return std::nullopt;
  }

  // t = 1 + f (a SUM with the scalar 1 in either order): returns the SUM layer and f's slot in it.
  std::pair<ElementWiseLayer*, int> one_plus(Tensor* t, Layer* reader) {
    auto* l = pattern::elementwise(t, E::kSUM);
    if (!l || !uses_.only_by(t, reader)) return {nullptr, 0};
    for (int k = 0; k < 2; ++k) {
      auto one = pattern::scalar_constant(l->input(k));
      if (one && *one == 1.0) {
        m_.add(l);
        return {l, 1 - k};
      }
    }
    return {nullptr, 0};
  }

  // The GELU type when f = erf(x / sqrt 2) or tanh(sqrt(2/pi) (x + 0.044715 x^3)), read by `reader`.
  std::optional<ActivationType> inner(Tensor* f, Layer* reader, const Tensor* x) {
    if (!uses_.only_by(f, reader)) return std::nullopt;
    auto* u = pattern::producer_as<UnaryLayer>(f, LayerKind::kUnary);
    if (u && u->p.op == UnaryOperation::kERF) {
      auto p = poly(u->input(0), u, x);
      if (!p || p->size() != 1 || !p->count(1) || !pattern::close(p->at(1), kInvSqrt2)) return std::nullopt;
      m_.add(u);
      return ActivationType::kGELU_ERF;
    }
    auto* a = pattern::producer_as<ActivationLayer>(f, LayerKind::kActivation);
    if (a && a->p.type == ActivationType::kTANH) {
      auto p = poly(a->input(0), a, x);
      if (!p || p->size() != 2 || !p->count(1) || !p->count(3) || !pattern::close(p->at(1), kSqrt2OverPi) ||
          !pattern::close(p->at(3), kSqrt2OverPi * kCubic))
        return std::nullopt;
      m_.add(a);
      return ActivationType::kGELU_TANH;
    }
    return std::nullopt;
  }

 private:
  const Uses& uses_;
  Match& m_;
};

}  // namespace

int fuse_gelu(Network& net, const BuilderConfig&) {
  pattern::Rewrites rw(net);
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* root = net.layer(i);
    Tensor* y = root->output(0);
    if (!pattern::elementwise(y, E::kPROD) || !is_floating(y->dtype()) || rw.gone(root)) continue;
    for (int order = 0; order < 2; ++order) {
      Match m;
      GeluMatcher g(rw.uses(), m);
      double coef = 1;
      std::vector<std::pair<Tensor*, Layer*>> factors;
      g.flatten(y, nullptr, coef, factors);
      if (factors.size() != 2 || !pattern::close(coef, 0.5)) break;
      Tensor* x = factors[order].first;
      auto [sum, slot] = g.one_plus(factors[1 - order].first, factors[1 - order].second);
      if (!sum) continue;
      auto type = g.inner(sum->input(slot), sum, x);
      if (!type || !m.self_contained(rw.uses(), y) || x->dtype() != y->dtype() || x->dims() != y->dims()) continue;
      auto* act = add_activation(net, x, *type);
      act->set_name(root->name() + "_gelu");
      rw.replace(m.layers, y, act->output(0));
      break;
    }
  }
  return rw.finish();
}

}  // namespace torch2trt
