// Elementwise binary layer (TensorRT's IElementWiseLayer) with numpy broadcasting.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Binary operations; numeric values follow TensorRT's ElementWiseOperation.
enum class ElementWiseOperation : int32_t {
  kSUM = 0,
  kPROD = 1,
  kMAX = 2,
  kMIN = 3,
  kSUB = 4,
  kDIV = 5,        ///< true division for floats; for integers truncates toward zero (as TensorRT)
  kPOW = 6,
  kFLOOR_DIV = 7,  ///< floor(a / b), as torch.floor_divide / Python //
  kAND = 8,
  kOR = 9,
  kXOR = 10,
  kEQUAL = 11,
  kGREATER = 12,
  kLESS = 13,
};
constexpr int kNumElementWiseOperations = 14;
const char* elementwise_op_name(ElementWiseOperation op);
/// True for EQUAL, GREATER, LESS (bool output).
bool elementwise_is_comparison(ElementWiseOperation op);
/// True for AND, OR, XOR (bool inputs and output).
bool elementwise_is_logical(ElementWiseOperation op);

/// Parameters of an elementwise layer.
struct ElementWiseParams {
  ElementWiseOperation op = ElementWiseOperation::kSUM;
};

/// c = a op b. Inputs have the same rank and dtype; each extent equal or 1 (numpy broadcasting).
class ElementWiseLayer : public Layer {
 public:
  ElementWiseLayer() : Layer(LayerKind::kElementWise) {}
  ElementWiseParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.op)
};

/// Adds an elementwise layer.
ElementWiseLayer* add_elementwise(Network& net, Tensor* a, Tensor* b, ElementWiseOperation op);

/// Broadcast shape of a and b (same rank, extents equal or 1; -1 stays unknown); throws via `layer`.
Dims broadcast_dims(const Layer& layer, const Dims& a, const Dims& b, const char* arg_a, const char* arg_b);

}  // namespace torch2trt
