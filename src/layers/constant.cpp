#include "torch2trt/layers/constant.h"

namespace torch2trt {

std::vector<TensorDesc> ConstantLayer::infer(const std::vector<TensorDesc>& in) const {
  if (!in.empty()) fail("inputs", "a constant has no inputs, got " + std::to_string(in.size()));
  if (p.shape.nb_dims < 0 || p.shape.nb_dims > kMaxDims) fail("shape", "rank must be 0.." + std::to_string(kMaxDims));
  if (!p.shape.is_static())
    fail("shape", "shape " + p.shape.str() + " must be fully known (no -1 or negative extents)");
  if (!is_valid_dtype(static_cast<int32_t>(p.weights.dtype)))
    fail("weights", "unknown weights data type " + std::to_string(static_cast<int>(p.weights.dtype)));
  if (p.weights.dtype == DataType::kFP8) fail("weights", "fp8 constants are not supported");
  if (p.weights.count != p.shape.volume())
    fail("weights", std::to_string(p.weights.count) + " values do not fill shape " + p.shape.str() + " (" +
                        std::to_string(p.shape.volume()) + " elements)");
  if (p.weights.count > 0 && p.weights.nbytes() != static_cast<size_t>(p.weights.count) * dtype_size(p.weights.dtype))
    fail("weights", "weights hold " + std::to_string(p.weights.nbytes()) + " bytes, expected " +
                        std::to_string(p.weights.count * dtype_size(p.weights.dtype)));
  return {TensorDesc{p.weights.dtype, p.shape}};
}

ConstantLayer* add_constant(Network& net, const Dims& shape, const Weights& weights) {
  auto l = std::make_unique<ConstantLayer>();
  l->p.shape = shape;
  l->p.weights = weights;
  return net.add(std::move(l), {}, "add_constant");
}

bool constant_int_values(const Tensor* t, std::vector<int64_t>* values) {
  if (!t || !t->producer() || t->producer()->kind() != LayerKind::kConstant) return false;
  const auto& w = static_cast<const ConstantLayer*>(t->producer())->p.weights;
  if (w.dtype != DataType::kINT32 && w.dtype != DataType::kINT64) return false;
  values->resize(static_cast<size_t>(w.count));
  for (int64_t i = 0; i < w.count; ++i) (*values)[i] = static_cast<int64_t>(w.at(i));
  return true;
}

std::vector<int64_t> read_shape_input(const Layer& layer, int index, const std::string& argument) {
  const Tensor* t = layer.input(index);
  if (!t) layer.fail(argument, "input " + std::to_string(index) + " is not set");
  if (t->dtype() != DataType::kINT32 && t->dtype() != DataType::kINT64)
    layer.fail(argument, std::string("a shape tensor must be int32 or int64, got ") + dtype_name(t->dtype()));
  if (t->dims().nb_dims != 1)
    layer.fail(argument, "a shape tensor must be 1-D, got shape " + t->dims().str());
  std::vector<int64_t> v;
  if (!constant_int_values(t, &v)) {
    std::string from =
        t->producer() ? std::string("a ") + layer_kind_name(t->producer()->kind()) + " layer" : "a network input";
    layer.fail(argument, "tensor '" + t->name() + "' comes from " + from +
                             "; only shape tensors made by add_constant can be read when building (shapes computed "
                             "at run time are not supported): pass the values as a layer attribute instead");
  }
  return v;
}

}  // namespace torch2trt
