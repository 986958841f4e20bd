// Tactic selection by timing (see tactics.cpp).
#pragma once

#include "backends/backend.h"
#include "torch2trt/builder.h"

namespace torch2trt {

/// Times every tactic of every layer whose kernel offers several (static shapes only), records the
/// fastest with Layer::set_tactic and in `cache`; layers already in the cache are not timed. Returns the
/// number of layers timed.
int choose_tactics(Network& net, const BuilderConfig& config, Backend& backend, TimingCache& cache);

}  // namespace torch2trt
