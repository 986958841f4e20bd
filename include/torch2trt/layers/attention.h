// Attention layer: y = softmax(q kᵀ * scale + mask) v in one layer (scaled dot-product attention).
// The builder makes it from the matrix multiply / softmax chains converters write (pass
// fuse_attention); networks may also add it directly. Its kernels never store the score matrix.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Parameters of an attention layer.
struct AttentionParams {
  float scale = 1.f;               ///< multiplies q·kᵀ, before the mask is added; must be finite
  bool causal = false;             ///< query i sees keys j <= i only (PyTorch's is_causal: top-left aligned)
  bool heads_interleaved = false;  ///< false: q, k, v, output are (..., S, D); true: (..., S, H, D)
  /// A query whose scores are all -inf (every key masked) gives zeros, as torch's scaled_dot_product_attention;
  /// false gives NaN there, as softmax of all -inf does.
  bool zero_empty_rows = false;
  /// q, k and v packed in input 0 as (..., S, 3, H, D) (inputs 1 and 2 unset): what one matrix multiply of
  /// the merged projections writes (pass merge_qkv_projections). Needs heads_interleaved; Sq = Sk, Dv = D.
  bool packed_qkv = false;
};

/// Strides (in elements) of one operand of an attention layer over the logical index space.
struct AttentionStrides {
  int64_t batch[kMaxDims] = {};  ///< per batch dim (0 where the operand is broadcast along it)
  int64_t row = 0;               ///< along the sequence dim (Sq for q, out and mask; Sk for k and v)
  int64_t col = 1;               ///< along the last dim (D; for the mask Sk, 0 when broadcast)
};

/// Concrete geometry of an attention layer, in logical order: batch dims (every dim but the sequence and
/// feature dims; for heads_interleaved the heads dim comes last among them), then Sq x Sk scores.
/// With packed_qkv, q, k and v all live in input 0: q starts at its base pointer, k at `k_offset` and v at
/// `v_offset` elements from it, and their strides step over the packed (..., S, 3, H, D) layout (row 3*H*D,
/// heads D, batch S*3*H*D); a kernel then reads k and v there and never touches inputs 1 and 2.
struct AttentionGeometry {
  int batch_rank = 0;               ///< number of batch dims
  int64_t batch[kMaxDims] = {};     ///< their extents (q's, which are the output's)
  int64_t num_batches = 1;          ///< product of the batch extents
  int64_t sq = 0, sk = 0;           ///< query and key counts
  int64_t d = 0, dv = 0;            ///< q/k feature size and v/output feature size
  AttentionStrides q, k, v, out, mask;
  bool has_mask = false;            ///< input 3 is set
  bool mask_is_bool = false;        ///< bool mask (true: may attend) rather than an additive float mask
  bool packed_qkv = false;          ///< k and v are read from input 0 at k_offset and v_offset
  int64_t k_offset = 0, v_offset = 0;  ///< element offsets of k and v from input 0's base when packed (else 0)

  /// Element offset of batch index `b` (0 .. num_batches-1, row-major over `batch`) for strides `s`.
  int64_t batch_offset(int64_t b, const AttentionStrides& s) const {
    int64_t off = 0;
    for (int i = batch_rank - 1; i >= 0; --i) {
      off += (b % batch[i]) * s.batch[i];
      b /= batch[i];
    }
    return off;
  }
};

/// y = softmax(q kᵀ * scale + mask) v over the keys. Inputs: q (..., Sq, D), k (..., Sk, D), v (..., Sk, Dv)
/// of one float dtype and one rank (>= 2; >= 3 with heads_interleaved, where they are (..., S, H, D)), and
/// an optional input 3, the mask: float of q's dtype (added to the scaled scores) or bool (true: may
/// attend), broadcastable numpy-style (right-aligned, extents equal or 1) to the logical scores
/// (batch..., Sq, Sk). Batch extents of k and v equal q's or are 1 (broadcast: grouped-query attention);
/// the output has q's shape with D replaced by Dv, in q's layout, and q's dtype. Scores, softmax and
/// accumulation are computed in float32 whatever the storage type. With packed_qkv (and heads_interleaved),
/// input 0 is (..., S, 3, H, D) holding q, k and v along its "3" dim, inputs 1 and 2 are unset, and the
/// output is (..., S, H, D).
class AttentionLayer : public Layer {
 public:
  AttentionLayer() : Layer(LayerKind::kAttention) {}
  AttentionParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// Resolved geometry for static input dims (mask dims with nb_dims < 0: no mask); throws like infer().
  AttentionGeometry geometry(const std::vector<TensorDesc>& in) const;
  T2T_SERIALIZE_FIELDS(p.scale, p.causal, p.heads_interleaved, p.zero_empty_rows, p.packed_qkv)
};

/// Adds an attention layer; `mask` may be null, and `key` and `value` must be null with packed_qkv. Set
/// scale, causal and the layout through `p` (then call changed()), or pass them here.
AttentionLayer* add_attention(Network& net, Tensor* query, Tensor* key, Tensor* value, Tensor* mask = nullptr,
                              const AttentionParams& params = AttentionParams());

}  // namespace torch2trt
