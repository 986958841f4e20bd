// Reduced precision (BuilderFlag FP16 / BF16): float32 tensors inside the network become float16
// (or bfloat16). Network inputs and outputs keep the types the caller binds: casts are inserted at the
// edges. Float32 constants are stored in the reduced type. Layers whose precision is set to float32
// run in float32 when OBEY_PRECISION_CONSTRAINTS (or STRICT_TYPES / PREFER_...) is set, with casts around
// them. Kernels accumulate in float32 (softmax, normalization, reductions, convolution, matmul).
#include "passes/pass.h"
#include "torch2trt/layers/constant.h"
#include "torch2trt/layers/identity.h"

namespace torch2trt {
namespace {

Weights convert_weights(const Weights& w, DataType to) {
  Weights r(to, nullptr, w.count);
  auto* dst = reinterpret_cast<uint16_t*>(r.bytes ? r.bytes->data() : nullptr);
  const float* src = w.as<float>();
  for (int64_t i = 0; i < w.count; ++i) dst[i] = to == DataType::kHALF ? float_to_half(src[i]) : float_to_bf16(src[i]);
  return r;
}

// Inserts a cast of `t` to `to` and makes every reader in `readers` (all, when empty) read the cast.
Tensor* cast_for(Network& net, Tensor* t, DataType to, const std::vector<Layer*>& readers) {
  auto* c = add_cast(net, t, to);
  c->set_name(t->name() + (to == DataType::kFLOAT ? "_to_float" : "_to_half"));
  for (Layer* l : readers)
    for (int i = 0; i < l->num_inputs(); ++i)
      if (l->input(i) == t) net.rewire_input(l, i, c->output(0));
  return c->output(0);
}

}  // namespace

int assign_precision(Network& net, const BuilderConfig& config) {
  DataType low;
  if (config.get_flag(BuilderFlag::kFP16))
    low = DataType::kHALF;
  else if (config.get_flag(BuilderFlag::kBF16))
    low = DataType::kBF16;
  else
    return 0;
  const bool obey = config.get_flag(BuilderFlag::kOBEY_PRECISION_CONSTRAINTS) ||
                    config.get_flag(BuilderFlag::kSTRICT_TYPES) ||
                    config.get_flag(BuilderFlag::kPREFER_PRECISION_CONSTRAINTS);
  int changes = 0;
  const int n_layers = net.num_layers();
  std::vector<Tensor*> float_outputs;  // outputs the caller binds as float32 stay float32
  for (int i = 0; i < net.num_outputs(); ++i)
    if (net.output(i)->dtype() == DataType::kFLOAT) float_outputs.push_back(net.output(i));

  // Inputs: cast float32 inputs down for all their readers.
  for (int i = 0; i < net.num_inputs(); ++i) {
    Tensor* x = net.input(i);
    if (x->dtype() != DataType::kFLOAT) continue;
    auto readers = net.consumers(x);
    if (readers.empty()) continue;
    auto* c = add_cast(net, x, low);
    c->set_name(x->name() + "_precision_in");
    for (Layer* l : readers)
      for (int k = 0; k < l->num_inputs(); ++k)
        if (l->input(k) == x) net.rewire_input(l, k, c->output(0));
    ++changes;
  }
  // Constants: store float32 values in the reduced type. Casts to float32 inside the network (x.float())
  // cast to the reduced type instead, so the types of an expression stay consistent.
  for (int i = 0; i < n_layers; ++i) {
    Layer* l = net.layer(i);
    if (l->kind() == LayerKind::kCast) {
      auto* c = static_cast<CastLayer*>(l);
      if (c->p.to_type == DataType::kFLOAT && !c->output(0)->is_output()) c->p.to_type = low, ++changes;
      continue;
    }
    if (l->kind() != LayerKind::kConstant) continue;
    auto* c = static_cast<ConstantLayer*>(l);
    if (c->p.weights.dtype != DataType::kFLOAT) continue;
    c->p.weights = convert_weights(c->p.weights, low);
    ++changes;
  }
  net.topo_sort();
  net.reinfer();
  // Layers pinned to float32: cast their reduced inputs up and their outputs back down.
  if (obey) {
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* l = net.layer(i);
      if (!l->precision_is_set() || l->precision() != DataType::kFLOAT) continue;
      for (int k = 0; k < l->num_inputs(); ++k) {
        Tensor* t = l->input(k);
        if (t && t->dtype() == low) cast_for(net, t, DataType::kFLOAT, {l});
      }
      ++changes;
    }
    net.topo_sort();
    net.reinfer();
    for (int i = 0; i < net.num_layers(); ++i) {
      Layer* l = net.layer(i);
      if (!l->precision_is_set() || l->precision() != DataType::kFLOAT) continue;
      for (auto* t : l->outputs()) {
        auto readers = net.consumers(t);
        if (t->dtype() == DataType::kFLOAT && !readers.empty()) cast_for(net, t, low, readers);
      }
    }
    net.topo_sort();
    net.reinfer();
  }
  // Outputs: a float32 output that became reduced is cast back, under its own name.
  for (Tensor* y : float_outputs) {
    if (y->dtype() != low || y->is_input()) continue;
    auto* c = add_cast(net, y, DataType::kFLOAT);
    c->set_name(y->name() + "_precision_out");
    net.replace_output(y, c->output(0));
    ++changes;
  }
  net.topo_sort();
  net.reinfer();
  return changes;
}

}  // namespace torch2trt
