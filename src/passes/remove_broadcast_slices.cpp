// Removes a Slice that only broadcasts (`x.expand_as(y)`, `x.expand(...)`, `torch.broadcast_to`: start 0,
// every axis either kept whole with stride 1 or grown from extent 1, reading coordinate 0 throughout) when every reader is an
// ElementWise layer, which broadcasts by itself: the readers read the unexpanded tensor, and the expanded
// copy is never written. SENet's `x * y.expand_as(x)` wrote the (N, C, H, W) gate before multiplying by it.
// Left alone: a Slice with run-time shape inputs or a network output, a reader of another kind, and a
// reader whose output would change shape (both operands expanded, say: y.expand_as(x) * y.expand_as(x)).
#include "passes/pass.h"
#include "passes/pattern.h"

namespace torch2trt {
namespace {

bool only_broadcasts(const SliceLayer& s) {
  if (s.num_inputs() < 1 || !s.input(0) || s.num_outputs() != 1 || s.precision_is_set()) return false;
  for (int k = 1; k < s.num_inputs(); ++k)
    if (s.input(k)) return false;  // run-time start/shape/stride or a fill value
  const Dims &in = s.input(0)->dims(), &out = s.output(0)->dims();
  if (!in.is_static() || !out.is_static() || in.nb_dims != out.nb_dims) return false;
  const SliceParams& p = s.p;
  if (p.start.nb_dims != in.nb_dims || p.stride.nb_dims != in.nb_dims) return false;
  bool grows = false;
  for (int i = 0; i < in.nb_dims; ++i) {
    if (p.start.d[i] != 0) return false;
    if (in.d[i] == out.d[i] && (p.stride.d[i] == 1 || in.d[i] == 1)) continue;
    // Growing from extent 1: every coordinate is 0 with stride 0, or in WRAP mode (mod 1) with any stride,
    // as the converters' broadcast_to writes it.
    if (in.d[i] != 1 || (p.stride.d[i] != 0 && p.mode != SampleMode::kWRAP)) return false;
    grows = true;
  }
  return grows;
}

}  // namespace

int remove_broadcast_slices(Network& net, const BuilderConfig&) {
  pattern::Uses uses(net);
  std::vector<Layer*> dead;
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    if (l->kind() != LayerKind::kSlice || !only_broadcasts(*static_cast<SliceLayer*>(l))) continue;
    Tensor *in = l->input(0), *out = l->output(0);
    if (out->is_output()) continue;
    const std::vector<Layer*>& readers = uses.of(out);
    bool ok = !readers.empty();
    for (Layer* r : readers) {
      if (!ok) break;
      if (r->kind() != LayerKind::kElementWise || r->precision_is_set()) {
        ok = false;
        break;
      }
      // The reader's result must keep its shape and type with the unexpanded operand.
      std::vector<TensorDesc> descs;
      for (Tensor* t : r->inputs()) {
        TensorDesc d;
        d.dims.nb_dims = -1;  // an unset optional input
        descs.push_back(t == out ? in->desc() : t ? t->desc() : d);
      }
      try {
        const std::vector<TensorDesc> o = r->infer(descs);
        ok = o.size() == 1 && o[0].dims == r->output(0)->dims() && o[0].dtype == r->output(0)->dtype();
      } catch (const InvalidArgument&) {
        ok = false;
      }
    }
    if (!ok) continue;
    net.replace_uses(out, in);
    dead.push_back(l);
  }
  if (!dead.empty()) net.remove_layers(dead);
  return static_cast<int>(dead.size());
}

}  // namespace torch2trt
