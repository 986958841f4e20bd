#include "torch2trt/layers/gather.h"

namespace torch2trt {

const char* gather_mode_name(GatherMode m) {
  switch (m) {
    case GatherMode::kDEFAULT: return "DEFAULT";
    case GatherMode::kELEMENT: return "ELEMENT";
    case GatherMode::kND: return "ND";
  }
  return "?";
}

const char* scatter_mode_name(ScatterMode m) {
  switch (m) {
    case ScatterMode::kELEMENT: return "ELEMENT";
    case ScatterMode::kND: return "ND";
  }
  return "?";
}

namespace {

bool is_index_type(DataType t) { return t == DataType::kINT32 || t == DataType::kINT64; }

// Extents that must agree: equal, or one known only at run time.
bool compatible(int64_t a, int64_t b) { return a == b || a < 0 || b < 0; }

void append(Dims& out, const Dims& src, int from, int to, const Layer& l) {
  for (int i = from; i < to; ++i) {
    if (out.nb_dims >= kMaxDims)
      l.fail("output", "the output would have more than " + std::to_string(kMaxDims) + " dimensions");
    out.d[out.nb_dims++] = src.d[i];
  }
}

void check_common(const Layer& l, const std::vector<TensorDesc>& in, size_t n) {
  if (in.size() != n) l.fail("inputs", "expects " + std::to_string(n) + " inputs, got " + std::to_string(in.size()));
  for (size_t i = 0; i < n; ++i)
    if (in[i].dims.nb_dims < 0) l.fail("inputs", "input " + std::to_string(i) + " is not set");
  if (in[0].dims.nb_dims < 1) l.fail("data", "data must have rank >= 1, got shape " + in[0].dims.str());
  if (in[0].dtype == DataType::kFP8) l.fail("data", "fp8 tensors are not supported");
  if (!is_index_type(in[1].dtype))
    l.fail("indices", std::string("indices must be int32 or int64, got ") + dtype_name(in[1].dtype));
}

// Shape of indices[:-1] + data[first:], after checking the index tuple length of an ND mode.
Dims nd_shape(const Layer& l, const Dims& data, const Dims& idx, int batch, int64_t* tuple) {
  int q = idx.nb_dims, r = data.nb_dims;
  if (q < 1) l.fail("indices", "ND mode needs indices of rank >= 1, got shape " + idx.str());
  int64_t k = idx.d[q - 1];
  if (k < 0) l.fail("indices", "ND mode needs the last extent of the indices " + idx.str() + " known when building");
  if (k < 1 || batch + k > r)
    l.fail("indices", "the last extent of the indices " + idx.str() + " is " + std::to_string(k) + "; it must be 1.." +
                          std::to_string(r - batch) + " for data " + data.str() +
                          (batch ? " with " + std::to_string(batch) + " batch dimensions" : std::string()));
  *tuple = k;
  Dims out;
  append(out, idx, 0, q - 1, l);
  append(out, data, batch + static_cast<int>(k), r, l);
  return out;
}

// ELEMENT modes index `axis`; every other extent of the indices must fit the data's.
bool element_axis_fits(const Dims& data, const Dims& idx, int axis) {
  if (idx.nb_dims != data.nb_dims) return false;
  for (int k = 0; k < data.nb_dims; ++k)
    if (k != axis && data.d[k] >= 0 && idx.d[k] > data.d[k]) return false;
  return true;
}

// The axis add_* starts an ELEMENT-mode layer with: 0 as in TensorRT, unless the indices only fit one
// other axis. TensorRT code adds the layer and sets `axis` afterwards, and every add_* validates at once.
int32_t initial_element_axis(const Tensor* data, const Tensor* idx) {
  if (!data || !idx || element_axis_fits(data->dims(), idx->dims(), 0)) return 0;
  int found = -1;
  for (int k = 1; k < data->dims().nb_dims; ++k)
    if (element_axis_fits(data->dims(), idx->dims(), k)) {
      if (found >= 0) return 0;
      found = k;
    }
  return found >= 0 ? found : 0;
}

}  // namespace

std::vector<TensorDesc> GatherLayer::infer(const std::vector<TensorDesc>& in) const {
  check_common(*this, in, 2);
  const Dims &data = in[0].dims, &idx = in[1].dims;
  int r = data.nb_dims, q = idx.nb_dims, e = p.num_elementwise_dims;
  if (static_cast<int>(p.mode) < 0 || static_cast<int>(p.mode) >= kNumGatherModes)
    fail("mode", "unknown gather mode " + std::to_string(static_cast<int>(p.mode)));
  Dims out;
  switch (p.mode) {
    case GatherMode::kDEFAULT: {
      if (e < 0 || e > 1) fail("num_elementwise_dims", "must be 0 or 1 in DEFAULT mode, got " + std::to_string(e));
      if (p.axis < e || p.axis >= r)
        fail("axis", "axis " + std::to_string(p.axis) + " is out of range for data " + data.str() + " (valid: " +
                         std::to_string(e) + ".." + std::to_string(r - 1) +
                         (e ? ", after the elementwise dimension)" : ")"));
      if (e == 1) {
        if (q < 1) fail("indices", "num_elementwise_dims 1 needs indices of rank >= 1, got shape " + idx.str());
        int64_t a = data.d[0], b = idx.d[0];
        if (a != b && a != 1 && b != 1 && a >= 0 && b >= 0)
          fail("indices", "leading extents of data " + data.str() + " and indices " + idx.str() +
                              " do not broadcast (num_elementwise_dims is 1)");
        out.nb_dims = 1;
        out.d[0] = a == 1 ? b : b == 1 ? a : (a < 0 || b < 0) ? -1 : a;
      }
      append(out, data, e, p.axis, *this);
      append(out, idx, e, q, *this);
      append(out, data, p.axis + 1, r, *this);
      break;
    }
    case GatherMode::kELEMENT: {
      if (e != 0) fail("num_elementwise_dims", "must be 0 in ELEMENT mode, got " + std::to_string(e));
      if (p.axis < 0 || p.axis >= r)
        fail("axis", "axis " + std::to_string(p.axis) + " is out of range for data " + data.str());
      if (q != r)
        fail("indices", "ELEMENT mode needs indices of the data's rank: data " + data.str() + ", indices " + idx.str());
      for (int k = 0; k < r; ++k)
        if (k != p.axis && data.d[k] >= 0 && idx.d[k] > data.d[k])
          fail("indices", "indices " + idx.str() + " are larger than data " + data.str() + " in dimension " +
                              std::to_string(k) + ", which is not the gather axis " + std::to_string(p.axis));
      out = idx;
      break;
    }
    case GatherMode::kND: {
      if (p.axis != 0) fail("axis", "ND mode does not use an axis; it must stay 0, got " + std::to_string(p.axis));
      if (e < 0 || e >= r || e >= q)
        fail("num_elementwise_dims", std::to_string(e) + " batch dimensions do not fit data " + data.str() +
                                         " and indices " + idx.str());
      for (int k = 0; k < e; ++k)
        if (!compatible(data.d[k], idx.d[k]))
          fail("indices", "batch dimension " + std::to_string(k) + " of indices " + idx.str() + " differs from data " +
                              data.str());
      int64_t tuple;
      out = nd_shape(*this, data, idx, e, &tuple);
      break;
    }
  }
  return {TensorDesc{in[0].dtype, out}};
}

std::vector<TensorDesc> ScatterLayer::infer(const std::vector<TensorDesc>& in) const {
  check_common(*this, in, 3);
  const Dims &data = in[0].dims, &idx = in[1].dims, &upd = in[2].dims;
  int r = data.nb_dims;
  if (in[2].dtype != in[0].dtype)
    fail("updates",
         std::string("dtype ") + dtype_name(in[2].dtype) + " differs from the data's " + dtype_name(in[0].dtype));
  if (static_cast<int>(p.mode) < 0 || static_cast<int>(p.mode) >= kNumScatterModes)
    fail("mode", "unknown scatter mode " + std::to_string(static_cast<int>(p.mode)));
  Dims want;
  switch (p.mode) {
    case ScatterMode::kELEMENT: {
      if (p.axis < 0 || p.axis >= r)
        fail("axis", "axis " + std::to_string(p.axis) + " is out of range for data " + data.str());
      if (idx.nb_dims != r)
        fail("indices", "ELEMENT mode needs indices of the data's rank: data " + data.str() + ", indices " + idx.str());
      for (int k = 0; k < r; ++k)
        if (k != p.axis && data.d[k] >= 0 && idx.d[k] > data.d[k])
          fail("indices", "indices " + idx.str() + " are larger than data " + data.str() + " in dimension " +
                              std::to_string(k) + ", which is not the scatter axis " + std::to_string(p.axis));
      want = idx;
      break;
    }
    case ScatterMode::kND: {
      if (p.axis != 0) fail("axis", "ND mode does not use an axis; it must stay 0, got " + std::to_string(p.axis));
      int64_t tuple;
      want = nd_shape(*this, data, idx, 0, &tuple);
      break;
    }
  }
  bool ok = upd.nb_dims == want.nb_dims;
  for (int k = 0; ok && k < want.nb_dims; ++k) ok = compatible(upd.d[k], want.d[k]);
  if (!ok)
    fail("updates", "shape " + upd.str() + " must be " + want.str() + " for data " + data.str() + " and indices " +
                        idx.str() + " in " + scatter_mode_name(p.mode) + " mode");
  return {in[0]};
}

GatherLayer* add_gather(Network& net, Tensor* data, Tensor* indices, int32_t axis) {
  auto l = std::make_unique<GatherLayer>();
  l->p.axis = axis;
  return net.add(std::move(l), {data, indices}, "add_gather");
}

GatherLayer* add_gather_v2(Network& net, Tensor* data, Tensor* indices, GatherMode mode) {
  auto l = std::make_unique<GatherLayer>();
  l->p.mode = mode;
  if (mode == GatherMode::kELEMENT) l->p.axis = initial_element_axis(data, indices);
  return net.add(std::move(l), {data, indices}, "add_gather_v2");
}

ScatterLayer* add_scatter(Network& net, Tensor* data, Tensor* indices, Tensor* updates, ScatterMode mode) {
  auto l = std::make_unique<ScatterLayer>();
  l->p.mode = mode;
  if (mode == ScatterMode::kELEMENT) l->p.axis = initial_element_axis(data, indices);
  return net.add(std::move(l), {data, indices, updates}, "add_scatter");
}

}  // namespace torch2trt
