#include "passes/epilogue.h"

namespace torch2trt {

bool absorb_epilogue(const EpilogueTarget& t, Layer* next) {
  Tensor* y = t.layer->output(0);
  if (next->kind() == LayerKind::kActivation) {
    if (*t.has_activation) return false;
    *t.has_activation = true;
    *t.activation = static_cast<ActivationLayer*>(next)->p;
    return true;
  }
  auto* sum = static_cast<ElementWiseLayer*>(next);
  if (next->kind() != LayerKind::kElementWise || sum->p.op != ElementWiseOperation::kSUM) return false;
  // The activation comes last in the epilogue: nothing added after it can move before it.
  if (*t.has_activation || sum->input(0) == sum->input(1)) return false;
  Tensor* other = sum->input(0) == y ? sum->input(1) : sum->input(0);
  std::vector<float> c = t.features > 0 ? t.feature_constant(other) : std::vector<float>{};
  if (!c.empty()) {
    std::vector<float> bias = t.bias->empty() ? std::vector<float>(t.features, 0.f) : t.bias->to_float();
    for (int64_t i = 0; i < t.features; ++i) bias[i] += c[i];
    *t.bias = Weights::f32(bias);
    return true;
  }
  // A residual: same type and static shape, so the sum neither broadcasts nor changes at run time.
  if (t.layer->num_inputs() != t.residual_input || other->dtype() != y->dtype() || !y->dims().is_static() ||
      !(other->dims() == y->dims()))
    return false;
  // Layers stay in insertion order: a residual produced after the layer cannot be its input. In a ResNet
  // block with a projection shortcut the sum then fuses into the shortcut convolution instead.
  if (other->producer() && other->producer()->index() >= t.layer->index()) return false;
  t.layer->set_input(t.residual_input, other);
  return true;
}

int fold_readers_into_producers(Network& net,
                                const std::function<bool(Layer* producer, Layer* reader, pattern::Uses& uses)>& absorb) {
  int fused = 0;
  for (bool again = true; again;) {
    again = false;
    pattern::Uses uses(net);
    for (int i = 0; i < net.num_layers() && !again; ++i) {
      Layer* l = net.layer(i);
      if (l->precision_is_set() || l->num_outputs() != 1) continue;
      Tensor* y = l->output(0);
      const auto& readers = uses.of(y);
      if (readers.empty() || !uses.only_by(y, readers[0])) continue;
      Layer* next = readers[0];
      if (next->precision_is_set() || next->num_outputs() != 1 || next->output(0)->dtype() != y->dtype()) continue;
      if (!absorb(l, next, uses)) continue;
      pattern::replace_result(net, next->output(0), y);
      net.remove_layers({next});
      ++fused;
      again = true;  // the readers changed: take a new snapshot
    }
  }
  return fused;
}

}  // namespace torch2trt
