// What the epilogue fusions share (fuse_convolution_epilogue, fuse_matmul_epilogue): the walk that folds a
// layer's only reader into it, and the epilogue y = act(op(x) + bias + z) both layer kinds carry.
#pragma once

#include <functional>
#include <vector>

#include "passes/pattern.h"

namespace torch2trt {

/// The epilogue fields of a producer layer, for absorb_epilogue.
struct EpilogueTarget {
  Layer* layer = nullptr;                 ///< the producer (a Convolution or a MatrixMultiply)
  Weights* bias = nullptr;                ///< one float per output feature, or empty
  bool* has_activation = nullptr;
  ActivationParams* activation = nullptr;
  int residual_input = 1;                 ///< the input slot z goes to (it must be the next one to set)
  int64_t features = 0;                   ///< bias length: output channels or columns
  /// The per-feature values of a constant added to y, or empty when it broadcasts another way.
  std::function<std::vector<float>(const Tensor* c)> feature_constant;
};

/// Folds `next` (the only reader of the target's output) into the epilogue: an Activation becomes the fused
/// activation (last: nothing is absorbed after it); an ElementWise SUM with a per-feature constant joins the
/// bias, one with an earlier tensor of the output's exact static shape and type becomes the residual z.
/// Returns false, changing nothing, when `next` does not fit.
bool absorb_epilogue(const EpilogueTarget& t, Layer* next);

/// For every layer whose only output has exactly one reader (not a network output, neither layer pinned
/// to a precision, the reader writing the same dtype), asks `absorb(layer, reader, uses)` to fold the reader
/// in; each accepted reader is removed and its readers read the layer's output. Returns the folds made.
int fold_readers_into_producers(Network& net,
                                const std::function<bool(Layer* producer, Layer* reader, pattern::Uses& uses)>& absorb);

}  // namespace torch2trt
