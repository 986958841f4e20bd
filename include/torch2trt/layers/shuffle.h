// Shuffle layer (TensorRT's IShuffleLayer): transpose, reshape, transpose.
#pragma once

#include "torch2trt/network.h"

namespace torch2trt {

/// Parameters of a shuffle layer. A permutation lists, for each output dimension, the input dimension
/// placed there (as torch.permute). An empty permutation is the identity; a shorter one permutes the
/// leading dimensions and keeps the rest in place; entries past the rank must keep their position
/// (so TensorRT's 8-entry identity-padded permutations are accepted).
struct ShuffleParams {
  std::vector<int32_t> first_transpose;  ///< applied to the input
  bool has_reshape = false;              ///< false: no reshape (reshape_dims unset)
  Dims reshape_dims;                     ///< 0 copies the extent there (zero_is_placeholder); one -1 is inferred
  std::vector<int32_t> second_transpose; ///< applied after the reshape
  bool zero_is_placeholder = true;
};

/// y = transpose2(reshape(transpose1(x))). Input 1, when set, is a 1-D int32/int64 shape tensor that
/// replaces reshape_dims; it must come from a Constant layer (it is read when building).
class ShuffleLayer : public Layer {
 public:
  ShuffleLayer() : Layer(LayerKind::kShuffle) {}
  ShuffleParams p;
  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& in) const override;
  /// Sets reshape_dims and, as TensorRT does, drops a shape tensor given as input 1; re-validates.
  void set_reshape_dims(const Dims& d);
  /// The reshape target in effect (from input 1 or reshape_dims), or false when there is no reshape.
  bool reshape_target(Dims* target) const;
  T2T_SERIALIZE_FIELDS(p.first_transpose, p.has_reshape, p.reshape_dims, p.second_transpose, p.zero_is_placeholder)
};

/// Adds a shuffle layer (identity until its attributes are set).
ShuffleLayer* add_shuffle(Network& net, Tensor* input);

/// True when transposing a dense tensor of dims `src` by `perm` leaves its bytes in the same order: the
/// axes longer than 1 keep their relative order (moving unit axes is only a reshape).
bool permutation_keeps_order(const Dims& src, const std::vector<int32_t>& perm);

/// Full permutation of `rank` dimensions described by `perm` (see ShuffleParams), or fails naming `argument`.
std::vector<int32_t> expand_permutation(const Layer& layer, const std::vector<int32_t>& perm, int rank,
                                        const char* argument);

}  // namespace torch2trt
