// Own tensor-core GEMM with the whole epilogue inside: y = act(A x B + bias + z) in one launch, for
// float16 / bfloat16 on sm_80 and newer. cuBLASLt fuses only the bias, ReLU and the tanh GELU, and cuDNN's
// fused convolution only ReLU, so BERT's FFN (GELU-erf) and EfficientNet's 1x1 convolutions (SiLU) ran
// a second kernel over their output. The matrix multiply and the 1x1 convolution offer it as tactics; the
// builder keeps it only where it times faster than the library kernel plus the epilogue pass.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "torch2trt/layers/activation.h"
#include "torch2trt/types.h"

namespace torch2trt::gpu {

/// Operands of one GEMM: y (m x n, row-major, dense) = act(a (m x k, row-major, dense) x b + bias[col] + z).
struct GemmMmaArgs {
  const void* a = nullptr;
  const void* b = nullptr;  ///< (n, k) row-major when b_nk (a Linear weight, a 1x1 filter), else (k, n)
  void* y = nullptr;
  const void* z = nullptr;     ///< residual, dense m x n in the operand type, or null
  const void* bias = nullptr;  ///< n values, or null
  bool bias_float = false;     ///< bias in float32 (the convolution's) or in the operand type (the matmul's)
  bool b_nk = true;
  int64_t m = 0, n = 0, k = 0;
  bool has_act = false;
  ActivationParams act;
};

/// Tile configurations (the tactics each caller offers): 0 .. kGemmMmaConfigs - 1.
constexpr int kGemmMmaConfigs = 8;

/// "gemm_mma_64x64" ... for a configuration.
const char* gemm_mma_config_name(int config);

/// True when the kernel can run a GEMM of this type and size on the current device: float16/bfloat16,
/// compute capability 8.0+, k and n multiples of 8 (whole 16-byte rows), sizes within its 32-bit grid.
/// The pointers are checked per run (gemm_mma_aligned).
bool gemm_mma_fits(DataType dt, int64_t m, int64_t n, int64_t k);

/// True when the pointers allow the kernel: a and b 16-byte aligned, y and z 4-byte aligned.
bool gemm_mma_aligned(const GemmMmaArgs& g);

/// Launches configuration `config` on stream s (gemm_mma_fits and gemm_mma_aligned must hold).
void launch_gemm_mma(DataType dt, int config, const GemmMmaArgs& g, cudaStream_t s);

}  // namespace torch2trt::gpu
