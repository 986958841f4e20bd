// oneDNN plumbing shared by the CPU convolution, pooling and matrix multiply kernels.
#pragma once

#include <cstdint>
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
/// A kernel owns one, so it is used by one thread at a time (as oneDNN streams require).
class Primitive {
 public:
  Primitive() = default;
  /// Takes the primitive; `args` maps oneDNN argument ids to their descriptors. Constant arguments
  /// (reordered weights) are given with their memory in `fixed` and never change.
  void init(dnnl::primitive prim, const std::vector<std::pair<int, dnnl::memory::desc>>& args,
            const std::vector<std::pair<int, dnnl::memory>>& fixed = {});
  /// Runs with the data pointers of the non-fixed arguments, in the order given to init().
  void run(const std::vector<void*>& ptrs);
  bool ready() const { return ready_; }

 private:
  dnnl::primitive prim_;
  dnnl::stream stream_;
  std::vector<int> ids_;
  std::vector<dnnl::memory> mems_;
  std::unordered_map<int, dnnl::memory> args_;
  bool ready_ = false;
};

/// Reorders `src` (any layout oneDNN can describe) into a new memory of layout `dst` and returns it.
dnnl::memory reorder_to(const dnnl::memory::desc& src, const void* data, const dnnl::memory::desc& dst);

}  // namespace torch2trt::cpu::dnn
#endif
