// The CUDA backend: kernel dispatch from layers.def, device memory, one backend per device index.
#include <memory>
#include <mutex>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_util.h"
#ifdef T2T_WITH_CUDNN
#include "backends/cuda/cudnn_util.h"
#endif

namespace torch2trt {
namespace gpu {
namespace {

std::unique_ptr<Kernel> dispatch(const Layer& l, const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out,
                                 std::string* why) {
  switch (l.kind()) {
#define T2T_LAYER(Name, family) \
  case LayerKind::k##Name:      \
    return make_##Name(static_cast<const Name##Layer&>(l), in, out, why);
#include "torch2trt/layers.def"
#undef T2T_LAYER
  }
  *why = "unknown layer kind";
  return nullptr;
}

// Runs a kernel with its device current: the caller's thread may have any device selected, and
// kernels, their weights and the engine's memory all belong to one device.
class OnDevice : public Kernel {
 public:
  OnDevice(int device, std::unique_ptr<Kernel> inner) : device_(device), inner_(std::move(inner)) {}
  ~OnDevice() override {
    try {
      DeviceGuard g(device_);
      inner_.reset();
    } catch (const Error&) {
      inner_.reset();  // the device is gone; freeing its memory can only fail quietly
    }
  }
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    DeviceGuard g(device_);
    inner_->reshape(in, out);
  }
  size_t workspace_size() const override { return inner_->workspace_size(); }
  void set_workspace_limit(size_t bytes) override { inner_->set_workspace_limit(bytes); }
  void run(const KernelArgs& a) override {
    DeviceGuard g(device_);
    inner_->run(a);
  }
  const char* impl_name() const override { return inner_->impl_name(); }
  const void* constant_output() const override { return inner_->constant_output(); }
  std::vector<int64_t> tactics() const override { return inner_->tactics(); }
  void set_tactic(int64_t id) override { inner_->set_tactic(id); }
  std::string tactic_key() const override { return inner_->tactic_key(); }
  bool output_aliases_input() const override { return inner_->output_aliases_input(); }

 private:
  int device_;
  std::unique_ptr<Kernel> inner_;
};

class CudaBackend : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {}
  const char* name() const override { return "cuda"; }
  std::string device_description() const override {
    DeviceGuard g(device_);
    cudaDeviceProp prop{};
    T2T_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
    std::string d = std::string(prop.name) + " sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
#ifdef T2T_WITH_CUDNN
    d += " cudnn " + std::to_string(cudnnGetVersion());
#endif
    return d + " cublasLt " + std::to_string(cublasLtGetVersion());
  }
  DeviceKind device() const override { return DeviceKind::kCUDA; }
  std::string unsupported_reason(const Layer& l, const std::vector<TensorDesc>& in,
                                 const std::vector<TensorDesc>& out) const override {
    std::string why;
    if (dispatch(l, in, out, &why)) return "";
    return why.empty() ? "no CUDA kernel" : why;
  }
  std::unique_ptr<Kernel> make_kernel(const Layer& l, const std::vector<TensorDesc>& in,
                                      const std::vector<TensorDesc>& out) const override {
    std::string why;
    DeviceGuard g(device_);
    auto k = dispatch(l, in, out, &why);
    if (!k)
      throw Unsupported(std::string(layer_kind_name(l.kind())) + " layer '" + l.name() + "' cannot run on CUDA: " + why);
    return std::make_unique<OnDevice>(device_, std::move(k));
  }
  void* allocate(size_t bytes) override {
    DeviceGuard g(device_);
    void* p = nullptr;
    if (bytes == 0) return nullptr;
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw RuntimeFailure("out of CUDA memory on device " + std::to_string(device_) + " allocating " +
                           std::to_string(bytes) + " bytes: " + cudaGetErrorString(e));
    }
    return p;
  }
  void release(void* p) override {
    // Called from destructors: a failure cannot be reported, and the memory is unusable either way.
    if (!p) return;
    int prev = -1;
    if (cudaGetDevice(&prev) != cudaSuccess) return;
    if (prev != device_) cudaSetDevice(device_);
    cudaFree(p);
    if (prev != device_) cudaSetDevice(prev);
  }
  void copy(void* dst, const void* src, size_t bytes, void* stream) override {
    if (!bytes) return;
    DeviceGuard g(device_);
    T2T_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(stream)));
  }
  void upload(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    DeviceGuard g(device_);
    T2T_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  }
  void download(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    DeviceGuard g(device_);
    T2T_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
  }
  void synchronize(void* stream) override {
    DeviceGuard g(device_);
    T2T_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
  }
  // Events around the work on its stream: the device time, without the host's launch overhead. Waits for
  // the stop event, which is what a per-layer profile costs.
  double timed_run(void* stream, const std::function<void()>& work) override {
    DeviceGuard g(device_);
    struct Event {
      cudaEvent_t e = nullptr;
      Event() { T2T_CUDA_CHECK(cudaEventCreate(&e)); }
      ~Event() {
        if (e) cudaEventDestroy(e);  // a destructor cannot report a failure; the event is unusable either way
      }
    } start, stop;
    auto s = static_cast<cudaStream_t>(stream);
    T2T_CUDA_CHECK(cudaEventRecord(start.e, s));
    work();
    T2T_CUDA_CHECK(cudaEventRecord(stop.e, s));
    T2T_CUDA_CHECK(cudaEventSynchronize(stop.e));
    float ms = 0;
    T2T_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e, stop.e));
    return ms;
  }

  void* graph_capture(void* stream, const std::function<void(void*)>& run, std::string* why) override {
    DeviceGuard g(device_);
    // The legacy default stream cannot be captured: capture on a private stream; the graph is
    // replayed on the caller's stream, so the ordering the caller sees is unchanged.
    cudaStream_t cap = static_cast<cudaStream_t>(stream), own = nullptr;
    if (!cap) {
      if (cudaStreamCreateWithFlags(&own, cudaStreamNonBlocking) != cudaSuccess) {
        cudaGetLastError();
        *why = "could not create a capture stream";
        return nullptr;
      }
      cap = own;
    }
    auto finish = [&](cudaGraphExec_t exec) -> void* {
      if (own) cudaStreamDestroy(own);
      cudaGetLastError();  // a refused capture leaves a sticky-free error; clear it
      return exec;
    };
    cudaError_t e = cudaStreamBeginCapture(cap, cudaStreamCaptureModeThreadLocal);
    if (e != cudaSuccess) {
      *why = std::string("cudaStreamBeginCapture: ") + cudaGetErrorString(e);
      return finish(nullptr);
    }
    cudaGraph_t graph = nullptr;
    try {
      run(cap);
    } catch (const Error& err) {
      cudaStreamEndCapture(cap, &graph);
      if (graph) cudaGraphDestroy(graph);
      *why = std::string("a kernel cannot be captured: ") + err.what();
      return finish(nullptr);
    }
    e = cudaStreamEndCapture(cap, &graph);
    if (e != cudaSuccess || !graph) {
      *why = std::string("cudaStreamEndCapture: ") + cudaGetErrorString(e);
      return finish(nullptr);
    }
    cudaGraphExec_t exec = nullptr;
    e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    if (e != cudaSuccess) *why = std::string("cudaGraphInstantiate: ") + cudaGetErrorString(e);
    // Upload now, so that the first replay does not pay for it (it would otherwise happen at that launch).
    else if (cudaGraphUpload(exec, static_cast<cudaStream_t>(stream)) != cudaSuccess) cudaGetLastError();
    return finish(e == cudaSuccess ? exec : nullptr);
  }
  void graph_launch(void* graph, void* stream) override {
    DeviceGuard g(device_);
    T2T_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph), static_cast<cudaStream_t>(stream)));
  }
  void graph_destroy(void* graph) override {
    if (graph) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph));
  }

 private:
  int device_;
};

// The device count never changes within a process; probing once also keeps a machine without a
// driver from paying for a failed driver load on every query.
struct Probe {
  int count = 0;
  std::string error;
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    cudaError_t e = cudaGetDeviceCount(&r.count);
    if (e != cudaSuccess) {
      cudaGetLastError();
      r.count = 0;
      r.error = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    }
    return r;
  }();
  return p;
}

}  // namespace
}  // namespace gpu

Backend* cuda_backend(int device_index, std::string* why) {
  const gpu::Probe& p = gpu::probe();
  if (!p.error.empty()) {
    *why = "no usable CUDA device (" + p.error + "); build a CPU engine or run where an NVIDIA GPU and driver are present";
    return nullptr;
  }
  if (p.count == 0) {
    *why = "no CUDA device is visible (check CUDA_VISIBLE_DEVICES); build a CPU engine instead";
    return nullptr;
  }
  if (device_index < 0 || device_index >= p.count) {
    *why = "CUDA device index " + std::to_string(device_index) + " is out of range: " + std::to_string(p.count) +
           " device(s) visible (valid indices 0.." + std::to_string(p.count - 1) + ")";
    return nullptr;
  }
  // Never destroyed: engines and contexts that outlive static destruction (Python teardown) still
  // call release() on their backend.
  static std::mutex m;
  static auto* backends = new std::vector<std::unique_ptr<gpu::CudaBackend>>(p.count);
  std::lock_guard<std::mutex> g(m);
  auto& b = (*backends)[device_index];
  if (!b) b = std::make_unique<gpu::CudaBackend>(device_index);
  return b.get();
}

}  // namespace torch2trt
