// Matrix multiply layer (TensorRT's IMatrixMultiplyLayer): batched, with broadcast batch dimensions.
#pragma once

#include "torch2trt/layers/activation.h"
#include "torch2trt/network.h"

namespace torch2trt {

/// How an operand enters the product; values follow TensorRT's MatrixOperation.
enum class MatrixOperation : int32_t {
  kNONE = 0,       ///< (..., rows, cols) used as is
  kTRANSPOSE = 1,  ///< (..., rows, cols) used transposed
  kVECTOR = 2,     ///< (..., n): a vector; the result has no dimension for it
};
constexpr int kNumMatrixOperations = 3;
/// "NONE", "TRANSPOSE", "VECTOR".
const char* matrix_operation_name(MatrixOperation op);

/// Parameters of a matrix multiply layer. The epilogue fields (bias, has_activation, activation) are set by
/// the fuse_matmul_epilogue pass, never by add_matrix_multiply: y = act(op0(A) x op1(B) + bias + z), z being
/// the optional input 2 (a residual of the output's shape and type).
struct MatrixMultiplyParams {
  MatrixOperation op0 = MatrixOperation::kNONE;
  MatrixOperation op1 = MatrixOperation::kNONE;
  Weights bias;                 ///< N values, one per output column (broadcast over rows and batch), or empty
  bool has_activation = false;  ///< true when `activation` is applied last
  ActivationParams activation;  ///< the fused activation when has_activation (type, alpha, beta)
};

/// Concrete geometry of a matrix multiply for given input dims.
struct MatrixMultiplyGeometry {
  int batch_rank = 0;                   ///< number of batch dimensions
  Dims batch0, batch1, batch_out;       ///< batch extents of each operand (equal or 1) and of the output
  int64_t m = 1, n = 1, k = 1;          ///< output rows, output cols, reduction length
  bool trans0 = false, trans1 = false;  ///< operand stored transposed: input0 as (k, m), input1 as (n, k)
};

/// C = op0(A) x op1(B). Non-vector operands have rank >= 2, vector operands rank >= 1; both have the same
/// number of batch dimensions, each pair equal or 1. Float types; both inputs of one dtype. With the fused
/// epilogue: C = act(op0(A) x op1(B) + bias + z) for an optional input 2 z of the output's shape and type.
class MatrixMultiplyLayer : public Layer {
 public:
  MatrixMultiplyLayer() : Layer(LayerKind::kMatrixMultiply) {}
  MatrixMultiplyParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// Resolved geometry for static input dims (throws like infer() on invalid inputs).
  MatrixMultiplyGeometry geometry(const Dims& a, const Dims& b) const;
  T2T_SERIALIZE_FIELDS(p.op0, p.op1, p.bias, p.has_activation, p.activation.type, p.activation.alpha,
                       p.activation.beta)
};

/// Adds a matrix multiply (TensorRT's add_matrix_multiply).
MatrixMultiplyLayer* add_matrix_multiply(Network& net, Tensor* input0, MatrixOperation op0, Tensor* input1,
                                         MatrixOperation op1);

}  // namespace torch2trt
