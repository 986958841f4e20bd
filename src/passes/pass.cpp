#include "passes/pass.h"

namespace torch2trt {

int remove_dead_layers(Network& net, const BuilderConfig& config);
int remove_noop_layers(Network& net, const BuilderConfig& config);
int remove_broadcast_slices(Network& net, const BuilderConfig& config);
int fold_constants(Network& net, const BuilderConfig& config);
int fold_scale_into_convolution(Network& net, const BuilderConfig& config);
int fuse_gelu(Network& net, const BuilderConfig& config);
int fuse_silu(Network& net, const BuilderConfig& config);
int fuse_layer_norm(Network& net, const BuilderConfig& config);
int fuse_softmax(Network& net, const BuilderConfig& config);
int fuse_attention(Network& net, const BuilderConfig& config);
int fuse_pointwise(Network& net, const BuilderConfig& config);
int fuse_convolution_epilogue(Network& net, const BuilderConfig& config);
int fuse_squeeze_excite(Network& net, const BuilderConfig& config);
int fuse_matmul_epilogue(Network& net, const BuilderConfig& config);
int convolution_to_matmul(Network& net, const BuilderConfig& config);
int merge_shuffles(Network& net, const BuilderConfig& config);
int merge_qkv_projections(Network& net, const BuilderConfig& config);

const std::vector<Pass>& builder_passes() {
  static const std::vector<Pass> passes = {
      {"remove_dead_layers", remove_dead_layers},
      {"remove_noop_layers", remove_noop_layers},
      {"remove_broadcast_slices", remove_broadcast_slices},
      {"fold_constants", fold_constants},
      {"fold_scale_into_convolution", fold_scale_into_convolution},
      // Pattern fusions need the elementwise layers that fuse_pointwise would otherwise absorb.
      {"fuse_gelu", fuse_gelu},
      // Before the epilogue passes: the SILU it makes is an activation they can fuse into the layer before.
      {"fuse_silu", fuse_silu},
      {"fuse_layer_norm", fuse_layer_norm},
      {"fuse_softmax", fuse_softmax},
      // After fuse_softmax (it matches SoftMax layers), before the epilogue passes and fuse_pointwise, which
      // would absorb the scale and mask layers of its pattern.
      {"fuse_attention", fuse_attention},
      // After fuse_gelu (its activations fuse too), before fuse_pointwise (which would absorb them).
      {"fuse_convolution_epilogue", fuse_convolution_epilogue},
      // After fuse_convolution_epilogue: the two 1x1 convolutions of a gate carry their activations by then.
      {"fuse_squeeze_excite", fuse_squeeze_excite},
      // After fuse_convolution_epilogue (the bias and activation it fused move to the GEMM's epilogue), before
      // fuse_matmul_epilogue and the GPU layout pass (which would make the convolution channels-last).
      {"convolution_to_matmul", convolution_to_matmul},
      // After fuse_attention (a merged heads swap would no longer match) and convolution_to_matmul (its output
      // transpose cancels with a following flatten + transpose).
      {"merge_shuffles", merge_shuffles},
      // Same place for the same reason: bias adds, residual adds and activations after a matmul.
      {"fuse_matmul_epilogue", fuse_matmul_epilogue},
      // After fuse_attention and fuse_matmul_epilogue: it reads the Attention layer and the projections' biases.
      {"merge_qkv_projections", merge_qkv_projections},
      // Last: any pass that claims specific elementwise layers (an activation after a convolution, say)
      // must run before it.
      {"fuse_pointwise", fuse_pointwise},
  };
  return passes;
}

void run_passes(Network& net, const BuilderConfig& config) {
  for (int round = 0; round < 8; ++round) {
    int changes = 0;
    for (auto& p : builder_passes()) changes += p.run(net, config);
    if (!changes) break;
  }
}

}  // namespace torch2trt
