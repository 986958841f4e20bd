// Running engines: ExecutionContext binds I/O by name to caller memory and runs.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "torch2trt/engine.h"

namespace torch2trt {

class Kernel;

/// Per-context state for running an engine (TensorRT's IExecutionContext).
/// One context is used by one thread at a time; use several contexts for concurrency.
class ExecutionContext {
 public:
  explicit ExecutionContext(const Engine& engine);
  ~ExecutionContext();
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  const Engine& engine() const { return engine_; }
  /// Binds an input or output to caller-owned device memory (dense, row-major, of the tensor's dtype).
  void set_tensor_address(const std::string& name, void* ptr);
  void* tensor_address(const std::string& name) const;
  /// Sets the run-time shape of an input with -1 extents (or checks a static one).
  void set_input_shape(const std::string& name, const Dims& dims);
  /// Concrete shape of any I/O tensor for the current input shapes (runs the shape rules).
  Dims tensor_shape(const std::string& name);
  /// Runs the engine on `stream` (a cudaStream_t for CUDA engines; ignored on the CPU).
  /// Throws RuntimeFailure naming the tensor when something is unbound or inconsistent.
  void enqueue(void* stream);

  /// Per-layer information (for profiling): name, kind, kernel, the dtype the layer writes, and the device
  /// time of its last profiled run.
  struct LayerInfo {
    std::string name, kind, impl;
    DataType precision = DataType::kFLOAT;  ///< dtype of the layer's first output
    double time_ms = -1;                    ///< -1 until a run with profiling on
  };
  /// Plans the context for the current input shapes first (as a run would), so `impl` names the kernel a
  /// run uses; without a plan (run-time input shapes not yet set) impl says why.
  std::vector<LayerInfo> layer_info();
  /// Times every layer of the following runs (layer_info().time_ms). Profiled runs wait for each layer
  /// to finish and never replay a CUDA graph, so they are slower than normal runs.
  void set_profiling(bool on);
  bool profiling() const { return profiling_; }
  /// Turns graph replay (CUDA graphs) on or off for this context; on by default unless the engine was
  /// built with DISABLE_CUDA_GRAPHS. From the second run with the same input shapes, the layers replay as
  /// one captured graph on the caller's stream. The graph reads and writes the caller's input and output
  /// addresses of the run that captured it; runs at other addresses replay a second graph that reads and
  /// writes context-owned buffers, the caller's tensors copied in and out on the same stream, so any
  /// addresses and any stream work. Addresses that move and then stay are captured again (a bounded
  /// number of times).
  void set_graphs_enabled(bool on);
  /// True when the last enqueue replayed a captured graph.
  bool last_run_replayed() const { return replayed_; }
  /// Why graph replay is off for this context ("" while it is on).
  const std::string& graph_status() const { return graph_status_; }

 private:
  void prepare();
  void run_layers(void* stream);
  void* view_address(const Tensor* t) const;
  void drop_graph();
  /// Captures run_layers as graph_ for the caller's addresses `addrs`, or (staged) as stage_graph_ on
  /// staging buffers; a failed capture turns graph replay off for the context.
  void capture_graph(void* stream, bool staged, const std::vector<void*>& addrs);
  const Engine& engine_;
  Backend& backend_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::unordered_map<std::string, void*> addresses_;
  std::unordered_map<std::string, Dims> input_shapes_;
  std::vector<TensorDesc> descs_;      // per tensor index, concrete
  std::vector<size_t> offsets_;        // arena offset per tensor index (SIZE_MAX: I/O)
  std::vector<int> root_;              // per tensor: the tensor whose memory it uses (itself unless aliased)
  std::vector<const void*> bound_;     // per tensor: kernel-owned constant memory it is read from, or null
  std::vector<uint8_t> skip_;          // per layer: no run needed (constant bound in place, or an alias)
  std::vector<uint8_t> shapes_known_;  // per tensor
  bool prepared_ = false;
  bool dirty_ = true;
  void* arena_ = nullptr;
  size_t arena_size_ = 0;
  void* workspace_ = nullptr;
  size_t workspace_size_ = 0;
  // Graph replay state: the captured graph is valid for one set of I/O addresses and one stream.
  bool graphs_enabled_ = true;
  bool replayed_ = false;
  std::string graph_status_;
  void* graph_ = nullptr;            // captured for the current shapes at graph_addrs_
  void* stage_graph_ = nullptr;      // captured for the current shapes on the staging buffers
  std::vector<void*> graph_addrs_;   // the I/O addresses (inputs, then outputs) graph_ reads and writes
  std::vector<void*> last_addrs_;    // the I/O addresses of the previous run
  int recaptures_ = 0;               // graph_ captured again for moved addresses, since the shapes were set
  static constexpr int kMaxRecaptures = 8;
  bool warm_ = false;         // one direct run done for the current shapes (kernels initialised)
  bool staging_ = false;      // I/O views point at staging buffers (while capturing)
  std::vector<void*> stage_;  // per tensor index: staging buffer of an I/O tensor
  bool profiling_ = false;
  std::vector<double> times_;  // per layer: milliseconds of the last profiled run (-1: none yet)
};

/// Reads engine files (TensorRT's IRuntime).
class Runtime {
 public:
  std::unique_ptr<Engine> deserialize(const uint8_t* data, size_t size) { return Engine::deserialize(data, size); }
};

}  // namespace torch2trt
