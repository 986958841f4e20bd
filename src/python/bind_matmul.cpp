#include "python/bind.h"

namespace torch2trt::py {

void bind_MatrixMultiply(nb::module_& m, nb::class_<Network>& net) {
  nb::enum_<MatrixOperation>(m, "MatrixOperation")
      .value("NONE", MatrixOperation::kNONE)
      .value("TRANSPOSE", MatrixOperation::kTRANSPOSE)
      .value("VECTOR", MatrixOperation::kVECTOR);
  auto c = nb::class_<MatrixMultiplyLayer, Layer>(m, "IMatrixMultiplyLayer");
  prop<MatrixMultiplyLayer, MatrixOperation>(c, "op0", [](const MatrixMultiplyLayer& l) { return l.p.op0; },
                                             [](MatrixMultiplyLayer& l, MatrixOperation v) { l.p.op0 = v; });
  prop<MatrixMultiplyLayer, MatrixOperation>(c, "op1", [](const MatrixMultiplyLayer& l) { return l.p.op1; },
                                             [](MatrixMultiplyLayer& l, MatrixOperation v) { l.p.op1 = v; });
  auto check_index = [](int index) {
    if (index != 0 && index != 1)
      throw InvalidArgument("IMatrixMultiplyLayer: operand index must be 0 or 1, got " + std::to_string(index));
  };
  c.def("get_operation", [check_index](const MatrixMultiplyLayer& l, int index) {
    check_index(index);
    return index == 0 ? l.p.op0 : l.p.op1;
  }, nb::arg("index"));
  c.def("set_operation", [check_index](MatrixMultiplyLayer& l, int index, MatrixOperation op) {
    check_index(index);
    MatrixOperation& f = index == 0 ? l.p.op0 : l.p.op1;
    MatrixOperation old = f;
    f = op;
    l.changed([&] { f = old; });
  }, nb::arg("index"), nb::arg("op"));
  // Extension, read-only: the epilogue fuse_matmul_epilogue folds in, y = act(op0(A) x op1(B) + bias + z).
  c.def_prop_ro("bias", [](const MatrixMultiplyLayer& l) { return l.p.bias; },
                "The fused per-column bias (empty Weights when none)");
  c.def_prop_ro("has_activation", [](const MatrixMultiplyLayer& l) { return l.p.has_activation; },
                "True when the builder fused an activation into this matrix multiply");
  c.def_prop_ro("activation", [](const MatrixMultiplyLayer& l) { return l.p.activation.type; },
                "The fused activation's type (meaningful when has_activation)");
  c.def_prop_ro("alpha", [](const MatrixMultiplyLayer& l) { return l.p.activation.alpha; },
                "The fused activation's alpha");
  c.def_prop_ro("beta", [](const MatrixMultiplyLayer& l) { return l.p.activation.beta; },
                "The fused activation's beta");
  net.def("add_matrix_multiply",
          [](Network& n, Tensor* input0, MatrixOperation op0, Tensor* input1, MatrixOperation op1) {
            return add_matrix_multiply(n, input0, op0, input1, op1);
          },
          nb::rv_policy::reference_internal, nb::arg("input0"), nb::arg("op0"), nb::arg("input1"), nb::arg("op1"),
          "Batched matrix product; batch dims broadcast (equal or 1), same number of them on both inputs");
}

}  // namespace torch2trt::py
