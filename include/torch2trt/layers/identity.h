// Identity layer (TensorRT's IIdentityLayer) and cast layer (ICastLayer).
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// y = x: same shape and dtype (a copy).
class IdentityLayer : public Layer {
 public:
  IdentityLayer() : Layer(LayerKind::kIdentity) {}
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  void save(Writer&) const override {}
  void load(Reader&) override {}
};

/// Parameters of a cast layer.
struct CastParams {
  DataType to_type = DataType::kFLOAT;  ///< output dtype
};

/// y = x converted to `to_type`, as PyTorch's Tensor.to(dtype): float -> integer truncates toward zero
/// (saturating at the integer type's range for int32/int64, NaN -> 0; int8/uint8 wrap modulo 256 after
/// truncation to int64, as integer narrowing does); integer narrowing wraps; -> bool is x != 0;
/// bool -> number is 0 or 1; float -> float16/bfloat16 rounds to nearest even.
class CastLayer : public Layer {
 public:
  CastLayer() : Layer(LayerKind::kCast) {}
  CastParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  T2T_SERIALIZE_FIELDS(p.to_type)
};

/// Adds an identity layer.
IdentityLayer* add_identity(Network& net, Tensor* input);
/// Adds a cast to `to_type` (float32, float16, bfloat16, int8, uint8, int32, int64 or bool).
CastLayer* add_cast(Network& net, Tensor* input, DataType to_type);

}  // namespace torch2trt
