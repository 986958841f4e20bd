// Shared helpers for the nanobind module torch2trt._C (TensorRT's Python names).
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nanobind/stl/unique_ptr.h>

#include "torch2trt/layers/all.h"
#include "torch2trt/network.h"

namespace nb = nanobind;

namespace torch2trt::py {

/// Dims from any Python sequence of ints (tuple, list, trt.Dims, torch.Size).
Dims to_dims(nb::handle obj, const char* what);
/// Python tuple of the extents.
nb::tuple from_dims(const Dims& d);
/// Weights from a numpy array, a CPU torch tensor (detached, any float/int dtype), a trt.Weights, a
/// Python number or None (empty). float64 becomes float32 and bfloat16 tensors keep their type.
Weights to_weights(nb::handle obj, const char* what);
/// A list of ints from a Python sequence.
std::vector<int64_t> to_ints(nb::handle obj, const char* what);

/// Defines a read-write Python property on a layer class that re-validates the layer when set
/// (the old value comes back and the error is raised if the new value is invalid).
template <class L, class V, class Cls>
void prop(Cls& cls, const char* name, V (*get)(const L&), void (*set)(L&, V)) {
  cls.def_prop_rw(
      name, [get](const L& l) { return get(l); },
      [set, get](L& l, V v) {
        V old = get(l);
        set(l, v);
        l.changed([&] { set(l, old); });
      });
}

/// Registration of each layer kind's Python class and add_* methods (one per kind, from layers.def).
#define T2T_LAYER(Name, family) void bind_##Name(nb::module_& m, nb::class_<Network>& net);
#include "torch2trt/layers.def"
#undef T2T_LAYER

}  // namespace torch2trt::py
