// One Pointwise instruction evaluated in compute type T, shared by the CPU and CUDA Pointwise kernels
// and by nothing else: the math itself is pointwise_math.h's, the same the single-op kernels use, so a
// fused chain computes what the layers it replaced computed.
#pragma once

#include "backends/common/pointwise_math.h"
#include "torch2trt/layers/pointwise.h"

namespace torch2trt::pw {

/// Value of `ins` given the values of its operand registers (b is ignored by one-operand opcodes).
template <class T>
T2T_HD T instruction(const PointwiseInstruction& ins, T a, T b) {
  switch (ins.code) {
    case PointwiseOpcode::kCONSTANT: return T(ins.alpha);
    case PointwiseOpcode::kACTIVATION:
      return activation<T>(static_cast<ActivationType>(ins.op), a, T(ins.alpha), T(ins.beta));
    case PointwiseOpcode::kUNARY: return unary<T>(static_cast<UnaryOperation>(ins.op), a);
    case PointwiseOpcode::kBINARY: return binary_float<T>(static_cast<ElementWiseOperation>(ins.op), a, b);
  }
  return a;  // unreachable: the shape rule rejects unknown opcodes
}

}  // namespace torch2trt::pw
