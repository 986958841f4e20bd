// Evaluates layers whose inputs are all constants once, at build time, on the CPU backend.
#include <cstring>

#include "backends/backend.h"
#include "passes/pass.h"
#include "torch2trt/layers/constant.h"

namespace torch2trt {
namespace {

// Folding must not blow a small constant up into a huge one (an expand of a scalar, say).
constexpr int64_t kMaxFoldedBytes = 16 << 20;

const ConstantLayer* constant_producer(const Tensor* t) {
  if (!t || !t->producer() || t->producer()->kind() != LayerKind::kConstant) return nullptr;
  return static_cast<const ConstantLayer*>(t->producer());
}

}  // namespace

int fold_constants(Network& net, const BuilderConfig&) {
  Backend& cpu = cpu_backend();
  int folded = 0;
  for (int i = 0; i < net.num_layers(); ++i) {
    Layer* l = net.layer(i);
    if (l->kind() == LayerKind::kConstant || l->kind() == LayerKind::kPlugin || l->num_inputs() == 0) continue;
    bool all_const = true;
    for (auto* t : l->inputs()) all_const = all_const && (t == nullptr || constant_producer(t));
    if (!all_const) continue;
    std::vector<TensorDesc> in = l->input_descs(), out;
    int64_t bytes = 0;
    for (auto* t : l->outputs()) {
      out.push_back(t->desc());
      bytes += t->dims().volume() * static_cast<int64_t>(dtype_size(t->dtype()));
    }
    if (bytes > kMaxFoldedBytes || !cpu.unsupported_reason(*l, in, out).empty()) continue;
    auto kernel = cpu.make_kernel(*l, in, out);
    kernel->reshape(in, out);
    std::vector<uint8_t> ws(kernel->workspace_size() + 64);
    KernelArgs a;
    std::vector<std::vector<uint8_t>> in_copies;
    for (auto* t : l->inputs()) {
      TensorView v;
      if (t) {
        const Weights& w = constant_producer(t)->p.weights;
        in_copies.emplace_back(static_cast<const uint8_t*>(w.data()),
                               static_cast<const uint8_t*>(w.data()) + w.nbytes());
        v.data = in_copies.back().empty() ? nullptr : in_copies.back().data();
        v.dtype = t->dtype();
        v.dims = t->dims();
      } else {
        v.dims.nb_dims = -1;
      }
      a.in.push_back(v);
    }
    std::vector<Weights> results;
    for (auto* t : l->outputs()) {
      results.emplace_back(t->dtype(), nullptr, t->dims().volume());
      TensorView v;
      v.data = results.back().bytes ? results.back().bytes->data() : nullptr;
      v.dtype = t->dtype();
      v.dims = t->dims();
      a.out.push_back(v);
    }
    a.workspace = ws.data();
    kernel->run(a);
    for (int k = 0; k < l->num_outputs(); ++k) {
      Tensor* t = l->output(k);
      auto* c = add_constant(net, t->dims(), results[k]);
      c->set_name(l->name() + "_folded_" + std::to_string(k));
      net.replace_uses(t, c->output(0));
    }
    ++folded;
  }
  if (folded) net.topo_sort();
  return folded;
}

}  // namespace torch2trt
