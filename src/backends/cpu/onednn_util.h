// oneDNN plumbing shared by the CPU convolution, pooling and matrix multiply kernels.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace torch2trt::cpu {

/// True when this build has oneDNN and T2T_CPU_NO_ONEDNN is unset or "0". The plain C++ kernels run
/// otherwise; tests set the variable to check those kernels on a machine that has oneDNN.
bool onednn_enabled();

}  // namespace torch2trt::cpu

#ifdef T2T_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

namespace torch2trt::cpu::dnn {

/// The process-wide oneDNN CPU engine (oneDNN engines may be shared between threads).
const dnnl::engine& engine();
/// oneDNN dims from int64 extents.
dnnl::memory::dims dims(const int64_t* d, int n);
/// A dense row-major float32 memory descriptor.
dnnl::memory::desc plain_f32(const dnnl::memory::dims& d);

/// One oneDNN primitive with its memory objects; the data pointers of arguments are set at each run.
/// An argument whose layout inside the primitive (`inner`, e.g. channel-blocked) differs from the
/// caller's dense layout (`user`) is reordered into / out of the kernel's workspace around the run.
/// A kernel owns its primitives, so each is used by one thread at a time (as oneDNN streams require).
class Primitive {
 public:
  /// One run-time argument: oneDNN id, the caller's layout, the primitive's layout, and its direction.
  struct Arg {
    int id;
    dnnl::memory::desc user, inner;
    bool output;
  };
  /// Takes the primitive (made from `pd`) and its arguments. Constant arguments (reordered weights,
  /// bias) are given with their memory in `fixed` and never change.
  void init(const dnnl::primitive_desc& pd, const std::vector<Arg>& args,
            const std::vector<std::pair<int, dnnl::memory>>& fixed = {});
  /// Scratch bytes for the reordered arguments.
  size_t workspace_size() const { return workspace_; }
  /// Runs with the caller's data pointers of the arguments, in the order given to init().
  void run(const std::vector<void*>& ptrs, void* workspace);
  /// oneDNN's name of the chosen implementation (e.g. "jit:avx512_core"), for tests and profiles.
  const std::string& impl() const { return impl_; }

 private:
  struct Slot {
    dnnl::memory user, inner;
    dnnl::reorder reorder;
    bool reordered;  // false when the layouts agree (inner is user)
    bool output;
    size_t offset;
  };
  dnnl::primitive prim_;
  dnnl::stream stream_;
  std::vector<Slot> slots_;
  std::unordered_map<int, dnnl::memory> args_;
  size_t workspace_ = 0;
  std::string impl_;
};

/// Reorders `src` (any layout oneDNN can describe) into a new memory of layout `dst` and returns it.
dnnl::memory reorder_to(const dnnl::memory::desc& src, const void* data, const dnnl::memory::desc& dst);

}  // namespace torch2trt::cpu::dnn
#endif
