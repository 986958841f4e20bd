// Reference helpers for the data-movement layer tests (shuffle, concat, slice, gather, select, padding,
// constant, identity/cast): index arithmetic on HostTensor and the dtypes these layers accept.
#pragma once

#include <functional>
#include <vector>

#include "harness.h"

namespace t2t_test {

/// Multi-index of linear position i in dims d (row-major).
inline std::vector<int64_t> unravel(int64_t i, const Dims& d) {
  std::vector<int64_t> idx(d.nb_dims);
  for (int k = d.nb_dims - 1; k >= 0; --k) {
    idx[k] = i % d.d[k];
    i /= d.d[k];
  }
  return idx;
}

/// Linear position of multi-index idx in dims d.
inline int64_t ravel(const std::vector<int64_t>& idx, const Dims& d) {
  int64_t r = 0;
  for (int k = 0; k < d.nb_dims; ++k) r = r * d.d[k] + idx[k];
  return r;
}

/// A tensor of dtype t and shape d whose value at each multi-index is f(index).
inline HostTensor make_tensor(DataType t, const Dims& d, const std::function<double(const std::vector<int64_t>&)>& f) {
  HostTensor h;
  h.dtype = t;
  h.dims = d;
  h.v.resize(static_cast<size_t>(d.volume()));
  for (int64_t i = 0; i < d.volume(); ++i) h.v[i] = f(unravel(i, d));
  return h;
}

/// y with y.dims[i] = x.dims[perm[i]] (torch.permute).
inline HostTensor ref_permute(const HostTensor& x, const std::vector<int>& perm) {
  Dims d = x.dims;
  for (int i = 0; i < d.nb_dims; ++i) d.d[i] = x.dims.d[perm[i]];
  return make_tensor(x.dtype, d, [&](const std::vector<int64_t>& y) {
    std::vector<int64_t> src(y.size());
    for (size_t i = 0; i < y.size(); ++i) src[perm[i]] = y[i];
    return x.v[ravel(src, x.dims)];
  });
}

/// Every dtype the data-movement layers accept (half types are converted around CPU kernels).
inline std::vector<DataType> movement_dtypes() {
  return {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16, DataType::kINT32,
          DataType::kINT64, DataType::kINT8, DataType::kUINT8, DataType::kBOOL};
}

/// A random-input range that dtype t represents exactly.
inline std::pair<double, double> value_range(DataType t) {
  if (t == DataType::kBOOL) return {0, 1};
  if (t == DataType::kUINT8) return {0, 200};
  if (t == DataType::kINT8) return {-100, 100};
  if (is_floating(t)) return {-4, 4};
  return {-1000, 1000};
}

/// An exact-comparison case with random values of `dtype` in its natural range.
inline OpCase movement_case(const std::string& variant, DataType dtype) {
  OpCase c;
  c.variant = variant + "_" + dtype_name(dtype);
  auto r = value_range(dtype);
  c.lo = r.first, c.hi = r.second;
  c.exact = true;
  return c;
}

/// Runs f and returns the InvalidArgument message it throws ("" when it does not throw).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

}  // namespace t2t_test
