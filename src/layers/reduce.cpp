#include "torch2trt/layers/reduce.h"

namespace torch2trt {

const char* reduce_op_name(ReduceOperation op) {
  switch (op) {
    case ReduceOperation::kSUM: return "SUM";
    case ReduceOperation::kPROD: return "PROD";
    case ReduceOperation::kMAX: return "MAX";
    case ReduceOperation::kMIN: return "MIN";
    case ReduceOperation::kAVG: return "AVG";
  }
  return "?";
}

std::vector<int> axes_from_mask(const Layer& layer, uint32_t axes, int rank, const char* argument, bool single) {
  auto rank_text = [&] { return "the input has rank " + std::to_string(rank); };
  if (axes == 0)
    layer.fail(argument, std::string("no axis selected (bitmask 0); set bit i to select dimension i, ") + rank_text());
  if (rank < 32 && (axes >> rank) != 0)
    layer.fail(argument, "bitmask " + std::to_string(axes) + " selects a dimension >= " + std::to_string(rank) + "; " +
                             rank_text());
  std::vector<int> r;
  for (int i = 0; i < rank; ++i)
    if ((axes >> i) & 1u) r.push_back(i);
  if (single && r.size() != 1)
    layer.fail(argument, "bitmask " + std::to_string(axes) + " selects " + std::to_string(r.size()) +
                             " dimensions; exactly one is allowed (1 << axis)");
  return r;
}

std::vector<TensorDesc> ReduceLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.size() != 1) fail("inputs", "expects 1 input, got " + std::to_string(in.size()));
  if (in[0].dims.nb_dims < 0) fail("input", "the input is not set");
  if (static_cast<int>(p.op) < 0 || static_cast<int>(p.op) >= kNumReduceOperations)
    fail("op", "unknown reduce operation " + std::to_string(static_cast<int>(p.op)));
  const Dims& d = in[0].dims;
  std::vector<int> axes = axes_from_mask(*this, p.axes, d.nb_dims, "axes", false);
  DataType t = in[0].dtype;
  if (t == DataType::kINT32 || t == DataType::kINT64) {
    if (p.op == ReduceOperation::kAVG)
      fail("input", std::string("AVG needs a float tensor, got ") + dtype_name(t) + "; add a cast first");
  } else if (!is_floating(t)) {
    fail("input", std::string("reduce ") + reduce_op_name(p.op) + " does not accept " + dtype_name(t) +
                      " tensors (float types, int32 or int64 only)");
  }
  uint32_t mask = p.axes;
  if (p.op == ReduceOperation::kMAX || p.op == ReduceOperation::kMIN)
    for (int a : axes)
      if (d.d[a] == 0)
        fail("input", std::string(reduce_op_name(p.op)) + " over dimension " + std::to_string(a) + " of shape " +
                          d.str() + ", which is empty, has no value");
  TensorDesc o;
  o.dtype = t;
  o.dims.nb_dims = 0;
  for (int i = 0; i < d.nb_dims; ++i) {
    if ((mask >> i) & 1u) {
      if (p.keep_dims) o.dims.d[o.dims.nb_dims++] = 1;
    } else {
      o.dims.d[o.dims.nb_dims++] = d.d[i];
    }
  }
  return {o};
}

ReduceLayer* add_reduce(Network& net, Tensor* input, ReduceOperation op, uint32_t axes, bool keep_dims) {
  auto l = std::make_unique<ReduceLayer>();
  l->p.op = op;
  l->p.axes = axes;
  l->p.keep_dims = keep_dims;
  return net.add(std::move(l), {input}, "add_reduce");
}

}  // namespace torch2trt
