#include "torch2trt/layers/shuffle.h"

#include "torch2trt/layers/constant.h"

namespace torch2trt {

namespace {

std::string perm_str(const std::vector<int32_t>& p) {
  std::string s = "(";
  for (size_t i = 0; i < p.size(); ++i) s += (i ? ", " : "") + std::to_string(p[i]);
  return s + (p.size() == 1 ? ",)" : ")");
}

Dims permute(const Dims& d, const std::vector<int32_t>& perm) {
  Dims r;
  r.nb_dims = d.nb_dims;
  for (int i = 0; i < d.nb_dims; ++i) r.d[i] = d.d[perm[i]];
  return r;
}

}  // namespace

std::vector<int32_t> expand_permutation(const Layer& layer, const std::vector<int32_t>& perm, int rank,
                                        const char* argument) {
  std::vector<int32_t> full(rank);
  for (int i = 0; i < rank; ++i) full[i] = i;
  int n = static_cast<int>(perm.size());
  for (int i = rank; i < n; ++i)
    if (perm[i] != i)
      layer.fail(argument, perm_str(perm) + " moves dimension " + std::to_string(perm[i]) +
                               " but the tensor it applies to has rank " + std::to_string(rank));
  int k = std::min(n, rank);
  std::vector<bool> seen(k, false);
  for (int i = 0; i < k; ++i) {
    int v = perm[i];
    if (v < 0 || v >= k || seen[v])
      layer.fail(argument, perm_str(perm) + " is not a permutation of 0.." + std::to_string(k - 1) +
                               " (it applies to a rank-" + std::to_string(rank) + " tensor)");
    seen[v] = true;
    full[i] = v;
  }
  return full;
}

bool ShuffleLayer::reshape_target(Dims* target) const {
  if (num_inputs() > 1 && input(1)) {
    auto v = read_shape_input(*this, 1, "input 1 (shape tensor)");
    if (v.size() > static_cast<size_t>(kMaxDims))
      fail("input 1 (shape tensor)", "has " + std::to_string(v.size()) + " values; at most " +
                                         std::to_string(kMaxDims) + " dimensions");
    *target = Dims::from(v);
    return true;
  }
  if (!p.has_reshape) return false;
  *target = p.reshape_dims;
  return true;
}

std::vector<TensorDesc> ShuffleLayer::infer(const std::vector<TensorDesc>& in) const {
  if (in.empty() || in.size() > 2) fail("inputs", "expects 1 or 2 inputs, got " + std::to_string(in.size()));
  if (in[0].dims.nb_dims < 0) fail("input", "input 0 is not set");
  const Dims& x = in[0].dims;
  Dims a = permute(x, expand_permutation(*this, p.first_transpose, x.nb_dims, "first_transpose"));

  Dims b = a;
  Dims r;
  if (reshape_target(&r)) {
    if (r.nb_dims < 0 || r.nb_dims > kMaxDims) fail("reshape_dims", "rank must be 0.." + std::to_string(kMaxDims));
    b.nb_dims = r.nb_dims;
    // Extents copied by a 0 cancel out of the element count, so a -1 can still be inferred when the only
    // unknown input extents are copied ones: (-1, 3, 4) -> (0, -1) gives (-1, 12).
    bool copied[kMaxDims] = {false};
    int infer_at = -1;
    bool unknown = false;  // an extent not copied by a 0 is known only at run time
    int64_t known = 1;     // product of the output extents that are neither copied nor inferred
    for (int i = 0; i < r.nb_dims; ++i) {
      int64_t v = r.d[i];
      if (v == 0 && p.zero_is_placeholder) {
        if (i >= a.nb_dims)
          fail("reshape_dims", r.str() + ": the 0 at position " + std::to_string(i) +
                                   " copies an input extent, but the (transposed) input " + a.str() + " has rank " +
                                   std::to_string(a.nb_dims));
        b.d[i] = a.d[i];
        copied[i] = true;
        continue;
      }
      if (v == -1) {
        if (infer_at >= 0) fail("reshape_dims", r.str() + " has more than one -1");
        infer_at = i;
        continue;
      }
      if (v < 0) fail("reshape_dims", r.str() + " has a negative extent " + std::to_string(v));
      b.d[i] = v;
      known *= v;
    }
    int64_t rest = 1;  // product of the input extents not copied
    for (int i = 0; i < a.nb_dims; ++i) {
      if (i < r.nb_dims && copied[i]) continue;
      if (a.d[i] < 0)
        unknown = true;
      else
        rest *= a.d[i];
    }
    if (infer_at >= 0) {
      if (unknown) {
        b.d[infer_at] = -1;
      } else if (known == 0) {
        fail("reshape_dims", r.str() + ": the -1 cannot be inferred when other extents are 0 (input " + a.str() + ")");
      } else {
        if (rest % known != 0)
          fail("reshape_dims", "cannot reshape " + a.str() + " to " + r.str() + ": " + std::to_string(rest) +
                                   " elements do not divide into extents of " + std::to_string(known));
        b.d[infer_at] = rest / known;
      }
    } else if (!unknown && rest != known) {
      auto count = [](const Dims& d) {
        return d.volume() >= 0 ? " (" + std::to_string(d.volume()) + " elements)" : std::string();
      };
      fail("reshape_dims", "cannot reshape " + a.str() + count(a) + " to " + b.str() + count(b));
    }
  }
  Dims c = permute(b, expand_permutation(*this, p.second_transpose, b.nb_dims, "second_transpose"));
  return {TensorDesc{in[0].dtype, c}};
}

void ShuffleLayer::set_reshape_dims(const Dims& d) {
  ShuffleParams old = p;
  p.reshape_dims = d;
  p.has_reshape = true;
  if (num_inputs() > 1 && input(1)) {
    try {
      set_input(1, nullptr);
    } catch (...) {
      p = old;
      changed([] {});
      throw;
    }
  } else {
    changed([&] { p = old; });
  }
}

ShuffleLayer* add_shuffle(Network& net, Tensor* input) {
  return net.add(std::make_unique<ShuffleLayer>(), {input}, "add_shuffle");
}

bool permutation_keeps_order(const Dims& src, const std::vector<int32_t>& perm) {
  int32_t last = -1;
  for (int32_t a : perm) {
    if (src.d[a] == 1) continue;
    if (a < last) return false;
    last = a;
  }
  return true;
}

}  // namespace torch2trt
