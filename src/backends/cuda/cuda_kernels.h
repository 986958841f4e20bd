// CUDA kernel registry: one factory per layer kind, declared from layers.def so a missing one fails to link.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "torch2trt/layers/all.h"

namespace torch2trt::gpu {

/// Each family file src/backends/cuda/<family>.cu defines, for every kind it owns:
///   std::unique_ptr<Kernel> make_<Name>(const NameLayer&, in, out, std::string* why)
/// which returns null and sets *why when the parameters or dtypes are not supported. Unlike the CPU
/// registry, half-precision tensors reach the kernels as they are: each kernel states which dtypes it
/// runs natively (computing in float) and refuses the others. Factories must be cheap and must not
/// touch the device: the builder calls them to ask whether a layer is supported. Device work
/// (uploading weights, choosing algorithms) happens in Kernel::reshape.
#define T2T_LAYER(Name, family)                                                                    \
  std::unique_ptr<Kernel> make_##Name(const Name##Layer& layer, const std::vector<TensorDesc>& in, \
                                      const std::vector<TensorDesc>& out, std::string* why);
#include "torch2trt/layers.def"
#undef T2T_LAYER

}  // namespace torch2trt::gpu
