// Compile-time activation dispatch for kernels that apply one fused activation to many values per thread
// (an unrolled epilogue over 8 channels, 64 GEMM accumulators). Inlined into each of those values, the
// runtime switch over every activation type is code for every type at every value; in the own GEMM's
// epilogue (64 values per thread) SiLU then cost 14 us more than no activation, whatever the problem size
// (H100). with_act_kind switches once, outside the per-value loop, into a copy of the loop specialised for
// the common activations; the others go through one out-of-line call.
#pragma once

#include <type_traits>

#include "backends/common/pointwise_math.h"
#include "backends/cuda/cuda_device.cuh"

namespace torch2trt::gpu {

/// The activations with their own compile-time code (kActAny: the rest, or any type, at run time).
enum ActKind : int { kActNone = 0, kActRelu, kActSilu, kActGeluErf, kActClip, kActSigmoid, kActAny };

/// The kind of a fused activation (kActNone when there is none).
__host__ __device__ constexpr int act_kind_of(bool has_act, ActivationType t) {
  if (!has_act) return kActNone;
  switch (t) {
    case ActivationType::kRELU: return kActRelu;
    case ActivationType::kSILU: return kActSilu;
    case ActivationType::kGELU_ERF: return kActGeluErf;
    case ActivationType::kCLIP: return kActClip;
    case ActivationType::kSIGMOID: return kActSigmoid;
    default: return kActAny;
  }
}

/// Any activation through one out-of-line copy of the shared functors.
[[maybe_unused]] static __device__ __noinline__ float act_any(float v, ActivationParams a) {
  return pw::activation<float>(a.type, v, a.alpha, a.beta);
}

/// The activation of kind A (the shared pointwise functors with a constant type, but for kActAny).
template <int A>
__device__ __forceinline__ float act_of(float v, const ActivationParams& a) {
  if constexpr (A == kActNone) return v;
  else if constexpr (A == kActRelu) return pw::activation<float>(ActivationType::kRELU, v, 0.f, 0.f);
  else if constexpr (A == kActSilu) return pw::activation<float>(ActivationType::kSILU, v, 0.f, 0.f);
  else if constexpr (A == kActGeluErf) return pw::activation<float>(ActivationType::kGELU_ERF, v, 0.f, 0.f);
  else if constexpr (A == kActClip) return pw::activation<float>(ActivationType::kCLIP, v, a.alpha, a.beta);
  else if constexpr (A == kActSigmoid) return pw::activation<float>(ActivationType::kSIGMOID, v, 0.f, 0.f);
  else return act_any(v, a);
}

/// Calls f(std::integral_constant<int, K>{}) for the kind K (uniform over the caller's threads, ideally).
template <class F>
__device__ __forceinline__ void with_act_kind(int kind, F&& f) {
  switch (kind) {
    case kActNone: f(std::integral_constant<int, kActNone>{}); break;
    case kActRelu: f(std::integral_constant<int, kActRelu>{}); break;
    case kActSilu: f(std::integral_constant<int, kActSilu>{}); break;
    case kActGeluErf: f(std::integral_constant<int, kActGeluErf>{}); break;
    case kActClip: f(std::integral_constant<int, kActClip>{}); break;
    case kActSigmoid: f(std::integral_constant<int, kActSigmoid>{}); break;
    default: f(std::integral_constant<int, kActAny>{}); break;
  }
}

}  // namespace torch2trt::gpu
