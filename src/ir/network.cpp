#include "torch2trt/network.h"

#include <algorithm>
#include <set>

#include "torch2trt/layers/all.h"

namespace torch2trt {

const char* layer_kind_name(LayerKind k) {
  switch (k) {
#define T2T_LAYER(Name, family) \
  case LayerKind::k##Name:      \
    return #Name;
#include "torch2trt/layers.def"
#undef T2T_LAYER
  }
  return "Unknown";
}

std::unique_ptr<Layer> make_layer(LayerKind k) {
  switch (k) {
#define T2T_LAYER(Name, family) \
  case LayerKind::k##Name:      \
    return std::make_unique<Name##Layer>();
#include "torch2trt/layers.def"
#undef T2T_LAYER
  }
  throw EngineFormatError("unknown layer kind " + std::to_string(static_cast<int>(k)));
}

void Tensor::set_dtype(DataType t) {
  if (!is_input_) throw InvalidArgument("tensor '" + name_ + "': only a network input's dtype can be set");
  auto old = desc_.dtype;
  desc_.dtype = t;
  try {
    network_->reinfer();
  } catch (...) {
    desc_.dtype = old;
    network_->reinfer();
    throw;
  }
}

void Tensor::set_dims(const Dims& d) {
  if (!is_input_) throw InvalidArgument("tensor '" + name_ + "': only a network input's shape can be set");
  auto old = desc_.dims;
  desc_.dims = d;
  try {
    network_->reinfer();
  } catch (...) {
    desc_.dims = old;
    network_->reinfer();
    throw;
  }
}

Tensor* Layer::input(int i) const {
  if (i < 0 || i >= num_inputs())
    throw InvalidArgument(std::string(layer_kind_name(kind_)) + " layer '" + name_ + "': input index " +
                          std::to_string(i) + " out of range (it has " + std::to_string(num_inputs()) + ")");
  return inputs_[i];
}

Tensor* Layer::output(int i) const {
  if (i < 0 || i >= num_outputs())
    throw InvalidArgument(std::string(layer_kind_name(kind_)) + " layer '" + name_ + "': output index " +
                          std::to_string(i) + " out of range (it has " + std::to_string(num_outputs()) + ")");
  return outputs_[i];
}

void Layer::fail(const std::string& argument, const std::string& message) const {
  std::string who = std::string(layer_kind_name(kind_)) + " layer";
  if (!name_.empty()) who += " '" + name_ + "'";
  throw InvalidArgument(who + ": " + argument + ": " + message);
}

std::vector<TensorDesc> Layer::input_descs() const {
  std::vector<TensorDesc> r;
  r.reserve(inputs_.size());
  for (auto* t : inputs_) {
    if (t) {
      r.push_back(t->desc());
    } else {
      TensorDesc d;
      d.dims.nb_dims = -1;
      r.push_back(d);
    }
  }
  return r;
}

void Layer::set_input(int i, Tensor* t) {
  if (i < 0 || i > num_inputs())
    fail("set_input", "index " + std::to_string(i) + " out of range (the layer has " + std::to_string(num_inputs()) +
                          " inputs; an index equal to that appends one)");
  if (t && t->network() != network_) fail("set_input", "the tensor belongs to another network");
  if (t && t->producer() && t->producer()->index() >= index_)
    fail("set_input", "tensor '" + t->name() + "' is produced by a later layer; the network must stay acyclic");
  bool append = i == num_inputs();
  Tensor* old = append ? nullptr : inputs_[i];
  if (append)
    inputs_.push_back(t);
  else
    inputs_[i] = t;
  changed([&] {
    if (append)
      inputs_.pop_back();
    else
      inputs_[i] = old;
  });
}

void Layer::changed(const std::function<void()>& undo) {
  if (!network_) return;
  try {
    network_->reinfer(index_);
  } catch (...) {
    undo();
    network_->reinfer(index_);
    throw;
  }
}

Tensor* Network::new_tensor() {
  tensors_.push_back(std::make_unique<Tensor>());
  Tensor* t = tensors_.back().get();
  t->network_ = this;
  t->index_ = static_cast<int>(tensors_.size()) - 1;
  return t;
}

Tensor* Network::add_input(const std::string& name, DataType t, const Dims& dims) {
  if (name.empty()) throw InvalidArgument("add_input: name must not be empty");
  if (find_io(name)) throw InvalidArgument("add_input: a network input or output is already named '" + name + "'");
  if (dims.nb_dims < 0 || dims.nb_dims > kMaxDims)
    throw InvalidArgument("add_input '" + name + "': rank must be 0.." + std::to_string(kMaxDims));
  for (int i = 0; i < dims.nb_dims; ++i)
    if (dims.d[i] < -1)
      throw InvalidArgument("add_input '" + name + "': shape " + dims.str() +
                            " has a negative extent; use -1 for an extent known only at run time");
  Tensor* x = new_tensor();
  x->name_ = name;
  x->desc_ = {t, dims};
  x->is_input_ = true;
  inputs_.push_back(x);
  return x;
}

void Network::mark_output(Tensor* t) {
  if (!t || t->network_ != this) throw InvalidArgument("mark_output: the tensor does not belong to this network");
  if (t->is_output_) return;
  t->is_output_ = true;
  outputs_.push_back(t);
}

void Network::unmark_output(Tensor* t) {
  if (!t || !t->is_output_) throw InvalidArgument("unmark_output: the tensor is not a network output");
  t->is_output_ = false;
  outputs_.erase(std::find(outputs_.begin(), outputs_.end(), t));
}

Layer* Network::add_layer(std::unique_ptr<Layer> layer, const std::vector<Tensor*>& inputs, const char* what) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor* t = inputs[i];
    if (t && t->network_ != this)
      throw InvalidArgument(std::string(what) + ": input " + std::to_string(i) + " belongs to another network");
  }
  layer->inputs_ = inputs;
  layer->network_ = this;
  layer->index_ = num_layers();
  if (layer->name_.empty())
    layer->name_ = std::string(layer_kind_name(layer->kind())) + "_" + std::to_string(name_counter_++);
  std::vector<TensorDesc> out;
  try {
    out = layer->infer(layer->input_descs());
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(std::string(what) + ": " + e.what());
  }
  for (size_t i = 0; i < out.size(); ++i) {
    Tensor* t = new_tensor();
    t->desc_ = out[i];
    t->producer_ = layer.get();
    t->producer_index_ = static_cast<int>(i);
    t->name_ = layer->name_ + "_output_" + std::to_string(i);
    layer->outputs_.push_back(t);
  }
  layers_.push_back(std::move(layer));
  return layers_.back().get();
}

Layer* Network::layer(int i) const {
  if (i < 0 || i >= num_layers())
    throw InvalidArgument("layer index " + std::to_string(i) + " out of range (" + std::to_string(num_layers()) + " layers)");
  return layers_[i].get();
}
Tensor* Network::input(int i) const {
  if (i < 0 || i >= num_inputs())
    throw InvalidArgument("input index " + std::to_string(i) + " out of range (" + std::to_string(num_inputs()) + " inputs)");
  return inputs_[i];
}
Tensor* Network::output(int i) const {
  if (i < 0 || i >= num_outputs())
    throw InvalidArgument("output index " + std::to_string(i) + " out of range (" + std::to_string(num_outputs()) + " outputs)");
  return outputs_[i];
}

Tensor* Network::find_io(const std::string& name) const {
  for (auto* t : inputs_)
    if (t->name_ == name) return t;
  for (auto* t : outputs_)
    if (t->name_ == name) return t;
  return nullptr;
}

std::vector<Layer*> Network::consumers(const Tensor* t) const {
  std::vector<Layer*> r;
  for (auto& l : layers_)
    for (auto* x : l->inputs_)
      if (x == t) {
        r.push_back(l.get());
        break;
      }
  return r;
}

void Network::reinfer(int from) {
  for (int i = std::max(from, 0); i < num_layers(); ++i) {
    Layer* l = layers_[i].get();
    auto out = l->infer(l->input_descs());
    if (out.size() != l->outputs_.size())
      l->fail("outputs", "the layer now has " + std::to_string(out.size()) + " outputs instead of " +
                             std::to_string(l->outputs_.size()));
    for (size_t k = 0; k < out.size(); ++k) l->outputs_[k]->desc_ = out[k];
  }
}

void Network::validate() const {
  if (outputs_.empty()) throw InvalidArgument("the network has no outputs: mark at least one with mark_output");
  std::set<std::string> names;
  for (auto* t : inputs_)
    if (!names.insert(t->name_).second) throw InvalidArgument("two network inputs are named '" + t->name_ + "'");
  for (auto* t : outputs_) {
    if (t->is_input_) continue;
    if (!names.insert(t->name_).second)
      throw InvalidArgument("network input/output name '" + t->name_ + "' is used twice; rename one output");
  }
  std::set<const Tensor*> defined(inputs_.begin(), inputs_.end());
  for (auto& l : layers_) {
    for (size_t i = 0; i < l->inputs_.size(); ++i) {
      auto* t = l->inputs_[i];
      if (t && !defined.count(t))
        l->fail("input " + std::to_string(i), "tensor '" + t->name_ + "' is not produced before this layer");
    }
    for (auto* t : l->outputs_) defined.insert(t);
  }
  const_cast<Network*>(this)->reinfer();
}

void Network::replace_uses(Tensor* from, Tensor* to) {
  for (auto& l : layers_)
    for (auto*& x : l->inputs_)
      if (x == from) x = to;
  if (from->is_output_) {
    std::string n = from->name_;
    unmark_output(from);
    if (to->is_output_ || to->is_input_) {
      throw InvalidArgument("replace_uses: output '" + n + "' would alias another network input/output");
    }
    from->name_ = n + "_replaced";
    to->name_ = n;
    mark_output(to);
  }
}

void Network::remove_layers(const std::vector<Layer*>& dead) {
  std::set<const Layer*> d(dead.begin(), dead.end());
  std::set<const Tensor*> gone;
  for (auto* l : dead)
    for (auto* t : l->outputs_) gone.insert(t);
  for (auto& l : layers_)
    if (!d.count(l.get()))
      for (auto* t : l->inputs_)
        if (gone.count(t)) throw InvalidArgument("remove_layers: tensor '" + t->name_ + "' is still used");
  for (auto* t : outputs_)
    if (gone.count(t)) throw InvalidArgument("remove_layers: tensor '" + t->name_ + "' is a network output");
  layers_.erase(std::remove_if(layers_.begin(), layers_.end(), [&](auto& l) { return d.count(l.get()) > 0; }),
                layers_.end());
  tensors_.erase(std::remove_if(tensors_.begin(), tensors_.end(), [&](auto& t) { return gone.count(t.get()) > 0; }),
                 tensors_.end());
  set_index();
}

void Network::replace_output(Tensor* from, Tensor* to) {
  auto it = std::find(outputs_.begin(), outputs_.end(), from);
  if (it == outputs_.end()) throw InvalidArgument("replace_output: '" + from->name_ + "' is not a network output");
  if (to->is_output_ || to->is_input_) throw InvalidArgument("replace_output: the new tensor is already a network input/output");
  *it = to;
  from->is_output_ = false;
  to->is_output_ = true;
  std::string name = from->name_;
  from->name_ = name + "_inner";
  to->name_ = name;
}

void Network::topo_sort() {
  std::set<const Tensor*> ready(inputs_.begin(), inputs_.end());
  std::vector<std::unique_ptr<Layer>> order;
  std::vector<bool> placed(layers_.size(), false);
  while (order.size() < layers_.size()) {
    bool progress = false;
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (placed[i]) continue;
      bool ok = true;
      for (auto* t : layers_[i]->inputs_) ok = ok && (!t || ready.count(t));
      if (!ok) continue;
      for (auto* t : layers_[i]->outputs_) ready.insert(t);
      placed[i] = true;
      order.push_back(std::move(layers_[i]));
      progress = true;
    }
    if (!progress) throw InvalidArgument("the network has a cycle or a layer input that nothing produces");
  }
  layers_ = std::move(order);
  set_index();
}

void Network::set_index() {
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->index_ = static_cast<int>(i);
  for (size_t i = 0; i < tensors_.size(); ++i) tensors_[i]->index_ = static_cast<int>(i);
}

// Layout: tensors (name, dtype, dims, flags), inputs, outputs, layers (kind, name, precision, inputs,
// outputs, params). Tensors are referenced by index; -1 is an unset optional input.
void Network::save(Writer& w) const {
  const_cast<Network*>(this)->set_index();
  w.put(static_cast<uint64_t>(tensors_.size()));
  for (auto& t : tensors_) {
    w.put_all(t->name_, t->desc_.dtype, t->desc_.dims, t->has_range_, t->range_lo_, t->range_hi_);
  }
  std::vector<int32_t> ins, outs;
  for (auto* t : inputs_) ins.push_back(t->index_);
  for (auto* t : outputs_) outs.push_back(t->index_);
  w.put_all(ins, outs);
  w.put(static_cast<uint64_t>(layers_.size()));
  for (auto& l : layers_) {
    w.put_all(l->kind_, l->name_, l->precision_set_, l->precision_, l->tactic_);
    std::vector<int32_t> li, lo;
    for (auto* t : l->inputs_) li.push_back(t ? t->index_ : -1);
    for (auto* t : l->outputs_) lo.push_back(t->index_);
    w.put_all(li, lo);
    l->save(w);
  }
}

std::unique_ptr<Network> Network::load(Reader& r) {
  auto net = std::make_unique<Network>();
  uint64_t nt;
  r.get(nt);
  if (nt > r.remaining()) r.bad("a tensor count larger than the section");
  for (uint64_t i = 0; i < nt; ++i) {
    Tensor* t = net->new_tensor();
    int32_t dt;
    r.get_all(t->name_, dt, t->desc_.dims, t->has_range_, t->range_lo_, t->range_hi_);
    if (!is_valid_dtype(dt)) r.bad("an unknown tensor data type " + std::to_string(dt));
    t->desc_.dtype = static_cast<DataType>(dt);
  }
  auto tensor_at = [&](int32_t i) -> Tensor* {
    if (i < 0 || static_cast<uint64_t>(i) >= nt) r.bad("a tensor index out of range");
    return net->tensors_[i].get();
  };
  std::vector<int32_t> ins, outs;
  r.get_all(ins, outs);
  for (auto i : ins) {
    Tensor* t = tensor_at(i);
    t->is_input_ = true;
    net->inputs_.push_back(t);
  }
  uint64_t nl;
  r.get(nl);
  if (nl > r.remaining()) r.bad("a layer count larger than the section");
  std::set<const Tensor*> produced(net->inputs_.begin(), net->inputs_.end());
  for (uint64_t i = 0; i < nl; ++i) {
    int32_t kind;
    r.get(kind);
    if (kind < 0 || kind >= kNumLayerKinds) r.bad("an unknown layer kind " + std::to_string(kind));
    auto l = make_layer(static_cast<LayerKind>(kind));
    int32_t prec;
    r.get_all(l->name_, l->precision_set_, prec, l->tactic_);
    if (!is_valid_dtype(prec)) r.bad("an unknown layer precision");
    if (l->tactic_ < -1) r.bad("a layer tactic of " + std::to_string(l->tactic_));
    l->precision_ = static_cast<DataType>(prec);
    std::vector<int32_t> li, lo;
    r.get_all(li, lo);
    for (auto x : li) {
      Tensor* t = x == -1 ? nullptr : tensor_at(x);
      if (t && !produced.count(t)) r.bad("a layer input that is not produced before it");
      l->inputs_.push_back(t);
    }
    for (auto x : lo) {
      Tensor* t = tensor_at(x);
      if (produced.count(t) || t->producer_) r.bad("a tensor produced twice");
      t->producer_ = l.get();
      t->producer_index_ = static_cast<int>(l->outputs_.size());
      l->outputs_.push_back(t);
      produced.insert(t);
    }
    l->network_ = net.get();
    l->index_ = static_cast<int>(net->layers_.size());
    l->load(r);
    net->layers_.push_back(std::move(l));
  }
  for (auto i : outs) {
    Tensor* t = tensor_at(i);
    if (!produced.count(t)) r.bad("a network output that nothing produces");
    t->is_output_ = true;
    net->outputs_.push_back(t);
  }
  // Shapes and parameters are re-validated by the same rules that built them.
  try {
    net->reinfer();
  } catch (const InvalidArgument& e) {
    throw EngineFormatError(std::string("engine data is corrupt: a layer fails validation (") + e.what() +
                            "); rebuild the engine with torch2trt.torch2trt");
  }
  return net;
}

std::unique_ptr<Network> Network::clone() const {
  Writer w;
  save(w);
  Reader r(w.buf.data(), w.buf.size(), &w.blobs);
  auto n = load(r);
  n->name_counter_ = name_counter_;
  return n;
}

}  // namespace torch2trt
