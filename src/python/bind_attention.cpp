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
  net.def(
      "add_attention",
      [](Network& n, Tensor* query, Tensor* key, Tensor* value, Tensor* mask, float scale, bool causal) {
        AttentionParams p;
        p.scale = scale;
        p.causal = causal;
        return add_attention(n, query, key, value, mask, p);
      },
      nb::rv_policy::reference_internal, nb::arg("query"), nb::arg("key"), nb::arg("value"),
      nb::arg("mask").none() = nb::none(), nb::arg("scale") = 1.0f, nb::arg("causal") = false,
      "softmax(query keyᵀ * scale + mask) value; mask: bool (True: may attend) or float (added), or None. "
      "Properties scale, causal, heads_interleaved and zero_empty_rows can be changed afterwards.");
}

}  // namespace torch2trt::py
