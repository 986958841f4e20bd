// CPU kernel registry: one factory per layer kind, declared from layers.def so a missing one fails to link.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "torch2trt/layers/all.h"

namespace torch2trt::cpu {

/// Each family file defines, for every kind it owns:
///   std::unique_ptr<Kernel> make_<Name>(const NameLayer&, in, out, std::string* why)
/// which returns null and sets *why when the parameters or dtypes are not supported.
/// Half-precision (float16/bfloat16) tensors never reach these kernels: the backend converts them
/// to float32 around the kernel, so a kernel that supports float32 supports the half types too.
#define T2T_LAYER(Name, family)                                                                    \
  std::unique_ptr<Kernel> make_##Name(const Name##Layer& layer, const std::vector<TensorDesc>& in, \
                                      const std::vector<TensorDesc>& out, std::string* why);
#include "torch2trt/layers.def"
#undef T2T_LAYER

/// Number of threads CPU kernels may use.
int num_threads();
/// Runs f(begin, end) over [0, n) split across the CPU threads (serially when n is small).
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f);

}  // namespace torch2trt::cpu
