// Helpers shared by the fusion passes (fuse_gelu, fuse_layer_norm, fuse_softmax, fuse_pointwise): who
// reads a tensor, scalar constants, typed producers, and handing a matched subgraph's result to the
// layer that replaces it.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "torch2trt/builder.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/network.h"

namespace torch2trt::pattern {

/// Readers of every tensor, one entry per input slot (a layer that reads a tensor twice appears twice).
/// A snapshot: build a new one after rewiring the network.
class Uses {
 public:
  explicit Uses(const Network& net);
  const std::vector<Layer*>& of(const Tensor* t) const;
  /// True when t is not a network output and `reader` is its only reader (in one or more slots).
  bool only_by(const Tensor* t, const Layer* reader) const;

 private:
  std::unordered_map<const Tensor*, std::vector<Layer*>> uses_;
  std::vector<Layer*> none_;
};

/// The value of a one-element float constant (how converters pass Python numbers), if t is one.
std::optional<double> scalar_constant(const Tensor* t);

/// t's producer as a layer of kind L, or null when t has another producer (or none). Layers with a
/// precision pin never match: fusing them would drop the pin.
template <class L>
L* producer_as(const Tensor* t, LayerKind kind) {
  if (!t || !t->producer() || t->producer()->kind() != kind || t->producer()->precision_is_set()) return nullptr;
  return static_cast<L*>(t->producer());
}

/// The ElementWise layer producing t when its operation is `op` (null otherwise).
ElementWiseLayer* elementwise(const Tensor* t, ElementWiseOperation op);

/// |a - b| <= rel * |b|: constants written in float32 (or to a few digits) still match their exact value.
bool close(double a, double b, double rel = 1e-5);

/// The layers of a matched subgraph.
struct Match {
  std::vector<Layer*> layers;
  void add(Layer* l);
  bool contains(const Layer* l) const;
  /// True when the subgraph can be replaced by one layer computing `result`: every other output of its
  /// layers is read only inside it and is not a network output, and no layer carries a precision pin.
  bool self_contained(const Uses& uses, const Tensor* result) const;
};

/// Makes `repl` take `old`'s place: its readers, and its network-output position and name.
void replace_result(Network& net, Tensor* old, Tensor* repl);

/// The bookkeeping of a fusion pass over matched subgraphs: each replacement rewires the readers at once,
/// the replaced layers are removed when the pass is done.
class Rewrites {
 public:
  explicit Rewrites(Network& net) : net_(net), uses_(std::make_unique<Uses>(net)) {}
  /// Readers as they are now (refreshed after every replacement).
  const Uses& uses() const { return *uses_; }
  /// True when l belongs to a subgraph already replaced by this pass.
  bool gone(const Layer* l) const { return gone_.count(l) > 0; }
  /// Makes `repl` take `result`'s place and schedules `layers` (the match) for removal.
  void replace(const std::vector<Layer*>& layers, Tensor* result, Tensor* repl);
  /// Removes the replaced layers, restores topological order, and returns how many replacements were made.
  int finish();

 private:
  Network& net_;
  std::unique_ptr<Uses> uses_;
  std::vector<Layer*> dead_;
  std::set<const Layer*> gone_;
  int count_ = 0;
};

/// A constant of one element holding `v` in dtype t (a float type), of the given rank (all extents 1).
Tensor* add_scalar_constant(Network& net, double v, DataType t, int rank);

/// Whether the builder's target backend has a kernel for the detached layer `probe` with these input and
/// output descs, in their types and, under FP16/BF16, in the reduced type assign_precision will give the
/// float32 ones: a pass must never make a layer its target refuses.
bool target_runs(const Layer& probe, std::vector<TensorDesc> in, std::vector<TensorDesc> out,
                 const BuilderConfig& config);

}  // namespace torch2trt::pattern
