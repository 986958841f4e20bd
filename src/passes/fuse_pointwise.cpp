// Fuses connected elementwise layers into one Pointwise layer: a chain or tree of Activation, Unary
// (float-valued operations), ElementWise (float arithmetic, no comparisons or logic), Scale (UNIFORM)
// and earlier Pointwise layers, joined through tensors that only the next layer reads and that are not
// network outputs. The group reads its external inputs (any number up to kMaxPointwiseInputs,
// broadcast constants included) once and writes one output, in one kernel. One-element constants
// become CONSTANT instructions instead of inputs. Casts are not absorbed, so a group has one dtype.
// A layer alone stays as it is. Runs after the pattern passes (GELU, layer norm, softmax), which need
// the unfused layers to recognise their patterns.
#include <algorithm>
#include <functional>
#include <numeric>
#include <unordered_map>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

using pattern::Uses;

// The kinds and parameters a program can express (the rest of the layer kinds never join a group).
bool fusible(const Layer* l) {
  if (l->precision_is_set() || l->num_outputs() != 1 || !is_floating(l->output(0)->dtype())) return false;
  for (const Tensor* t : l->inputs())
    if (!t || !is_floating(t->dtype())) return false;
  const LayerKind k = l->kind();
  if (k == LayerKind::kActivation || k == LayerKind::kPointwise) return true;
  if (k == LayerKind::kUnary) return !unary_outputs_bool(static_cast<const UnaryLayer*>(l)->p.op);
  if (k == LayerKind::kElementWise) {
    auto op = static_cast<const ElementWiseLayer*>(l)->p.op;
    return !elementwise_is_comparison(op) && !elementwise_is_logical(op);
  }
  if (k == LayerKind::kScale) {
    const auto& p = static_cast<const ScaleLayer*>(l)->p;
    return p.mode == ScaleMode::kUNIFORM && p.scale.count <= 1 && p.shift.count <= 1 && p.power.count <= 1;
  }
  return false;
}

// A one-element float constant read by an ElementWise becomes a CONSTANT instruction. Only when its
// rank does not exceed the other operand's (dropping it then cannot change the output shape) and the
// other operand is not such a constant too (every layer keeps a real input).
bool inlined(const Layer* l, int slot) {
  if (l->kind() != LayerKind::kElementWise) return false;
  const Tensor *t = l->input(slot), *other = l->input(1 - slot);
  return pattern::scalar_constant(t) && !pattern::scalar_constant(other) && t->dims().nb_dims <= other->dims().nb_dims;
}

int instruction_count(const Layer* l) {
  if (l->kind() == LayerKind::kPointwise) return static_cast<int>(static_cast<const PointwiseLayer*>(l)->p.program.size());
  if (l->kind() == LayerKind::kScale) {
    const auto& p = static_cast<const ScaleLayer*>(l)->p;
    return 2 * (!p.scale.empty() + !p.shift.empty() + !p.power.empty());  // a CONSTANT and an operation each
  }
  if (l->kind() == LayerKind::kElementWise) return 1 + inlined(l, 0) + inlined(l, 1);
  return 1;
}

// Tensors a layer reads from outside its program (inlined constants excluded), without repeats.
std::vector<Tensor*> external_inputs(const Layer* l) {
  std::vector<Tensor*> r;
  for (int k = 0; k < l->num_inputs(); ++k)
    if (!inlined(l, k) && std::find(r.begin(), r.end(), l->input(k)) == r.end()) r.push_back(l->input(k));
  return r;
}

// Writes a program whose operands are symbols: -(k + 1) for input k, i >= 0 for instruction i.
// finish() turns them into registers once the number of inputs is known.
class ProgramBuilder {
 public:
  int input(Tensor* t) {
    auto it = std::find(inputs_.begin(), inputs_.end(), t);
    if (it == inputs_.end()) it = inputs_.insert(inputs_.end(), t);
    return -static_cast<int>(it - inputs_.begin()) - 1;
  }
  int push(PointwiseOpcode code, int32_t op, int a, int b, float alpha, float beta) {
    code_.push_back({code, op, a, b, alpha, beta});
    return static_cast<int>(code_.size()) - 1;
  }
  int constant(double v) { return push(PointwiseOpcode::kCONSTANT, 0, 0, 0, static_cast<float>(v), 0); }
  int binary(ElementWiseOperation op, int a, int b) {
    return push(PointwiseOpcode::kBINARY, static_cast<int32_t>(op), a, b, 0, 0);
  }
  const std::vector<Tensor*>& inputs() const { return inputs_; }
  PointwiseParams finish(int result) const {
    const int n = static_cast<int>(inputs_.size());
    auto reg = [n](int sym) { return sym < 0 ? -sym - 1 : n + sym; };
    PointwiseParams p;
    p.program = code_;
    for (auto& ins : p.program) {
      bool reads_a = ins.code != PointwiseOpcode::kCONSTANT, reads_b = ins.code == PointwiseOpcode::kBINARY;
      ins.a = reads_a ? reg(ins.a) : 0;
      ins.b = reads_b ? reg(ins.b) : 0;
    }
    p.result = reg(result);
    return p;
  }

 private:
  std::vector<Tensor*> inputs_;
  std::vector<PointwiseInstruction> code_;
};

// Appends layer l's computation (a fusible() layer) given the symbols of its operands; returns the
// symbol of its result.
int emit_layer(ProgramBuilder& b, const Layer* l, const std::vector<int>& ops) {
  if (l->kind() == LayerKind::kActivation) {
    const auto& p = static_cast<const ActivationLayer*>(l)->p;
    return b.push(PointwiseOpcode::kACTIVATION, static_cast<int32_t>(p.type), ops[0], 0, p.alpha, p.beta);
  }
  if (l->kind() == LayerKind::kUnary)
    return b.push(PointwiseOpcode::kUNARY, static_cast<int32_t>(static_cast<const UnaryLayer*>(l)->p.op), ops[0], 0, 0,
                  0);
  if (l->kind() == LayerKind::kElementWise) return b.binary(static_cast<const ElementWiseLayer*>(l)->p.op, ops[0], ops[1]);
  if (l->kind() == LayerKind::kScale) {
    // As the Scale kernel computes it: (x * scale + shift) ** power, with float32 weights.
    const auto& p = static_cast<const ScaleLayer*>(l)->p;
    int v = ops[0];
    if (!p.scale.empty()) v = b.binary(ElementWiseOperation::kPROD, v, b.constant(static_cast<float>(p.scale.at(0))));
    if (!p.shift.empty()) v = b.binary(ElementWiseOperation::kSUM, v, b.constant(static_cast<float>(p.shift.at(0))));
    if (!p.power.empty()) v = b.binary(ElementWiseOperation::kPOW, v, b.constant(static_cast<float>(p.power.at(0))));
    return v;
  }
  // A Pointwise: its input registers are the operands; its instructions are copied with their registers
  // renamed.
  const auto& p = static_cast<const PointwiseLayer*>(l)->p;
  std::vector<int> sym(ops.begin(), ops.end());  // register -> symbol
  for (const auto& ins : p.program) {
    int a = ins.code == PointwiseOpcode::kCONSTANT ? 0 : sym[ins.a];
    int bb = ins.code == PointwiseOpcode::kBINARY ? sym[ins.b] : 0;
    sym.push_back(b.push(ins.code, ins.op, a, bb, ins.alpha, ins.beta));
  }
  return sym[p.result];
}

std::string member_name(const Layer* l) {
  const std::string& n = l->name();
  if (l->kind() == LayerKind::kPointwise && n.size() > 5 && n.compare(0, 4, "PWN(") == 0 && n.back() == ')')
    return n.substr(4, n.size() - 5);
  return n;
}

// Replaces the group rooted at `root` (members marked in `in_group`) by one Pointwise layer.
// Returns false, leaving the network as it was, if the fused layer would not compute root's output.
bool fuse_group(Network& net, Layer* root, const std::function<bool(const Layer*)>& in_group,
                std::vector<Layer*>& dead) {
  ProgramBuilder b;
  std::unordered_map<const Layer*, int> done;
  std::vector<Layer*> order;
  std::function<int(Layer*)> emit = [&](Layer* l) -> int {
    auto it = done.find(l);
    if (it != done.end()) return it->second;
    std::vector<int> ops;
    for (int k = 0; k < l->num_inputs(); ++k) {
      Tensor* t = l->input(k);
      if (t->producer() && in_group(t->producer()))
        ops.push_back(emit(t->producer()));
      else if (inlined(l, k))
        ops.push_back(b.constant(*pattern::scalar_constant(t)));
      else
        ops.push_back(b.input(t));
    }
    int r = emit_layer(b, l, ops);
    order.push_back(l);
    return done[l] = r;
  };
  PointwiseParams p = b.finish(emit(root));
  std::string name = "PWN(";
  for (size_t i = 0; i < order.size(); ++i) name += (i ? ", " : "") + member_name(order[i]);
  name += ")";
  PointwiseLayer* pw;
  try {
    pw = add_pointwise(net, b.inputs(), p);
  } catch (const InvalidArgument&) {
    // The counts in fuse_pointwise keep groups within the limits; should a group still be refused,
    // leaving it unfused is better than failing the build.
    return false;
  }
  Tensor* y = root->output(0);
  if (pw->output(0)->dtype() != y->dtype() || pw->output(0)->dims() != y->dims()) {
    net.remove_layers({pw});
    return false;
  }
  pw->set_name(name);
  pattern::replace_result(net, y, pw->output(0));
  dead.insert(dead.end(), order.begin(), order.end());
  return true;
}

}  // namespace

int fuse_pointwise(Network& net, const BuilderConfig&) {
  const int n = net.num_layers();
  Uses uses(net);
  // Union-find over layer positions; each group is a tree whose root is its last layer.
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  std::function<int(int)> find = [&](int i) { return parent[i] == i ? i : parent[i] = find(parent[i]); };
  std::vector<int> instructions(n, 0), size(n, 1);
  std::vector<std::vector<Tensor*>> inputs(n);
  std::vector<bool> ok(n, false);
  for (int i = 0; i < n; ++i) {
    const Layer* l = net.layer(i);
    if (!fusible(l)) continue;
    ok[i] = true;
    instructions[i] = instruction_count(l);
    inputs[i] = external_inputs(l);
  }
  for (int i = 0; i < n; ++i) {
    if (!ok[i]) continue;
    Layer* c = net.layer(i);
    for (Tensor* t : external_inputs(c)) {
      Layer* prod = t->producer();
      if (!prod || !ok[prod->index()] || !uses.only_by(t, c)) continue;
      int gp = find(prod->index()), gc = find(i);
      if (gp == gc) continue;
      std::vector<Tensor*> merged;
      for (Tensor* x : inputs[gc])
        if (x != t) merged.push_back(x);
      for (Tensor* x : inputs[gp])
        if (std::find(merged.begin(), merged.end(), x) == merged.end()) merged.push_back(x);
      int count = instructions[gc] + instructions[gp];
      if (static_cast<int>(merged.size()) > kMaxPointwiseInputs || count > kMaxPointwiseInstructions) continue;
      parent[gp] = gc;
      inputs[gc] = std::move(merged);
      instructions[gc] = count;
      size[gc] += size[gp];
    }
  }
  // Roots are rewritten in network order, so a group reads the fused outputs of the groups before it.
  std::vector<Layer*> roots;
  for (int i = 0; i < n; ++i)
    if (ok[i] && find(i) == i && size[i] > 1) roots.push_back(net.layer(i));
  std::vector<Layer*> dead;
  int fused = 0;
  for (Layer* root : roots) {
    const int r = root->index();
    auto in_group = [&](const Layer* l) { return l->index() < n && ok[l->index()] && find(l->index()) == r; };
    fused += fuse_group(net, root, in_group, dead);
  }
  if (!dead.empty()) {
    net.remove_layers(dead);
    net.topo_sort();
  }
  return fused;
}

}  // namespace torch2trt
