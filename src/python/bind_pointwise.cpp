#include <nanobind/stl/tuple.h>

#include "python/bind.h"

namespace torch2trt::py {

namespace {

std::string op_name(const PointwiseInstruction& ins) {
  switch (ins.code) {
    case PointwiseOpcode::kCONSTANT: return "";
    case PointwiseOpcode::kACTIVATION: return activation_type_name(static_cast<ActivationType>(ins.op));
    case PointwiseOpcode::kUNARY: return unary_op_name(static_cast<UnaryOperation>(ins.op));
    case PointwiseOpcode::kBINARY: return elementwise_op_name(static_cast<ElementWiseOperation>(ins.op));
  }
  return "?";
}

}  // namespace

// Pointwise layers are made by the builder (pass fuse_pointwise), never by add_* calls, so the class is
// read-only: it describes what an optimized engine runs.
void bind_Pointwise(nb::module_& m, nb::class_<Network>&) {
  auto c = nb::class_<PointwiseLayer, Layer>(m, "IPointwiseLayer",
                                             "A fused chain of elementwise operations, made by the builder");
  c.def_prop_ro("program", [](const PointwiseLayer& l) {
    nb::list r;
    for (const auto& ins : l.p.program)
      r.append(nb::make_tuple(std::string(pointwise_opcode_name(ins.code)), op_name(ins), ins.a, ins.b, ins.alpha,
                              ins.beta));
    return r;
  }, "(opcode, operation, a, b, alpha, beta) per instruction; instruction i writes register num_inputs + i");
  c.def_prop_ro("result", [](const PointwiseLayer& l) { return l.p.result; }, "register holding the output");
  c.def_prop_ro("program_text", [](const PointwiseLayer& l) { return pointwise_program_text(l.p, l.num_inputs()); },
                "the program, one instruction per line");
}

}  // namespace torch2trt::py
