#include "torch2trt/layers/cumsum.h"

#include <limits>

#include "torch2trt/layers/constant.h"

namespace torch2trt {

const char* cumulative_op_name(CumulativeOperation op) {
  switch (op) {
    case CumulativeOperation::kSUM: return "SUM";
  }
  return "?";
}

std::vector<TensorDesc> CumulativeSumLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1)
    fail("inputs", "expects 1 input, got " + std::to_string(in.size()) +
                       " (the axis is a parameter here, not an input tensor; set `axis`)");
  if (in[0].dims.nb_dims < 0) fail("input", "the input is not set");
  if (static_cast<int>(p.op) < 0 || static_cast<int>(p.op) >= kNumCumulativeOperations)
    fail("op", "unknown cumulative operation " + std::to_string(static_cast<int>(p.op)));
  DataType t = in[0].dtype;
  if (!is_floating(t) && t != DataType::kINT32 && t != DataType::kINT64 && t != DataType::kINT8)
    fail("input", std::string("cumulative sum does not accept ") + dtype_name(t) +
                      " tensors (float types, int32, int64 or int8 only)");
  int rank = in[0].dims.nb_dims;
  if (rank == 0) fail("input", "cumulative sum needs a tensor of rank >= 1, got a scalar");
  if (p.axis < -rank || p.axis >= rank)
    fail("axis", std::to_string(p.axis) + " is out of range for the input of shape " + in[0].dims.str() + " (valid: " +
                     std::to_string(-rank) + ".." + std::to_string(rank - 1) + ")");
  return {in[0]};
}

CumulativeSumLayer* add_cumulative(Network& net, Tensor* input, int32_t axis, CumulativeOperation op, bool exclusive,
                                   bool reverse) {
  auto l = std::make_unique<CumulativeSumLayer>();
  l->p.axis = axis;
  l->p.op = op;
  l->p.exclusive = exclusive;
  l->p.reverse = reverse;
  return net.add(std::move(l), {input}, "add_cumulative");
}

CumulativeSumLayer* add_cumulative(Network& net, Tensor* input, Tensor* axis, CumulativeOperation op, bool exclusive,
                                   bool reverse) {
  const std::string what = "add_cumulative: axis: ";
  if (!axis) throw InvalidArgument(what + "no axis tensor given");
  std::vector<int64_t> v;
  if (!constant_int_values(axis, &v)) {
    std::string from = axis->producer() ? std::string("a ") + layer_kind_name(axis->producer()->kind()) + " layer"
                                        : "a network input";
    throw InvalidArgument(what + "tensor '" + axis->name() + "' (" + dtype_name(axis->dtype()) + ") comes from " + from +
                          "; the axis must be an int or a tensor made by add_constant with one int32/int64 value");
  }
  if (v.size() != 1)
    throw InvalidArgument(what + "tensor '" + axis->name() + "' of shape " + axis->dims().str() + " holds " +
                          std::to_string(v.size()) + " values; the axis is a single value");
  if (v[0] < std::numeric_limits<int32_t>::min() || v[0] > std::numeric_limits<int32_t>::max())
    throw InvalidArgument(what + std::to_string(v[0]) + " is out of range");
  return add_cumulative(net, input, static_cast<int32_t>(v[0]), op, exclusive, reverse);
}

}  // namespace torch2trt
