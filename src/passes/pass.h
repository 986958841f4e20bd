// Builder passes: named rewrite rules, each in its own file, run in order by run_passes().
#pragma once

#include <string>
#include <vector>

#include "torch2trt/builder.h"
#include "torch2trt/network.h"

namespace torch2trt {

/// A rewrite rule: `run` rewrites the network in place and returns how many rewrites it made.
struct Pass {
  const char* name;
  int (*run)(Network& net, const BuilderConfig& config);
};

/// The passes in the order the builder runs them.
const std::vector<Pass>& builder_passes();
/// Reduced precision (FP16/BF16 flags): runs once after the rewrite passes, at every optimization level.
int assign_precision(Network& net, const BuilderConfig& config);
/// GPU targets: keeps chains of half-precision convolutions and poolings channels-last (NHWC) with the
/// layout transposes only where a chain starts and ends. Runs after assign_precision (it needs the types).
int layout_channels_last(Network& net, const BuilderConfig& config);
/// Removes layers none of whose outputs reach a network output.
int remove_dead_layers(Network& net, const BuilderConfig& config);
/// Runs every pass until none changes the network (bounded number of rounds).
void run_passes(Network& net, const BuilderConfig& config);

}  // namespace torch2trt
