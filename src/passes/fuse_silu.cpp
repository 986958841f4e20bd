// Fuses SiLU written out as x * sigmoid(x) (ElementWise PROD of x and an Activation SIGMOID of the same x,
// in either operand order) into one Activation SILU. As an Activation it can become a convolution's or a
// matrix multiply's fused activation (in EfficientNet nearly every convolution is followed by one), which the
// product of two layers cannot.
#include <memory>
#include <vector>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

using pattern::Match;
using pattern::Uses;

// The SIGMOID layer when `product` computes x * sigmoid(x) with the sigmoid in slot `k`, else null.
ActivationLayer* sigmoid_of_other_operand(const Uses& uses, ElementWiseLayer* product, int k) {
  Tensor* s = product->input(k);
  Tensor* x = product->input(1 - k);
  auto* sig = pattern::producer_as<ActivationLayer>(s, LayerKind::kActivation);
  if (!sig || sig->p.type != ActivationType::kSIGMOID || sig->input(0) != x) return nullptr;
  // A sigmoid read elsewhere (or a network output) must still be computed: fusing would save nothing.
  return uses.only_by(s, product) ? sig : nullptr;
}

}  // namespace

int fuse_silu(Network& net, const BuilderConfig&) {
  pattern::Rewrites rw(net);
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    auto* product = l->num_outputs() == 1 ? pattern::elementwise(l->output(0), ElementWiseOperation::kPROD) : nullptr;
    if (!product) continue;
    Tensor* y = product->output(0);
    for (int k = 0; k < 2; ++k) {
      ActivationLayer* sig = sigmoid_of_other_operand(rw.uses(), product, k);
      if (!sig) continue;
      Tensor* x = sig->input(0);
      Match m;
      m.add(product);
      m.add(sig);
      // x * sigmoid(x) has x's shape and type, so the activation is a drop-in for the product.
      if (!m.self_contained(rw.uses(), y)) continue;
      auto* act = add_activation(net, x, ActivationType::kSILU);
      act->set_name(product->name() + "_silu");
      // The rewiring refreshes the readers: a later match (silu(silu(x))) sees the new ones.
      rw.replace(m.layers, y, act->output(0));
      break;
    }
  }
  return rw.finish();
}

}  // namespace torch2trt
