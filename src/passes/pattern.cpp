#include "passes/pattern.h"

#include <algorithm>
#include <cmath>

#include "backends/backend.h"

namespace torch2trt::pattern {

Uses::Uses(const Network& net) {
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    for (Tensor* t : l->inputs())
      if (t) uses_[t].push_back(l);
  }
}

const std::vector<Layer*>& Uses::of(const Tensor* t) const {
  auto it = uses_.find(t);
  return it == uses_.end() ? none_ : it->second;
}

bool Uses::only_by(const Tensor* t, const Layer* reader) const {
  if (t->is_output()) return false;
  const auto& u = of(t);
  return !u.empty() && std::all_of(u.begin(), u.end(), [&](const Layer* l) { return l == reader; });
}

std::optional<double> scalar_constant(const Tensor* t) {
  auto* c = producer_as<ConstantLayer>(t, LayerKind::kConstant);
  if (!c || !is_floating(t->dtype()) || c->p.weights.count != 1) return std::nullopt;
  return c->p.weights.at(0);
}

ElementWiseLayer* elementwise(const Tensor* t, ElementWiseOperation op) {
  auto* l = producer_as<ElementWiseLayer>(t, LayerKind::kElementWise);
  return l && l->p.op == op ? l : nullptr;
}

bool close(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::fabs(b); }

void Match::add(Layer* l) {
  if (!contains(l)) layers.push_back(l);
}

bool Match::contains(const Layer* l) const { return std::find(layers.begin(), layers.end(), l) != layers.end(); }

bool Match::self_contained(const Uses& uses, const Tensor* result) const {
  for (const Layer* l : layers) {
    if (l->precision_is_set()) return false;
    for (const Tensor* t : l->outputs()) {
      if (t == result) continue;
      if (t->is_output()) return false;
      for (const Layer* r : uses.of(t))
        if (!contains(r)) return false;
    }
  }
  return true;
}

void replace_result(Network& net, Tensor* old, Tensor* repl) {
  // replace_output keeps the output's position (replace_uses alone would move it to the end).
  if (old->is_output()) net.replace_output(old, repl);
  net.replace_uses(old, repl);
}

void Rewrites::replace(const std::vector<Layer*>& layers, Tensor* result, Tensor* repl) {
  replace_result(net_, result, repl);
  dead_.insert(dead_.end(), layers.begin(), layers.end());
  gone_.insert(layers.begin(), layers.end());
  uses_ = std::make_unique<Uses>(net_);  // the rewiring changed who reads what
  ++count_;
}

int Rewrites::finish() {
  if (!dead_.empty()) {
    net_.remove_layers(dead_);
    net_.topo_sort();
  }
  dead_.clear();
  return count_;
}

Tensor* add_scalar_constant(Network& net, double v, DataType t, int rank) {
  Dims d;
  d.nb_dims = rank;
  for (int i = 0; i < rank; ++i) d.d[i] = 1;
  Weights w = Weights::f32({static_cast<float>(v)});
  if (t == DataType::kHALF || t == DataType::kBF16) {
    uint16_t bits = t == DataType::kHALF ? float_to_half(static_cast<float>(v)) : float_to_bf16(static_cast<float>(v));
    w = Weights(t, &bits, 1);
  } else if (t != DataType::kFLOAT) {
    throw InvalidArgument(std::string("add_scalar_constant: needs a float dtype, got ") + dtype_name(t));
  }
  return add_constant(net, d, w)->output(0);
}

bool target_runs(const Layer& probe, std::vector<TensorDesc> in, std::vector<TensorDesc> out,
                 const BuilderConfig& config) {
  Backend* backend = nullptr;
  try {
    backend = &get_backend(config.device == DeviceType::kGPU ? DeviceKind::kCUDA : DeviceKind::kCPU,
                           config.device_index);
  } catch (const Error&) {
    return false;
  }
  if (!backend->unsupported_reason(probe, in, out).empty()) return false;
  const DataType low = config.get_flag(BuilderFlag::kFP16)   ? DataType::kHALF
                       : config.get_flag(BuilderFlag::kBF16) ? DataType::kBF16
                                                             : DataType::kFLOAT;
  if (low == DataType::kFLOAT) return true;
  for (auto* v : {&in, &out})
    for (auto& d : *v)
      if (d.dtype == DataType::kFLOAT && d.dims.nb_dims >= 0) d.dtype = low;
  return backend->unsupported_reason(probe, in, out).empty();
}

}  // namespace torch2trt::pattern
