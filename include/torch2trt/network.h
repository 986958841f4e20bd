// Network definition: tensors, typed layers and the network that owns them (TensorRT's INetworkDefinition).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "torch2trt/serialize.h"
#include "torch2trt/types.h"

namespace torch2trt {

/// Every layer kind, generated from layers.def.
enum class LayerKind : int32_t {
#define T2T_LAYER(Name, family) k##Name,
#include "torch2trt/layers.def"
#undef T2T_LAYER
};

/// Number of layer kinds.
constexpr int kNumLayerKinds = 0
#define T2T_LAYER(Name, family) +1
#include "torch2trt/layers.def"
#undef T2T_LAYER
    ;

/// "Convolution", "ElementWise", ... for a kind.
const char* layer_kind_name(LayerKind k);

class Layer;
class Network;

/// Data type and shape of a tensor, the unit of shape rules.
struct TensorDesc {
  DataType dtype = DataType::kFLOAT;
  Dims dims;
};

/// A value flowing between layers; owned by its Network.
class Tensor {
 public:
  /// Tensor name (unique in the network once built).
  const std::string& name() const { return name_; }
  void set_name(const std::string& n) { name_ = n; }
  DataType dtype() const { return desc_.dtype; }
  const Dims& dims() const { return desc_.dims; }
  const TensorDesc& desc() const { return desc_; }
  /// Changes the type/shape of a network input (re-runs every shape rule); throws for other tensors.
  void set_dtype(DataType t);
  void set_dims(const Dims& d);
  bool is_input() const { return is_input_; }
  bool is_output() const { return is_output_; }
  /// Layer that produces this tensor (null for inputs) and which of its outputs it is.
  Layer* producer() const { return producer_; }
  int producer_index() const { return producer_index_; }
  Network* network() const { return network_; }
  /// Dynamic range for int8 (kept for API compatibility; stored in the engine).
  void set_dynamic_range(float lo, float hi) { range_lo_ = lo, range_hi_ = hi, has_range_ = true; }
  /// Position of this tensor in the network's tensor list.
  int index() const { return index_; }

 private:
  friend class Network;
  friend class Layer;
  std::string name_;
  TensorDesc desc_;
  bool is_input_ = false, is_output_ = false, has_range_ = false;
  float range_lo_ = 0, range_hi_ = 0;
  Layer* producer_ = nullptr;
  int producer_index_ = 0;
  Network* network_ = nullptr;
  int index_ = 0;
};

/// Base of every layer. A kind's class holds a typed parameter struct `p`, its shape rule and its serializer.
class Layer {
 public:
  explicit Layer(LayerKind k) : kind_(k) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  LayerKind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  void set_name(const std::string& n) { name_ = n; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  /// Input i (may be null for an optional input left unset).
  Tensor* input(int i) const;
  Tensor* output(int i) const;
  const std::vector<Tensor*>& inputs() const { return inputs_; }
  const std::vector<Tensor*>& outputs() const { return outputs_; }
  /// Replaces (or appends, when i == num_inputs()) input i and re-runs the shape rules.
  void set_input(int i, Tensor* t);
  Network* network() const { return network_; }
  /// Position of this layer in its network.
  int index() const { return index_; }

  /// Requested compute precision (TensorRT's ILayer.precision); unset means the builder chooses.
  bool precision_is_set() const { return precision_set_; }
  DataType precision() const { return precision_; }
  void set_precision(DataType t) { precision_ = t, precision_set_ = true; }
  void reset_precision() { precision_set_ = false; }
  /// The implementation the builder's timing chose for this layer (a kernel-defined id, see
  /// Kernel::tactics), or -1 for the kernel's default. Stored in engine files.
  int64_t tactic() const { return tactic_; }
  void set_tactic(int64_t t) { tactic_ = t; }

  /// The shape rule: validates parameters against the inputs and returns the outputs' type and shape.
  /// Called when the layer is added or changed (dims may hold -1) and at run time with concrete dims.
  /// Throws InvalidArgument (through fail()) naming the argument and the shapes.
  virtual std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const = 0;
  /// Writes / reads the parameters (see T2T_SERIALIZE_FIELDS).
  virtual void save(Writer& w) const = 0;
  virtual void load(Reader& r) = 0;

  /// Throws InvalidArgument: "<Kind> layer '<name>': <argument>: <message>".
  [[noreturn]] void fail(const std::string& argument, const std::string& message) const;
  /// Re-validates this layer (and everything downstream when its outputs change) after a parameter change.
  /// `undo` restores the old value when the new one is invalid, then the error is rethrown.
  void changed(const std::function<void()>& undo);

  /// Descriptions of the current inputs (unset optional inputs give an empty desc with nb_dims = -1).
  std::vector<TensorDesc> input_descs() const;

 private:
  friend class Network;
  LayerKind kind_;
  std::string name_;
  std::vector<Tensor*> inputs_;
  std::vector<Tensor*> outputs_;
  Network* network_ = nullptr;
  int index_ = 0;
  bool precision_set_ = false;
  DataType precision_ = DataType::kFLOAT;
  int64_t tactic_ = -1;
};

/// Creates an empty layer object of kind k (for the engine reader).
std::unique_ptr<Layer> make_layer(LayerKind k);

/// A network definition: inputs, layers in topological (insertion) order, marked outputs.
class Network {
 public:
  Network() = default;
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  /// Adds an input; dims may hold -1 for extents given at run time.
  Tensor* add_input(const std::string& name, DataType t, const Dims& dims);
  /// Marks a tensor as a network output.
  void mark_output(Tensor* t);
  void unmark_output(Tensor* t);

  /// Adds a layer that the caller has filled with parameters: checks the inputs, runs its shape rule
  /// and creates its outputs. On error nothing is added. `what` names the call for messages ("add_activation").
  template <class L>
  L* add(std::unique_ptr<L> layer, const std::vector<Tensor*>& inputs, const char* what) {
    L* raw = layer.get();
    add_layer(std::move(layer), inputs, what);
    return raw;
  }
  Layer* add_layer(std::unique_ptr<Layer> layer, const std::vector<Tensor*>& inputs, const char* what);
  /// Removes a layer whose outputs are unused (for builder passes); returns false if any output is used.
  void remove_layers(const std::vector<Layer*>& dead);

  int num_layers() const { return static_cast<int>(layers_.size()); }
  Layer* layer(int i) const;
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  Tensor* input(int i) const;
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  Tensor* output(int i) const;
  int num_tensors() const { return static_cast<int>(tensors_.size()); }
  Tensor* tensor(int i) const { return tensors_[i].get(); }
  /// Finds an input or output by name (null if none).
  Tensor* find_io(const std::string& name) const;
  /// Layers that read tensor t.
  std::vector<Layer*> consumers(const Tensor* t) const;

  /// Re-runs every shape rule from layer `from` on; throws on the first layer that fails.
  void reinfer(int from = 0);
  /// Checks the whole network: unique I/O names, outputs marked, every layer valid.
  void validate() const;
  /// Replaces every use of tensor `from` by `to` (for builder passes).
  void replace_uses(Tensor* from, Tensor* to);
  /// Points input i of `l` at `t` without re-running shape rules (for passes: follow with topo_sort + reinfer).
  void rewire_input(Layer* l, int i, Tensor* t) { l->inputs_.at(i) = t; }
  /// Makes `to` the network output in `from`'s place (same position and name); `from` stays an internal tensor.
  void replace_output(Tensor* from, Tensor* to);
  /// Reorders layers so each comes after the producers of its inputs (stable; for passes that add layers).
  void topo_sort();

  /// Serializes / parses the network (tensors, layers, weights) — see docs/engine-format.md.
  void save(Writer& w) const;
  static std::unique_ptr<Network> load(Reader& r);
  /// A deep copy, made through save/load.
  std::unique_ptr<Network> clone() const;

 private:
  Tensor* new_tensor();
  void set_index();
  std::vector<std::unique_ptr<Tensor>> tensors_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor*> inputs_;
  std::vector<Tensor*> outputs_;
  int name_counter_ = 0;
};

}  // namespace torch2trt
