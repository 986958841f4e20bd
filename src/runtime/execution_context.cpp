#include <algorithm>
#include <climits>

#include "backends/backend.h"
#include "torch2trt/runtime.h"

namespace torch2trt {

namespace {
constexpr size_t kNoOffset = SIZE_MAX;
size_t align64(size_t n) { return (n + 63) & ~size_t(63); }
}  // namespace

ExecutionContext::ExecutionContext(const Engine& engine) : engine_(engine), backend_(engine.backend()) {
  graphs_enabled_ = !engine.config().get_flag(BuilderFlag::kDISABLE_CUDA_GRAPHS);
  if (!graphs_enabled_) graph_status_ = "the engine was built with DISABLE_CUDA_GRAPHS";
  const Network& net = engine_.network();
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    std::vector<TensorDesc> out;
    for (auto* t : l->outputs()) out.push_back(t->desc());
    kernels_.push_back(backend_.make_kernel(*l, l->input_descs(), out));
    kernels_.back()->set_workspace_limit(engine_.config().workspace_limit);
    if (l->tactic() >= 0) kernels_.back()->set_tactic(l->tactic());
  }
}

ExecutionContext::~ExecutionContext() {
  drop_graph();
  if (arena_) backend_.release(arena_);
  if (workspace_) backend_.release(workspace_);
}

void ExecutionContext::set_tensor_address(const std::string& name, void* ptr) {
  if (engine_.io_mode(name) == TensorIOMode::kNONE) engine_.io_dims(name);  // throws naming the valid names
  addresses_[name] = ptr;
}

void* ExecutionContext::tensor_address(const std::string& name) const {
  auto it = addresses_.find(name);
  return it == addresses_.end() ? nullptr : it->second;
}

void ExecutionContext::set_input_shape(const std::string& name, const Dims& dims) {
  if (engine_.io_mode(name) != TensorIOMode::kINPUT) {
    engine_.io_dims(name);
    throw InvalidArgument("set_input_shape: '" + name + "' is an output, not an input");
  }
  Dims built = engine_.io_dims(name);
  if (dims.nb_dims != built.nb_dims)
    throw InvalidArgument("set_input_shape: input '" + name + "' has rank " + std::to_string(built.nb_dims) +
                          " (shape " + built.str() + "), got shape " + dims.str());
  for (int i = 0; i < dims.nb_dims; ++i) {
    if (dims.d[i] < 0)
      throw InvalidArgument("set_input_shape: input '" + name + "': shape " + dims.str() + " must be concrete");
    if (built.d[i] != -1 && built.d[i] != dims.d[i])
      throw InvalidArgument("set_input_shape: input '" + name + "' was built with shape " + built.str() +
                            "; got " + dims.str() + " (dimension " + std::to_string(i) + " differs)");
  }
  auto it = input_shapes_.find(name);
  if (it == input_shapes_.end() || it->second != dims) {
    input_shapes_[name] = dims;
    dirty_ = true;
  }
}

Dims ExecutionContext::tensor_shape(const std::string& name) {
  engine_.io_dims(name);  // validates the name
  prepare();
  return descs_[engine_.network().find_io(name)->index()].dims;
}

void ExecutionContext::set_graphs_enabled(bool on) {
  graphs_enabled_ = on;
  graph_status_ = on ? "" : "disabled by set_graphs_enabled(False)";
  if (!on) drop_graph();
}

void ExecutionContext::drop_graph() {
  if (graph_) backend_.graph_destroy(graph_);
  if (stage_graph_) backend_.graph_destroy(stage_graph_);
  graph_ = stage_graph_ = nullptr;
  graph_addrs_.clear();
  last_addrs_.clear();
  recaptures_ = 0;
  warm_ = false;
  for (void* p : stage_)
    if (p) backend_.release(p);
  stage_.clear();
}

void ExecutionContext::prepare() {
  if (!dirty_) return;
  drop_graph();
  const Network& net = engine_.network();
  descs_.assign(net.num_tensors(), TensorDesc{});
  for (int i = 0; i < net.num_inputs(); ++i) {
    const Tensor* t = net.input(i);
    TensorDesc d = t->desc();
    if (!d.dims.is_static()) {
      auto it = input_shapes_.find(t->name());
      if (it == input_shapes_.end())
        throw RuntimeFailure("input '" + t->name() + "' has run-time dimensions " + d.dims.str() +
                             ": call set_input_shape before running");
      d.dims = it->second;
    }
    descs_[t->index()] = d;
  }
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    std::vector<TensorDesc> in;
    for (auto* t : l->inputs()) {
      if (t) {
        in.push_back(descs_[t->index()]);
      } else {
        TensorDesc d;
        d.dims.nb_dims = -1;
        in.push_back(d);
      }
    }
    std::vector<TensorDesc> out;
    try {
      out = l->infer(in);
    } catch (const InvalidArgument& e) {
      throw RuntimeFailure(std::string("with the given input shapes, ") + e.what());
    }
    for (size_t k = 0; k < out.size(); ++k) {
      if (!out[k].dims.is_static())
        throw RuntimeFailure("layer '" + l->name() + "' output " + std::to_string(k) + " has no concrete shape (" +
                             out[k].dims.str() + ") for these input shapes");
      descs_[l->output(static_cast<int>(k))->index()] = out[k];
    }
    kernels_[i]->reshape(in, out);
  }
  // Constants are read in place from the kernel's memory and reshapes share their input's memory; neither
  // runs. A network output keeps its own memory (the caller's), so its layer still runs.
  int nt = net.num_tensors();
  root_.resize(nt);
  for (int t = 0; t < nt; ++t) root_[t] = t;
  bound_.assign(nt, nullptr);
  skip_.assign(net.num_layers(), 0);
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    if (l->num_outputs() != 1 || l->output(0)->is_output()) continue;
    const int t = l->output(0)->index();
    if (const void* c = kernels_[i]->constant_output()) {
      bound_[t] = c;
      skip_[i] = 1;
    } else if (l->num_inputs() >= 1 && l->input(0) && kernels_[i]->output_aliases_input()) {
      root_[t] = root_[l->input(0)->index()];
      skip_[i] = 1;
    }
  }
  // Memory plan: one arena; a buffer is reused once the last layer reading it (or an alias of it) has run.
  offsets_.assign(nt, kNoOffset);
  std::vector<int> first(nt, INT_MAX), last(nt, -1);
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    for (auto* t : l->outputs()) {
      int r = root_[t->index()];
      first[r] = std::min(first[r], i), last[r] = std::max(last[r], i);
    }
    for (auto* t : l->inputs())
      if (t) last[root_[t->index()]] = std::max(last[root_[t->index()]], i);
  }
  struct Buf {
    int t;
    size_t size;
  };
  std::vector<Buf> bufs;
  for (int i = 0; i < nt; ++i) {
    const Tensor* t = net.tensor(i);
    if (t->is_input() || t->is_output() || first[i] == INT_MAX || root_[i] != i || bound_[i]) continue;
    bufs.push_back({i, align64(static_cast<size_t>(descs_[i].dims.volume()) * dtype_size(descs_[i].dtype))});
  }
  std::sort(bufs.begin(), bufs.end(), [](const Buf& a, const Buf& b) { return a.size > b.size; });
  struct Placed {
    size_t off, size;
    int first, last;
  };
  std::vector<Placed> placed;
  size_t total = 0;
  for (auto& b : bufs) {
    std::vector<std::pair<size_t, size_t>> busy;
    for (auto& p : placed)
      if (!(p.last < first[b.t] || last[b.t] < p.first)) busy.push_back({p.off, p.off + p.size});
    std::sort(busy.begin(), busy.end());
    size_t off = 0;
    for (auto& r : busy) {
      if (off + b.size <= r.first) break;
      off = std::max(off, r.second);
    }
    offsets_[b.t] = off;
    placed.push_back({off, b.size, first[b.t], last[b.t]});
    total = std::max(total, off + b.size);
  }
  size_t ws = 0;
  for (auto& k : kernels_) ws = std::max(ws, k->workspace_size());
  if (ws > engine_.config().workspace_limit && engine_.config().device == DeviceType::kGPU)
    throw RuntimeFailure("a kernel needs " + std::to_string(ws) + " bytes of workspace, over the engine's limit of " +
                         std::to_string(engine_.config().workspace_limit) + "; rebuild with a larger max_workspace_size");
  if (total > arena_size_) {
    if (arena_) backend_.release(arena_);
    arena_ = backend_.allocate(total);
    arena_size_ = total;
  }
  if (ws > workspace_size_) {
    if (workspace_) backend_.release(workspace_);
    workspace_ = backend_.allocate(ws);
    workspace_size_ = ws;
  }
  dirty_ = false;
}

void ExecutionContext::enqueue(void* stream) {
  prepare();
  replayed_ = false;
  // A replayed graph runs as one unit: per-layer times need the layers launched one by one.
  if (graphs_enabled_ && !profiling_ && backend_.device() != DeviceKind::kCPU) {
    const Network& net = engine_.network();
    std::vector<const Tensor*> io;
    for (int i = 0; i < net.num_inputs(); ++i) io.push_back(net.input(i));
    for (int i = 0; i < net.num_outputs(); ++i) io.push_back(net.output(i));
    auto bytes = [&](const Tensor* t) {
      return static_cast<size_t>(descs_[t->index()].dims.volume()) * dtype_size(descs_[t->index()].dtype);
    };
    std::vector<void*> addrs;
    for (const Tensor* t : io) addrs.push_back(bytes(t) ? view_address(t) : nullptr);
    if (!graph_ && !stage_graph_ && warm_) capture_graph(stream, false, addrs);
    // The caller's addresses moved and stayed (two runs in a row at the new place): capture again for them,
    // a bounded number of times (addresses that keep alternating use the staging graph instead).
    if (graph_ && addrs != graph_addrs_ && addrs == last_addrs_ && recaptures_ < kMaxRecaptures) {
      backend_.graph_destroy(graph_);
      graph_ = nullptr;
      ++recaptures_;
      capture_graph(stream, false, addrs);
    }
    last_addrs_ = addrs;
    if (graph_ && addrs == graph_addrs_) {
      backend_.graph_launch(graph_, stream);
      replayed_ = true;
      return;
    }
    // Other addresses: the graph that reads and writes staging buffers, with the caller's tensors copied in
    // and out on the same stream.
    if (graph_ && !stage_graph_) capture_graph(stream, true, addrs);
    if (stage_graph_) {
      for (int i = 0; i < net.num_inputs(); ++i) {
        const Tensor* t = net.input(i);
        if (bytes(t)) backend_.copy(stage_[t->index()], view_address(t), bytes(t), stream);
      }
      backend_.graph_launch(stage_graph_, stream);
      for (int i = 0; i < net.num_outputs(); ++i) {
        const Tensor* t = net.output(i);
        if (bytes(t) && !t->is_input()) backend_.copy(view_address(t), stage_[t->index()], bytes(t), stream);
      }
      replayed_ = true;
      return;
    }
    warm_ = graphs_enabled_;
  }
  run_layers(stream);
}

void ExecutionContext::capture_graph(void* stream, bool staged, const std::vector<void*>& addrs) {
  const Network& net = engine_.network();
  if (staged) {
    stage_.assign(net.num_tensors(), nullptr);
    auto stage = [&](const Tensor* t) {
      const size_t b = static_cast<size_t>(descs_[t->index()].dims.volume()) * dtype_size(descs_[t->index()].dtype);
      if (!stage_[t->index()]) stage_[t->index()] = backend_.allocate(std::max<size_t>(b, 1));
    };
    for (int i = 0; i < net.num_inputs(); ++i) stage(net.input(i));
    for (int i = 0; i < net.num_outputs(); ++i) stage(net.output(i));
  }
  staging_ = staged;
  std::string why;
  void* g = backend_.graph_capture(stream, [&](void* s) { run_layers(s); }, &why);
  staging_ = false;
  if (!g) {
    graphs_enabled_ = false;  // this engine's kernels cannot be captured: run them directly from now on
    graph_status_ = why;
    drop_graph();
    return;
  }
  if (staged) {
    stage_graph_ = g;
  } else {
    graph_ = g;
    graph_addrs_ = addrs;
  }
}

void* ExecutionContext::view_address(const Tensor* t) const {
  auto it = addresses_.find(t->name());
  void* p = it == addresses_.end() ? nullptr : it->second;
  if (!p && descs_[t->index()].dims.volume() > 0)
    throw RuntimeFailure(std::string(t->is_input() ? "input" : "output") + " '" + t->name() +
                         "' has no address: call set_tensor_address('" + t->name() + "', pointer) before running");
  return p;
}

void ExecutionContext::run_layers(void* stream) {
  const Network& net = engine_.network();
  auto view = [&](const Tensor* tensor) {
    TensorView v;
    v.dtype = descs_[tensor->index()].dtype;
    v.dims = descs_[tensor->index()].dims;
    const Tensor* t = net.tensor(root_[tensor->index()]);
    if (bound_[t->index()])
      v.data = const_cast<void*>(bound_[t->index()]);  // read only: no layer writes a bound tensor
    else if (t->is_input() || t->is_output())
      v.data = staging_ ? stage_[t->index()] : view_address(t);
    else
      v.data = static_cast<uint8_t*>(arena_) + offsets_[t->index()];
    return v;
  };
  KernelArgs a;
  a.workspace = workspace_;
  a.stream = stream;
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    a.in.clear();
    a.out.clear();
    for (auto* t : l->inputs()) {
      if (t) {
        a.in.push_back(view(t));
      } else {
        TensorView v;
        v.dims.nb_dims = -1;
        a.in.push_back(v);
      }
    }
    for (auto* t : l->outputs()) a.out.push_back(view(t));
    bool empty = false;
    for (auto& v : a.out) empty = empty || v.dims.volume() == 0;
    if (skip_[i]) {
      if (profiling_) times_[i] = 0.0;
      continue;
    }
    if (!profiling_) {
      if (!empty) kernels_[i]->run(a);
    } else {
      times_[i] = empty ? 0.0 : backend_.timed_run(stream, [&] { kernels_[i]->run(a); });
    }
  }
}

void ExecutionContext::set_profiling(bool on) {
  profiling_ = on;
  if (on) times_.assign(kernels_.size(), -1.0);
}

std::vector<ExecutionContext::LayerInfo> ExecutionContext::layer_info() {
  // A kernel picks its implementation when it is planned for the input shapes (a library kernel, a tactic,
  // a fallback): plan first, so that the names are what a run uses, not the kernels' defaults. Inputs with
  // run-time extents not yet set, or a plan that fails as the run would, give the reason instead.
  std::string unplanned;  // why there is no plan
  if (dirty_) {
    try {
      prepare();
    } catch (const Error& e) {
      unplanned = std::string("(not planned: ") + e.what() + ")";
    }
  }
  std::vector<LayerInfo> r;
  const Network& net = engine_.network();
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    LayerInfo info{l->name(), layer_kind_name(l->kind()),
                   unplanned.empty() ? std::string(kernels_[i]->impl_name()) : unplanned};
    if (l->num_outputs() > 0) info.precision = l->output(0)->dtype();
    info.time_ms = i < static_cast<int>(times_.size()) ? times_[i] : -1.0;
    r.push_back(info);
  }
  return r;
}

}  // namespace torch2trt
