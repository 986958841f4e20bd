// Pointwise layer: a fused chain or tree of elementwise operations evaluated in one pass over the
// output. The builder makes it (pass fuse_pointwise) from Activation, Unary, ElementWise and Scale
// layers; users do not add it, but it is stored in engine files, so its program is validated in full.
#pragma once

#include <string>

#include "torch2trt/network.h"

namespace torch2trt {

/// What one Pointwise instruction computes.
enum class PointwiseOpcode : int32_t {
  kCONSTANT = 0,    ///< the scalar `alpha` (operands unused, must be 0)
  kACTIVATION = 1,  ///< ActivationType `op` of register `a`, with `alpha` and `beta` as the Activation layer
  kUNARY = 2,       ///< UnaryOperation `op` of register `a` (the float-valued operations only)
  kBINARY = 3,      ///< ElementWiseOperation `op` of registers `a` and `b` (the arithmetic operations only)
};
/// Number of PointwiseOpcode values.
constexpr int kNumPointwiseOpcodes = 4;
/// "CONSTANT", "ACTIVATION", ... ("?" when out of range).
const char* pointwise_opcode_name(PointwiseOpcode c);

/// Most inputs of one Pointwise layer: the CUDA kernel takes the input pointers and strides as arguments.
constexpr int kMaxPointwiseInputs = 8;
/// Most instructions of one program: the CUDA kernel takes the program as an argument and keeps one
/// register per input and instruction.
constexpr int kMaxPointwiseInstructions = 48;

/// One instruction. Registers 0 .. num_inputs-1 hold the inputs (broadcast to the output element);
/// instruction i writes register num_inputs + i and reads only registers written before it.
struct PointwiseInstruction {
  PointwiseOpcode code = PointwiseOpcode::kCONSTANT;
  int32_t op = 0;    ///< ActivationType, UnaryOperation or ElementWiseOperation value (0 for CONSTANT)
  int32_t a = 0;     ///< first operand register (ACTIVATION, UNARY, BINARY)
  int32_t b = 0;     ///< second operand register (BINARY)
  float alpha = 0.f; ///< CONSTANT: the value; ACTIVATION: the activation's alpha
  float beta = 0.f;  ///< ACTIVATION: the activation's beta
};

/// Parameters of a Pointwise layer: the program and the register that becomes the output.
struct PointwiseParams {
  std::vector<PointwiseInstruction> program;
  int32_t result = 0;
};

/// y = program(inputs) per output element, computed in float32 whatever the storage type. Inputs: 1 to
/// kMaxPointwiseInputs float tensors of one dtype (float32, float16 or bfloat16), broadcast to one
/// shape by numpy rules (right-aligned, extents equal or 1); the output has that shape and dtype.
class PointwiseLayer : public Layer {
 public:
  PointwiseLayer() : Layer(LayerKind::kPointwise) {}
  PointwiseParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  void save(Writer& w) const override;
  void load(Reader& r) override;
};

/// Adds a Pointwise layer (for builder passes and tests); the program is checked against the inputs.
PointwiseLayer* add_pointwise(Network& net, const std::vector<Tensor*>& inputs, const PointwiseParams& params);

/// The program as text, one instruction per line: "r2 = PROD(r0, r1)", "r3 = RELU(r2)", ..., "out = r3".
std::string pointwise_program_text(const PointwiseParams& p, int num_inputs);

}  // namespace torch2trt
