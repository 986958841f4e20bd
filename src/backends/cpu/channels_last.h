// Channels-last layers on the CPU: the reference backend runs the channels-first kernel between
// transposes (the layout exists for the GPU's tensor cores; the CPU only has to agree with it).
#pragma once

#include <memory>
#include <vector>

#include "torch2trt/kernel.h"

namespace torch2trt::cpu {

/// Wraps a kernel built for the channels-first version of a layer: inputs whose `permuted` flag is set
/// are moved to channels-first scratch, the inner kernel runs there, and output 0 is moved back.
std::unique_ptr<Kernel> channels_last_adapter(std::unique_ptr<Kernel> inner, int nsp, std::vector<bool> permuted);

}  // namespace torch2trt::cpu
