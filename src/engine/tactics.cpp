// Tactic selection: where a kernel can run a layer several ways (cuDNN algorithms, say), the builder
// times each on the device, in the kernel's own run() with its epilogue, replayed from a CUDA graph as
// engines run, and keeps the fastest. A tactic that cannot be captured in a graph is never chosen: one
// such layer turns graph replay off for the whole engine (measured: ResNet-50 fp16 batch 1 went from 0.41
// to 2.4 ms when tactics were timed by direct runs). Choices go through a TimingCache keyed by the problem and the device, so a second build of
// the same model measures nothing.
#include "engine/tactics.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "torch2trt/serialize.h"

namespace torch2trt {

bool TimingCache::find(const std::string& key, Entry* e) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  *e = it->second;
  return true;
}

void TimingCache::put(const std::string& key, const Entry& e) {
  std::lock_guard<std::mutex> g(mu_);
  entries_[key] = e;
}

size_t TimingCache::size() const {
  std::lock_guard<std::mutex> g(mu_);
  return entries_.size();
}

std::map<std::string, TimingCache::Entry> TimingCache::snapshot() const {
  std::lock_guard<std::mutex> g(mu_);
  return entries_;
}

void TimingCache::combine(const TimingCache& other) {
  auto theirs = other.snapshot();
  std::lock_guard<std::mutex> g(mu_);
  for (auto& kv : theirs) entries_.emplace(kv.first, kv.second);
}

std::vector<std::string> TimingCache::devices() const {
  std::set<std::string> d;
  for (auto& kv : snapshot()) {
    size_t at = kv.first.rfind('@');
    d.insert(at == std::string::npos ? std::string() : kv.first.substr(at + 1));
  }
  return std::vector<std::string>(d.begin(), d.end());
}

namespace {
constexpr char kMagic[8] = {'T', '2', 'T', 'T', 'C', 'A', 'C', 'H'};
constexpr uint32_t kCacheVersion = 1;
}  // namespace

std::vector<uint8_t> TimingCache::serialize() const {
  auto entries = snapshot();
  Writer w;
  w.raw(kMagic, sizeof(kMagic));
  w.put(kCacheVersion);
  w.put(static_cast<uint64_t>(entries.size()));
  for (auto& kv : entries) w.put_all(kv.first, kv.second.tactic, kv.second.ms);
  return w.buf;
}

std::shared_ptr<TimingCache> TimingCache::deserialize(const uint8_t* data, size_t size) {
  const std::string what = "timing cache: ";
  const std::string fix = "; delete the file (the next build measures again and writes a new one)";
  if (size < sizeof(kMagic) + 4 || std::memcmp(data, kMagic, sizeof(kMagic)) != 0)
    throw InvalidArgument(what + "not a torch2trt timing cache (wrong magic bytes)" + fix);
  auto cache = std::make_shared<TimingCache>();
  try {
    Reader r(data + sizeof(kMagic), size - sizeof(kMagic));
    uint32_t ver;
    r.get(ver);
    if (ver != kCacheVersion)
      throw InvalidArgument(what + "written in version " + std::to_string(ver) + ", this torch2trt reads version " +
                            std::to_string(kCacheVersion) + fix);
    uint64_t n;
    r.get(n);
    if (n > r.remaining()) r.bad("an entry count larger than the file");
    for (uint64_t i = 0; i < n; ++i) {
      std::string key;
      Entry e;
      r.get_all(key, e.tactic, e.ms);
      if (e.tactic < -1 || !(e.ms >= 0)) r.bad("an invalid entry");
      cache->entries_[key] = e;
    }
    if (r.remaining() != 0) r.bad("extra bytes after the last entry");
  } catch (const EngineFormatError&) {
    // The reader's own message speaks of engines; what matters here is that the cache is unusable.
    throw InvalidArgument(what + "corrupt or truncated" + fix);
  }
  return cache;
}

namespace {

// Device memory freed on scope exit.
struct Scratch {
  Backend& be;
  std::vector<void*> ptrs;
  explicit Scratch(Backend& b) : be(b) {}
  ~Scratch() {
    for (void* p : ptrs) be.release(p);
  }
  void* get(size_t bytes) {
    ptrs.push_back(bytes ? be.allocate(bytes) : nullptr);
    return ptrs.back();
  }
};

size_t bytes_of(const TensorDesc& d) { return static_cast<size_t>(d.dims.volume()) * dtype_size(d.dtype); }

// Milliseconds per run of the kernel as set up, timed the way engines run: replayed from a captured graph
// (the best of a few replays after a warm-up). A negative result: the tactic cannot be captured, and an
// engine using it would lose graph replay altogether, so it must not be chosen. Devices without graphs
// time direct runs.
double time_kernel(Backend& be, Kernel& k, KernelArgs& a) {
  constexpr int kRuns = 5;
  for (int i = 0; i < 2; ++i) k.run(a);
  be.synchronize(a.stream);
  auto runs = [&](void* stream) {
    KernelArgs b = a;
    b.stream = stream;
    for (int i = 0; i < kRuns; ++i) k.run(b);
  };
  if (be.device() == DeviceKind::kCPU) {
    double best = 1e300;
    for (int rep = 0; rep < 3; ++rep) best = std::min(best, be.timed_run(a.stream, [&] { runs(a.stream); }) / kRuns);
    return best;
  }
  std::string why;
  void* g = nullptr;
  try {
    g = be.graph_capture(a.stream, runs, &why);
  } catch (const Error&) {
    g = nullptr;
  }
  if (!g) return -1;
  double best = 1e300;
  be.graph_launch(g, a.stream);
  for (int rep = 0; rep < 3; ++rep)
    best = std::min(best, be.timed_run(a.stream, [&] { be.graph_launch(g, a.stream); }) / kRuns);
  be.graph_destroy(g);
  return best;
}

}  // namespace

int choose_tactics(Network& net, const BuilderConfig& config, Backend& backend, TimingCache& cache) {
  int timed = 0;
  for (int li = 0; li < net.num_layers(); ++li) {
    Layer* l = net.layer(li);
    std::vector<TensorDesc> in = l->input_descs(), out;
    for (auto* t : l->outputs()) out.push_back(t->desc());
    bool ok = true;
    for (auto& d : in) ok = ok && (d.dims.nb_dims < 0 || d.dims.is_static());
    for (auto& d : out) ok = ok && d.dims.is_static();
    if (!ok) continue;  // run-time shapes: the kernel's own choice, made when the shapes are known
    std::unique_ptr<Kernel> k = backend.make_kernel(*l, in, out);
    k->set_workspace_limit(config.workspace_limit);
    k->reshape(in, out);
    std::vector<int64_t> ts = k->tactics();
    std::string key = k->tactic_key();
    if (ts.size() < 2 || key.empty()) continue;
    key += "@" + backend.device_description();
    TimingCache::Entry hit;
    if (cache.find(key, &hit)) {
      l->set_tactic(hit.tactic);
      continue;
    }
    // Inputs hold zeros (timing does not depend on the values); outputs and scratch are the kernel's own.
    Scratch mem(backend);
    KernelArgs a;
    for (auto& d : in) {
      TensorView v;
      v.dtype = d.dtype, v.dims = d.dims;
      if (d.dims.nb_dims >= 0) {
        v.data = mem.get(bytes_of(d));
        std::vector<uint8_t> zeros(bytes_of(d), 0);
        if (!zeros.empty()) backend.upload(v.data, zeros.data(), zeros.size());
      }
      a.in.push_back(v);
    }
    for (auto& d : out) {
      TensorView v;
      v.dtype = d.dtype, v.dims = d.dims, v.data = mem.get(bytes_of(d));
      a.out.push_back(v);
    }
    // ts[0] is the kernel's own choice: another tactic must beat it by 3% to be kept, so timing noise
    // does not trade a good default for an equal one.
    double best_ms = 0;
    int64_t best = -1;
    // T2T_LOG_TACTICS=1: every layer's timings on stderr (why a kernel was or was not chosen).
    static const bool log = [] {
      const char* v = std::getenv("T2T_LOG_TACTICS");
      return v && *v && std::string(v) != "0";
    }();
    if (log) std::fprintf(stderr, "[torch2trt tactics] %s '%s': %s\n", layer_kind_name(l->kind()), l->name().c_str(), key.c_str());
    for (size_t i = 0; i < ts.size(); ++i) {
      k->set_tactic(ts[i]);
      k->reshape(in, out);
      size_t ws = k->workspace_size();
      if (ws > config.workspace_limit) continue;
      a.workspace = mem.get(ws);
      double ms = time_kernel(backend, *k, a);
      if (log) std::fprintf(stderr, "[torch2trt tactics]   %lld %s: %.4f ms\n", static_cast<long long>(ts[i]), k->impl_name(), ms);
      if (ms < 0) continue;  // not capturable in a CUDA graph
      const double bar = best == ts[0] ? 0.97 * best_ms : best_ms;
      if (best < 0 || ms < bar) best = ts[i], best_ms = ms;
    }
    if (log) std::fprintf(stderr, "[torch2trt tactics]   chose %lld\n", static_cast<long long>(best));
    if (best < 0) continue;
    cache.put(key, {best, best_ms});
    l->set_tactic(best);
    ++timed;
  }
  return timed;
}

}  // namespace torch2trt
