// Merges a chain of Shuffle layers (each the only reader of the one before) into one Shuffle when that moves
// less data. A Shuffle costs one copy per transpose that reorders elements (a reshape, or a transpose that
// only moves unit axes, is free: the runtime aliases it). So `transpose (N,H,W,C)->(N,C,H,W)`, `reshape
// (N,C,H*W)`, `transpose -> (N,H*W,C)` -- convolution_to_matmul's output followed by ViT's
// flatten(2).transpose(1, 2) -- costs two copies, yet is a pure reshape of (N,H,W,C): none.
//
// The composition is tracked exactly on static shapes with "atoms": the input's axes split into factors as
// far as the reshapes need, each atom a run of elements contiguous in the input's memory order. A transpose
// permutes the atoms; a reshape regroups consecutive atoms (splitting one when an extent falls inside it).
// The chain is then one Shuffle when the atoms end up:
//   - in input order: a reshape;
//   - with every input axis's atoms together and in order: a first transpose of the input axes + a reshape;
//   - with every output axis's atoms together and in order in the input: a reshape + a second transpose.
// Anything else (a reshape that cuts across atoms, both ends permuted) is left as it is.
//
// Only merges that lower the copy count are made: a chain that already costs no more than its merged form
// keeps its layers, so the patterns other passes look for (fuse_attention's heads swaps) stay intact.
#include <algorithm>

#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

struct Atom {
  int64_t extent;
  int input_axis;
};

// The composition of transposes and reshapes applied to a static input, as atoms.
class AtomTracker {
 public:
  // Fails (returns false from ok()) on empty or dynamic inputs.
  explicit AtomTracker(const Dims& in) : axes_(in.nb_dims) {
    ok_ = in.is_static() && in.volume() > 0;
    for (int i = 0; ok_ && i < in.nb_dims; ++i) {
      if (in.d[i] == 1) continue;  // unit axes carry no order
      axes_[i] = {static_cast<int>(atoms_.size())};
      source_.push_back(static_cast<int>(atoms_.size()));
      atoms_.push_back({in.d[i], i});
    }
  }
  bool ok() const { return ok_; }

  void transpose(const std::vector<int32_t>& perm) {
    if (!ok_ || perm.size() != axes_.size()) {
      ok_ = false;
      return;
    }
    std::vector<std::vector<int>> a(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) a[i] = axes_[perm[i]];
    axes_ = std::move(a);
  }

  void reshape(const Dims& out) {
    if (!ok_) return;
    std::vector<int> flat;
    for (auto& a : axes_) flat.insert(flat.end(), a.begin(), a.end());
    std::vector<std::vector<int>> axes(out.nb_dims);
    size_t at = 0;
    for (int i = 0; i < out.nb_dims && ok_; ++i) {
      int64_t need = out.d[i];
      while (need > 1 && ok_) {
        if (at >= flat.size()) {
          ok_ = false;
          break;
        }
        const int64_t a = atoms_[flat[at]].extent;
        if (need % a == 0) {
          axes[i].push_back(flat[at++]);
          need /= a;
        } else if (a % need == 0) {  // the axis ends inside this atom: split it into (need, a / need)
          int hi = split(flat[at], need);
          axes[i].push_back(hi);
          flat[at] = hi + 1;
          need = 1;
        } else {
          ok_ = false;  // the boundary falls across atoms in a way factors cannot express
        }
      }
    }
    if (at != flat.size()) ok_ = false;
    axes_ = std::move(axes);
  }

  /// The atoms of each current axis.
  const std::vector<std::vector<int>>& axes() const { return axes_; }
  /// Every atom, in the input's memory order.
  const std::vector<int>& source() const { return source_; }
  const Atom& atom(int id) const { return atoms_[id]; }
  /// Position of an atom in source().
  int source_position(int id) const {
    return static_cast<int>(std::find(source_.begin(), source_.end(), id) - source_.begin());
  }

 private:
  // Splits atom `id` into a high part of extent `hi_extent` (the returned id) and a low part (that id + 1).
  int split(int id, int64_t hi_extent) {
    const Atom a = atoms_[id];
    const int hi = static_cast<int>(atoms_.size());
    atoms_.push_back({hi_extent, a.input_axis});
    atoms_.push_back({a.extent / hi_extent, a.input_axis});
    auto pos = std::find(source_.begin(), source_.end(), id);
    pos = source_.erase(pos);
    source_.insert(pos, {hi, hi + 1});
    return hi;
  }

  std::vector<Atom> atoms_;
  std::vector<int> source_;
  std::vector<std::vector<int>> axes_;
  bool ok_ = true;
};

// One Shuffle, resolved on its static input: first transpose, the reshaped dims, second transpose.
struct ShuffleSteps {
  std::vector<int32_t> first, second;
  Dims reshaped;
  int copies = 0;  // transposes that reorder elements
};

ShuffleSteps steps_of(const ShuffleLayer* s) {
  ShuffleSteps r;
  const Dims& in = s->input(0)->dims();
  const Dims& out = s->output(0)->dims();
  r.first = expand_permutation(*s, s->p.first_transpose, in.nb_dims, "first_transpose");
  r.second = expand_permutation(*s, s->p.second_transpose, out.nb_dims, "second_transpose");
  r.reshaped = out;  // out[i] = reshaped[second[i]]
  for (int i = 0; i < out.nb_dims; ++i) r.reshaped.d[r.second[i]] = out.d[i];
  r.copies = !permutation_keeps_order(in, r.first) + !permutation_keeps_order(r.reshaped, r.second);
  return r;
}

// A Shuffle that can join a chain: static, unpinned, its shape read from its attributes or a constant.
bool mergeable(const Layer* l) {
  if (!l || l->kind() != LayerKind::kShuffle || l->precision_is_set() || l->num_outputs() != 1) return false;
  return l->input(0)->dims().is_static() && l->output(0)->dims().is_static();
}

// The Shuffle that alone reads s's output, when the two can be merged.
ShuffleLayer* next_in_chain(const Layer* s, const pattern::Uses& uses) {
  const Tensor* y = s->output(0);
  const auto& readers = uses.of(y);
  if (readers.empty() || !uses.only_by(y, readers[0]) || !mergeable(readers[0]) || readers[0]->input(0) != y)
    return nullptr;
  for (int i = 1; i < readers[0]->num_inputs(); ++i)
    if (readers[0]->input(i) == y) return nullptr;  // y is also its shape tensor
  return static_cast<ShuffleLayer*>(readers[0]);
}

// The parameters of one Shuffle doing what `chain` does, when there is one; `copies` gets its cost.
bool merged_params(const std::vector<ShuffleLayer*>& chain, ShuffleParams* p, int* copies) {
  const Dims& in = chain.front()->input(0)->dims();
  const Dims& out = chain.back()->output(0)->dims();
  AtomTracker t(in);
  for (const ShuffleLayer* s : chain) {
    ShuffleSteps st = steps_of(s);
    t.transpose(st.first);
    t.reshape(st.reshaped);
    t.transpose(st.second);
  }
  if (!t.ok()) return false;
  std::vector<int> order;  // the atoms in the output's memory order
  for (auto& a : t.axes()) order.insert(order.end(), a.begin(), a.end());
  *p = ShuffleParams();
  p->has_reshape = true;
  p->zero_is_placeholder = false;
  if (order == t.source()) {
    p->reshape_dims = out;
    *copies = 0;
    return true;
  }
  // A first transpose of the input axes: each input axis's atoms consecutive and in order in `order`.
  {
    std::vector<std::vector<int>> of_axis(in.nb_dims);  // each input axis's atoms, in source order
    for (int id : t.source()) of_axis[t.atom(id).input_axis].push_back(id);
    std::vector<int32_t> perm;
    bool fits = true;
    for (size_t i = 0; i < order.size() && fits;) {
      const int axis = t.atom(order[i]).input_axis;
      const auto& want = of_axis[axis];
      fits = std::find(perm.begin(), perm.end(), axis) == perm.end() && i + want.size() <= order.size() &&
             std::equal(want.begin(), want.end(), order.begin() + static_cast<std::ptrdiff_t>(i));
      perm.push_back(axis);
      i += want.size();
    }
    for (int i = 0; fits && i < in.nb_dims; ++i)
      if (of_axis[i].empty()) perm.push_back(i);  // unit axes: anywhere
    if (fits) {
      p->first_transpose = perm;
      p->reshape_dims = out;
      *copies = !permutation_keeps_order(in, perm);
      return true;
    }
  }
  // A second transpose of the output axes: each output axis's atoms consecutive and in order in source().
  {
    std::vector<std::pair<int, int>> keyed;  // (source position of the first atom, output axis)
    std::vector<int> units;
    bool fits = true;
    for (int i = 0; i < out.nb_dims && fits; ++i) {
      const auto& a = t.axes()[i];
      if (a.empty()) {
        units.push_back(i);
        continue;
      }
      const int first = t.source_position(a[0]);
      for (size_t k = 1; k < a.size() && fits; ++k) fits = t.source_position(a[k]) == first + static_cast<int>(k);
      keyed.push_back({first, i});
    }
    if (fits) {
      std::sort(keyed.begin(), keyed.end());
      std::vector<int> m;  // the output axes in the order the input holds them
      for (auto& k : keyed) m.push_back(k.second);
      m.insert(m.end(), units.begin(), units.end());
      Dims md;
      md.nb_dims = out.nb_dims;
      std::vector<int32_t> second(out.nb_dims);
      for (int j = 0; j < out.nb_dims; ++j) {
        md.d[j] = out.d[m[j]];
        second[m[j]] = j;
      }
      p->reshape_dims = md;
      p->second_transpose = second;
      *copies = !permutation_keeps_order(md, second);
      return true;
    }
  }
  return false;
}

}  // namespace

int merge_shuffles(Network& net, const BuilderConfig&) {
  pattern::Rewrites rw(net);
  const int layers = net.num_layers();
  for (int li = 0; li < layers; ++li) {
    Layer* head = net.layer(li);
    if (rw.gone(head) || !mergeable(head)) continue;
    // Start at the head of a chain: its input is not the output of a Shuffle it would extend.
    const Layer* before = head->input(0)->producer();
    if (before && mergeable(before) && next_in_chain(before, rw.uses()) == head) continue;
    std::vector<ShuffleLayer*> chain = {static_cast<ShuffleLayer*>(head)};
    while (ShuffleLayer* n = next_in_chain(chain.back(), rw.uses())) chain.push_back(n);
    std::vector<int> cost(chain.size());
    for (size_t i = 0; i < chain.size(); ++i) cost[i] = steps_of(chain[i]).copies;
    // Greedily, from the front: the longest run starting at i that merges into something cheaper.
    for (size_t i = 0; i + 1 < chain.size();) {
      size_t merged_to = i;
      for (size_t j = chain.size() - 1; j > i; --j) {
        std::vector<ShuffleLayer*> run(chain.begin() + i, chain.begin() + j + 1);
        int before_cost = 0, after_cost = 0;
        for (size_t k = i; k <= j; ++k) before_cost += cost[k];
        ShuffleParams p;
        if (!merged_params(run, &p, &after_cost) || after_cost >= before_cost) continue;
        auto* s = add_shuffle(net, run.front()->input(0));
        s->p = p;
        s->changed([] {});
        s->set_name(run.back()->name() + "_merged");
        std::vector<Layer*> dead(run.begin(), run.end());
        rw.replace(dead, run.back()->output(0), s->output(0));
        merged_to = j;
        break;
      }
      i = merged_to + 1;
    }
  }
  return rw.finish();
}

}  // namespace torch2trt
