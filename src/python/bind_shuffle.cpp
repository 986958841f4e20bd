#include "python/bind.h"

namespace torch2trt::py {

namespace {

nb::object perm_to_py(const std::vector<int32_t>& p) {
  nb::list l;
  for (int32_t v : p) l.append(v);
  return nb::tuple(l);
}

std::vector<int32_t> perm_from_py(nb::handle v, const char* what) {
  std::vector<int32_t> r;
  for (int64_t x : to_dims(v, what).vec()) {
    if (x < 0 || x >= kMaxDims)
      throw InvalidArgument(std::string(what) + ": entry " + std::to_string(x) + " is not a dimension index 0.." +
                            std::to_string(kMaxDims - 1));
    r.push_back(static_cast<int32_t>(x));
  }
  return r;
}

}  // namespace

void bind_Shuffle(nb::module_& m, nb::class_<Network>& net) {
  // TensorRT's Permutation: here a plain tuple, which every permutation attribute accepts.
  m.def("Permutation", [](nb::handle order) { return perm_to_py(perm_from_py(order, "Permutation")); },
        nb::arg("order"), "A permutation (output dimension i takes input dimension order[i]) as a tuple");
  auto c = nb::class_<ShuffleLayer, Layer>(m, "IShuffleLayer");
  prop<ShuffleLayer, nb::object>(
      c, "first_transpose", [](const ShuffleLayer& l) { return perm_to_py(l.p.first_transpose); },
      [](ShuffleLayer& l, nb::object v) { l.p.first_transpose = perm_from_py(v, "IShuffleLayer.first_transpose"); });
  prop<ShuffleLayer, nb::object>(
      c, "second_transpose", [](const ShuffleLayer& l) { return perm_to_py(l.p.second_transpose); },
      [](ShuffleLayer& l, nb::object v) { l.p.second_transpose = perm_from_py(v, "IShuffleLayer.second_transpose"); });
  prop<ShuffleLayer, bool>(c, "zero_is_placeholder", [](const ShuffleLayer& l) { return l.p.zero_is_placeholder; },
                           [](ShuffleLayer& l, bool v) { l.p.zero_is_placeholder = v; });
  // Not prop(): setting reshape_dims also drops a shape tensor given as input 1, as in TensorRT.
  c.def_prop_rw(
      "reshape_dims",
      [](const ShuffleLayer& l) -> nb::object {
        if (!l.p.has_reshape) return nb::none();
        return from_dims(l.p.reshape_dims);
      },
      [](ShuffleLayer& l, nb::handle v) { l.set_reshape_dims(to_dims(v, "IShuffleLayer.reshape_dims")); },
      "Target shape (0 copies, one -1 is inferred); None until set");
  net.def("add_shuffle", [](Network& n, Tensor* input) { return add_shuffle(n, input); },
          nb::rv_policy::reference_internal, nb::arg("input"));
}

}  // namespace torch2trt::py
