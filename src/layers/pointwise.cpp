#include "torch2trt/layers/pointwise.h"

#include "torch2trt/layers/activation.h"
#include "torch2trt/layers/elementwise.h"
#include "torch2trt/layers/unary.h"

namespace torch2trt {

const char* pointwise_opcode_name(PointwiseOpcode c) {
  switch (c) {
    case PointwiseOpcode::kCONSTANT: return "CONSTANT";
    case PointwiseOpcode::kACTIVATION: return "ACTIVATION";
    case PointwiseOpcode::kUNARY: return "UNARY";
    case PointwiseOpcode::kBINARY: return "BINARY";
  }
  return "?";
}

namespace {

std::string reg(int32_t r) { return "r" + std::to_string(r); }

// Operand fields an opcode does not read must be zero: a program is read from engine files, and a
// value that would be silently ignored there is more likely corruption than intent.
void check_unused(const PointwiseLayer& l, const std::string& where, const char* field, double v) {
  if (v != 0) l.fail(where, std::string(field) + " is unused by this opcode and must be 0, got " + std::to_string(v));
}

}  // namespace

std::vector<TensorDesc> PointwiseLayer::infer(const std::vector<TensorDesc>& in) const {
  const int n_in = static_cast<int>(in.size());
  if (n_in < 1 || n_in > kMaxPointwiseInputs)
    fail("inputs", "expects 1 to " + std::to_string(kMaxPointwiseInputs) + " inputs, got " + std::to_string(n_in));
  for (int i = 0; i < n_in; ++i) {
    std::string name = "input" + std::to_string(i);
    if (in[i].dims.nb_dims < 0) fail(name, "must be set");
    if (!is_floating(in[i].dtype))
      fail(name, std::string("needs a float tensor, got ") + dtype_name(in[i].dtype) + " (integer chains are not fused)");
    if (in[i].dtype != in[0].dtype)
      fail(name, std::string("dtype ") + dtype_name(in[i].dtype) + " differs from input0's " + dtype_name(in[0].dtype));
  }
  const int n_code = static_cast<int>(p.program.size());
  if (n_code < 1 || n_code > kMaxPointwiseInstructions)
    fail("program", "needs 1 to " + std::to_string(kMaxPointwiseInstructions) + " instructions, got " +
                        std::to_string(n_code));
  for (int i = 0; i < n_code; ++i) {
    const PointwiseInstruction& ins = p.program[i];
    const int dst = n_in + i;
    const std::string where = "program[" + std::to_string(i) + "] (" + reg(dst) + ")";
    if (static_cast<int32_t>(ins.code) < 0 || static_cast<int32_t>(ins.code) >= kNumPointwiseOpcodes)
      fail(where, "unknown opcode " + std::to_string(static_cast<int32_t>(ins.code)));
    auto check_reg = [&](const char* field, int32_t r) {
      if (r < 0 || r >= dst)
        fail(where, std::string("operand ") + field + " = " + std::to_string(r) + " must name an input (r0.." +
                        reg(n_in - 1) + ") or an earlier instruction's register (below " + reg(dst) + ")");
    };
    switch (ins.code) {
      case PointwiseOpcode::kCONSTANT:
        check_unused(*this, where, "op", ins.op);
        check_unused(*this, where, "a", ins.a);
        check_unused(*this, where, "b", ins.b);
        check_unused(*this, where, "beta", ins.beta);
        break;
      case PointwiseOpcode::kACTIVATION:
        if (ins.op < 0 || ins.op >= kNumActivationTypes)
          fail(where, "unknown activation type " + std::to_string(ins.op));
        if (static_cast<ActivationType>(ins.op) == ActivationType::kSOFTPLUS && ins.alpha == 0.f)
          fail(where, "SOFTPLUS needs a non-zero alpha (torch's beta)");
        check_reg("a", ins.a);
        check_unused(*this, where, "b", ins.b);
        break;
      case PointwiseOpcode::kUNARY: {
        if (ins.op < 0 || ins.op >= kNumUnaryOperations) fail(where, "unknown unary operation " + std::to_string(ins.op));
        auto op = static_cast<UnaryOperation>(ins.op);
        if (unary_outputs_bool(op))
          fail(where, std::string("unary ") + unary_op_name(op) + " gives a bool, which a Pointwise program cannot hold");
        check_reg("a", ins.a);
        check_unused(*this, where, "b", ins.b);
        check_unused(*this, where, "alpha", ins.alpha);
        check_unused(*this, where, "beta", ins.beta);
        break;
      }
      case PointwiseOpcode::kBINARY: {
        if (ins.op < 0 || ins.op >= kNumElementWiseOperations)
          fail(where, "unknown elementwise operation " + std::to_string(ins.op));
        auto op = static_cast<ElementWiseOperation>(ins.op);
        if (elementwise_is_comparison(op) || elementwise_is_logical(op))
          fail(where, std::string("elementwise ") + elementwise_op_name(op) +
                          " is a comparison or logical operation; a Pointwise program holds float arithmetic only");
        check_reg("a", ins.a);
        check_reg("b", ins.b);
        check_unused(*this, where, "alpha", ins.alpha);
        check_unused(*this, where, "beta", ins.beta);
        break;
      }
    }
  }
  if (p.result < 0 || p.result >= n_in + n_code)
    fail("result", "register " + std::to_string(p.result) + " does not exist (r0.." + reg(n_in + n_code - 1) + ")");
  TensorDesc o = in[0];
  for (int i = 1; i < n_in; ++i) {
    std::string a = "inputs 0.." + std::to_string(i - 1), b = "input" + std::to_string(i);
    o.dims = broadcast_dims(*this, o.dims, in[i].dims, a.c_str(), b.c_str());
  }
  return {o};
}

void PointwiseLayer::save(Writer& w) const {
  w.put(static_cast<uint64_t>(p.program.size()));
  for (const auto& ins : p.program) w.put_all(ins.code, ins.op, ins.a, ins.b, ins.alpha, ins.beta);
  w.put(p.result);
}

void PointwiseLayer::load(Reader& r) {
  uint64_t n;
  r.get(n);
  // Bounded before allocating: the shape rule checks the program itself once the layer is read.
  if (n > static_cast<uint64_t>(kMaxPointwiseInstructions))
    r.bad("a Pointwise program of " + std::to_string(n) + " instructions (at most " +
          std::to_string(kMaxPointwiseInstructions) + ")");
  p.program.resize(n);
  for (auto& ins : p.program) r.get_all(ins.code, ins.op, ins.a, ins.b, ins.alpha, ins.beta);
  r.get(p.result);
}

PointwiseLayer* add_pointwise(Network& net, const std::vector<Tensor*>& inputs, const PointwiseParams& params) {
  auto l = std::make_unique<PointwiseLayer>();
  l->p = params;
  return net.add(std::move(l), inputs, "add_pointwise");
}

std::string pointwise_program_text(const PointwiseParams& p, int num_inputs) {
  std::string s;
  for (size_t i = 0; i < p.program.size(); ++i) {
    const PointwiseInstruction& ins = p.program[i];
    s += reg(num_inputs + static_cast<int>(i)) + " = ";
    switch (ins.code) {
      case PointwiseOpcode::kCONSTANT: s += std::to_string(ins.alpha); break;
      case PointwiseOpcode::kACTIVATION:
        s += std::string(activation_type_name(static_cast<ActivationType>(ins.op))) + "(" + reg(ins.a) +
             ", alpha=" + std::to_string(ins.alpha) + ", beta=" + std::to_string(ins.beta) + ")";
        break;
      case PointwiseOpcode::kUNARY:
        s += std::string(unary_op_name(static_cast<UnaryOperation>(ins.op))) + "(" + reg(ins.a) + ")";
        break;
      case PointwiseOpcode::kBINARY:
        s += std::string(elementwise_op_name(static_cast<ElementWiseOperation>(ins.op))) + "(" + reg(ins.a) + ", " +
             reg(ins.b) + ")";
        break;
    }
    s += "\n";
  }
  s += "out = " + reg(p.result);
  return s;
}

}  // namespace torch2trt
