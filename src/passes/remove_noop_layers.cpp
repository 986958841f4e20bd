// Removes layers that only copy: Identity, a Cast to the same type, a Shuffle that changes nothing.
#include "passes/pass.h"
#include "torch2trt/layers/identity.h"
#include "torch2trt/layers/shuffle.h"

namespace torch2trt {
namespace {

bool is_identity_perm(const std::vector<int32_t>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int32_t>(i)) return false;
  return true;
}

bool is_noop(const Layer& l) {
  if (l.num_inputs() < 1 || !l.input(0) || l.num_outputs() != 1) return false;
  const TensorDesc &in = l.input(0)->desc(), &out = l.output(0)->desc();
  if (in.dtype != out.dtype || in.dims != out.dims) return false;
  switch (l.kind()) {
    case LayerKind::kIdentity:
    case LayerKind::kCast: return true;
    case LayerKind::kShuffle: {
      auto& p = static_cast<const ShuffleLayer&>(l).p;
      // Equal shapes after a transpose still move data unless every transpose is the identity.
      return l.num_inputs() == 1 && is_identity_perm(p.first_transpose) && is_identity_perm(p.second_transpose);
    }
    default: return false;
  }
}

}  // namespace

int remove_noop_layers(Network& net, const BuilderConfig&) {
  std::vector<Layer*> dead;
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    if (!is_noop(*l)) continue;
    Tensor *in = l->input(0), *out = l->output(0);
    // An output must keep its own buffer and name; an input read directly as an output is left alone.
    if (out->is_output() && (in->is_input() || in->is_output())) continue;
    net.replace_uses(out, in);
    dead.push_back(l);
  }
  if (!dead.empty()) net.remove_layers(dead);
  return static_cast<int>(dead.size());
}

}  // namespace torch2trt
