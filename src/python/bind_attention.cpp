#include "python/bind.h"

namespace torch2trt::py {

void bind_Attention(nb::module_& m, nb::class_<Network>& net) {
  auto c = nb::class_<AttentionLayer, Layer>(
      m, "IAttentionLayer", "softmax(query keyᵀ * scale + mask) value in one layer (made by the builder or added)");
  prop<AttentionLayer, float>(c, "scale", [](const AttentionLayer& l) { return l.p.scale; },
                              [](AttentionLayer& l, float v) { l.p.scale = v; });
  prop<AttentionLayer, bool>(c, "causal", [](const AttentionLayer& l) { return l.p.causal; },
                             [](AttentionLayer& l, bool v) { l.p.causal = v; });
  prop<AttentionLayer, bool>(c, "heads_interleaved", [](const AttentionLayer& l) { return l.p.heads_interleaved; },
                             [](AttentionLayer& l, bool v) { l.p.heads_interleaved = v; });
  prop<AttentionLayer, bool>(c, "zero_empty_rows", [](const AttentionLayer& l) { return l.p.zero_empty_rows; },
                             [](AttentionLayer& l, bool v) { l.p.zero_empty_rows = v; });
  // Read-only: flipping it alone never validates (the inputs change with it); add_attention sets it.
  c.def_prop_ro(
      "packed_qkv", [](const AttentionLayer& l) { return l.p.packed_qkv; },
      "True when input 0 holds q, k and v as (..., S, 3, H, D) and inputs 1 and 2 are unset");
  net.def(
      "add_attention",
      [](Network& n, Tensor* query, Tensor* key, Tensor* value, Tensor* mask, float scale, bool causal,
         bool heads_interleaved, bool packed_qkv) {
        AttentionParams p;
        p.scale = scale;
        p.causal = causal;
        p.heads_interleaved = heads_interleaved;
        p.packed_qkv = packed_qkv;
        return add_attention(n, query, key, value, mask, p);
      },
      nb::rv_policy::reference_internal, nb::arg("query"), nb::arg("key").none(), nb::arg("value").none(),
      nb::arg("mask").none() = nb::none(), nb::arg("scale") = 1.0f, nb::arg("causal") = false,
      nb::arg("heads_interleaved") = false, nb::arg("packed_qkv") = false,
      "softmax(query keyᵀ * scale + mask) value; mask: bool (True: may attend) or float (added), or None. "
      "heads_interleaved: tensors are (..., S, H, D); packed_qkv (with heads_interleaved): query is "
      "(..., S, 3, H, D) holding q, k and v, key and value are None. Properties scale, causal, "
      "heads_interleaved and zero_empty_rows can be changed afterwards.");
}

}  // namespace torch2trt::py
