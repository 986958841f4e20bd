#include "torch2trt/layers/matmul.h"

#include <string>

namespace torch2trt {

const char* matrix_operation_name(MatrixOperation op) {
  switch (op) {
    case MatrixOperation::kNONE: return "NONE";
    case MatrixOperation::kTRANSPOSE: return "TRANSPOSE";
    case MatrixOperation::kVECTOR: return "VECTOR";
  }
  return "?";
}

namespace {

// Validates the inputs; returns the geometry (extents may be -1 when not known yet) and the output dims.
MatrixMultiplyGeometry check(const MatrixMultiplyLayer& l, const TensorDesc& a, const TensorDesc& b, Dims* out) {
  const MatrixMultiplyParams& p = l.p;
  if (static_cast<int>(p.op0) < 0 || static_cast<int>(p.op0) >= kNumMatrixOperations)
    l.fail("op0", "unknown matrix operation " + std::to_string(static_cast<int>(p.op0)));
  if (static_cast<int>(p.op1) < 0 || static_cast<int>(p.op1) >= kNumMatrixOperations)
    l.fail("op1", "unknown matrix operation " + std::to_string(static_cast<int>(p.op1)));
  if (!is_floating(a.dtype))
    l.fail("input0", std::string("matrix multiply needs float tensors, got ") + dtype_name(a.dtype) + "; add a cast first");
  if (b.dtype != a.dtype)
    l.fail("input1", std::string("dtype ") + dtype_name(b.dtype) + " differs from input0's " + dtype_name(a.dtype));
  bool v0 = p.op0 == MatrixOperation::kVECTOR, v1 = p.op1 == MatrixOperation::kVECTOR;
  int need0 = v0 ? 1 : 2, need1 = v1 ? 1 : 2;
  if (a.dims.nb_dims < need0)
    l.fail("input0", std::string("op0 ") + matrix_operation_name(p.op0) + " needs rank >= " + std::to_string(need0) +
                         ", got " + a.dims.str());
  if (b.dims.nb_dims < need1)
    l.fail("input1", std::string("op1 ") + matrix_operation_name(p.op1) + " needs rank >= " + std::to_string(need1) +
                         ", got " + b.dims.str());
  MatrixMultiplyGeometry g;
  int nb0 = a.dims.nb_dims - need0, nb1 = b.dims.nb_dims - need1;
  if (nb0 != nb1)
    l.fail("input1", "inputs must have the same number of batch dimensions (TensorRT's rule; add a shuffle to insert "
                     "size-1 dimensions): input0 " + a.dims.str() + " with op0 " + matrix_operation_name(p.op0) +
                         " has " + std::to_string(nb0) + ", input1 " + b.dims.str() + " with op1 " +
                         matrix_operation_name(p.op1) + " has " + std::to_string(nb1));
  g.batch_rank = nb0;
  g.batch0.nb_dims = g.batch1.nb_dims = g.batch_out.nb_dims = nb0;
  for (int i = 0; i < nb0; ++i) {
    int64_t x = a.dims.d[i], y = b.dims.d[i];
    g.batch0.d[i] = x;
    g.batch1.d[i] = y;
    if (x == y || y == 1)
      g.batch_out.d[i] = x;
    else if (x == 1)
      g.batch_out.d[i] = y;
    else if (x == -1 || y == -1)
      g.batch_out.d[i] = x == -1 ? y : x;  // checked again with concrete dims
    else
      l.fail("input0/input1", "batch dimension " + std::to_string(i) + " does not broadcast: input0 " + a.dims.str() +
                                  ", input1 " + b.dims.str() + " (" + std::to_string(x) + " vs " + std::to_string(y) + ")");
  }
  const int64_t* ad = a.dims.d + nb0;
  const int64_t* bd = b.dims.d + nb1;
  int64_t k0 = 0, k1 = 0;
  switch (p.op0) {
    case MatrixOperation::kNONE: g.m = ad[0], k0 = ad[1]; break;
    case MatrixOperation::kTRANSPOSE: g.m = ad[1], k0 = ad[0], g.trans0 = true; break;
    case MatrixOperation::kVECTOR: g.m = 1, k0 = ad[0]; break;
  }
  switch (p.op1) {
    case MatrixOperation::kNONE: k1 = bd[0], g.n = bd[1]; break;
    case MatrixOperation::kTRANSPOSE: k1 = bd[1], g.n = bd[0], g.trans1 = true; break;
    case MatrixOperation::kVECTOR: k1 = bd[0], g.n = 1; break;
  }
  if (k0 != k1 && k0 != -1 && k1 != -1)
    l.fail("input0/input1", "reduction lengths differ: input0 " + a.dims.str() + " with op0 " +
                                matrix_operation_name(p.op0) + " gives " + std::to_string(k0) + ", input1 " +
                                b.dims.str() + " with op1 " + matrix_operation_name(p.op1) + " gives " + std::to_string(k1));
  g.k = k0 == -1 ? k1 : k0;
  *out = g.batch_out;
  if (!v0) out->d[out->nb_dims++] = g.m;
  if (!v1) out->d[out->nb_dims++] = g.n;
  return g;
}

// The fused epilogue: bias of one value per output column, a residual z of the output's type and shape, and
// an activation valid for the output (the activation layer's own rule decides, so both agree).
void check_epilogue(const MatrixMultiplyLayer& l, const std::vector<TensorDesc>& in, const MatrixMultiplyGeometry& g,
                    const Dims& out) {
  const MatrixMultiplyParams& p = l.p;
  if (!p.bias.empty()) {
    if (!is_floating(p.bias.dtype))
      l.fail("bias", std::string("weights must be float32, float16 or bfloat16, got ") + dtype_name(p.bias.dtype));
    if (g.n >= 0 && p.bias.count != g.n)
      l.fail("bias", "expected one value per output column (N = " + std::to_string(g.n) + " for output " +
                         out.str() + "), got " + std::to_string(p.bias.count));
  }
  if (p.has_activation) {
    ActivationLayer act;
    act.p = p.activation;
    act.set_name(l.name() + ".activation");
    try {
      act.infer({TensorDesc{in[0].dtype, out}});
    } catch (const InvalidArgument& e) {
      l.fail("activation", std::string("the fused activation is invalid: ") + e.what());
    }
  }
  if (in.size() < 3) return;
  const TensorDesc& z = in[2];
  if (z.dims.nb_dims < 0) l.fail("residual", "input 2 (the fused residual) is unset; remove it instead");
  if (z.dtype != in[0].dtype)
    l.fail("residual", std::string("input 2 (the fused residual) must have the inputs' type ") +
                           dtype_name(in[0].dtype) + ", got " + dtype_name(z.dtype));
  // -1 extents are only compared once both are known (at run time every extent is).
  bool same = z.dims.nb_dims == out.nb_dims;
  for (int i = 0; same && i < out.nb_dims; ++i) same = z.dims.d[i] < 0 || out.d[i] < 0 || z.dims.d[i] == out.d[i];
  if (!same)
    l.fail("residual", "input 2 (the fused residual) must have the output's shape " + out.str() + ", got " +
                           z.dims.str());
}

}  // namespace

std::vector<TensorDesc> MatrixMultiplyLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 2 && in.size() != 3)
    fail("inputs", "expects 2 inputs, or 3 with a fused residual, got " + std::to_string(in.size()));
  Dims out;
  MatrixMultiplyGeometry g = check(*this, in[0], in[1], &out);
  check_epilogue(*this, in, g, out);
  return {TensorDesc{in[0].dtype, out}};
}

MatrixMultiplyGeometry MatrixMultiplyLayer::geometry(const Dims& a, const Dims& b) const {
  if (!a.is_static() || !b.is_static()) fail("inputs", "geometry needs concrete dims, got " + a.str() + " and " + b.str());
  Dims out;
  return check(*this, TensorDesc{DataType::kFLOAT, a}, TensorDesc{DataType::kFLOAT, b}, &out);
}

MatrixMultiplyLayer* add_matrix_multiply(Network& net, Tensor* input0, MatrixOperation op0, Tensor* input1,
                                         MatrixOperation op1) {
  auto l = std::make_unique<MatrixMultiplyLayer>();
  l->p.op0 = op0;
  l->p.op1 = op1;
  return net.add(std::move(l), {input0, input1}, "add_matrix_multiply");
}

}  // namespace torch2trt
