#include "torch2trt/layers/attention.h"

#include <cmath>
#include <string>

namespace torch2trt {
namespace {

const char* const kNames[4] = {"query", "key", "value", "mask"};

// Where the sequence dim sits for a rank: (..., S, D), or (..., S, H, D) with heads interleaved.
int seq_dim(const AttentionParams& p, int rank) { return p.heads_interleaved ? rank - 3 : rank - 2; }

// Positions of q's batch dims in logical order: every dim but the sequence and the feature dims.
int batch_dims(const AttentionParams& p, int rank, int* pos) {
  int n = 0, s = seq_dim(p, rank);
  for (int i = 0; i < rank - 1; ++i)
    if (i != s) pos[n++] = i;
  return n;
}

bool has_mask(const std::vector<TensorDesc>& in) { return in.size() == 4 && in[3].dims.nb_dims >= 0; }

// Position of the "3" dim of a packed (..., S, 3, H, D) input 0 of rank r.
int packed_dim(int rank) { return rank - 3; }

// The inputs as the unpacked rule sees them: with packed_qkv, q, k and v are each input 0 without its "3"
// dim, (..., S, H, D); the mask stays. Validates what packing requires first.
std::vector<TensorDesc> unpacked(const AttentionLayer& l, const std::vector<TensorDesc>& in) {
  const AttentionParams& p = l.p;
  if (!p.packed_qkv) return in;
  if (!p.heads_interleaved)
    l.fail("packed_qkv", "needs heads_interleaved: the packed input 0 is (..., S, 3, H, D)");
  if (in.size() != 3 && in.size() != 4)
    l.fail("inputs", "expects the packed q/k/v, two unset inputs and an optional mask (3 or 4 inputs), got " +
                         std::to_string(in.size()));
  if (in[0].dims.nb_dims < 0) l.fail("query", "the packed q/k/v input (input 0) is not set");
  for (int i = 1; i < 3; ++i)
    if (in[i].dims.nb_dims >= 0)
      l.fail(kNames[i], "must be unset with packed_qkv (input 0 holds q, k and v), got a tensor of shape " +
                            in[i].dims.str());
  const Dims& d = in[0].dims;
  if (d.nb_dims < 4)
    l.fail("query", "packed_qkv needs rank >= 4 for the layout (..., S, 3, H, D), got " + d.str());
  const int at = packed_dim(d.nb_dims);
  if (d.d[at] != 3 && d.d[at] != -1)
    l.fail("query", "packed_qkv needs extent 3 (q, k, v) at dim " + std::to_string(at) +
                        " of the layout (..., S, 3, H, D), got " + d.str());
  TensorDesc qkv{in[0].dtype, Dims()};
  qkv.dims.nb_dims = d.nb_dims - 1;
  for (int i = 0, j = 0; i < d.nb_dims; ++i)
    if (i != at) qkv.dims.d[j++] = d.d[i];
  std::vector<TensorDesc> r = {qkv, qkv, qkv};
  if (in.size() == 4) r.push_back(in[3]);
  return r;
}

// Validates inputs and parameters; returns the logical scores dims (batch..., Sq, Sk), for messages and
// for the mask's broadcast.
Dims check(const AttentionLayer& l, const std::vector<TensorDesc>& in) {
  const AttentionParams& p = l.p;
  if (in.size() != 3 && in.size() != 4)
    l.fail("inputs", "expects query, key, value and an optional mask (3 or 4 inputs), got " + std::to_string(in.size()));
  for (int i = 0; i < 3; ++i)
    if (in[i].dims.nb_dims < 0) l.fail(kNames[i], "the input is not set");
  if (!std::isfinite(p.scale)) l.fail("scale", "must be finite, got " + std::to_string(p.scale));
  const TensorDesc &q = in[0], &k = in[1], &v = in[2];
  if (!is_floating(q.dtype))
    l.fail("query", std::string("attention needs float tensors, got ") + dtype_name(q.dtype) + "; add a cast first");
  for (int i = 1; i < 3; ++i)
    if (in[i].dtype != q.dtype)
      l.fail(kNames[i], std::string("dtype ") + dtype_name(in[i].dtype) + " differs from the query's " + dtype_name(q.dtype));
  const int r = q.dims.nb_dims;
  const int min_rank = p.heads_interleaved ? 3 : 2;
  const char* layout = p.heads_interleaved ? "(..., S, H, D) (heads_interleaved)" : "(..., S, D)";
  if (r < min_rank)
    l.fail("query", "needs rank >= " + std::to_string(min_rank) + " for the layout " + layout + ", got " + q.dims.str());
  for (int i = 1; i < 3; ++i)
    if (in[i].dims.nb_dims != r)
      l.fail(kNames[i], "rank " + std::to_string(in[i].dims.nb_dims) + " differs from the query's " + std::to_string(r) +
                            ": query " + q.dims.str() + ", " + kNames[i] + " " + in[i].dims.str());
  const int s = seq_dim(p, r);
  int64_t dq = q.dims.d[r - 1], dk = k.dims.d[r - 1];
  if (dq != dk && dq != -1 && dk != -1)
    l.fail("key", "feature size (last dim) differs from the query's: query " + q.dims.str() + ", key " + k.dims.str());
  int64_t sk = k.dims.d[s], sv = v.dims.d[s];
  if (sk != sv && sk != -1 && sv != -1)
    l.fail("value", std::string("key count (dim ") + std::to_string(s) + ") differs from the key's: key " + k.dims.str() +
                        ", value " + v.dims.str() + " in the layout " + layout);
  int pos[kMaxDims];
  const int br = batch_dims(p, r, pos);
  for (int j = 0; j < br; ++j) {
    int64_t qe = q.dims.d[pos[j]];
    for (int i = 1; i < 3; ++i) {
      int64_t e = in[i].dims.d[pos[j]];
      if (e != qe && e != 1 && e != -1 && qe != -1)
        l.fail(kNames[i], "batch dimension " + std::to_string(pos[j]) + " is " + std::to_string(e) +
                              ", neither the query's " + std::to_string(qe) + " nor 1 (query " + q.dims.str() + ", " +
                              kNames[i] + " " + in[i].dims.str() + "; the output takes the query's batch dimensions)");
    }
  }
  Dims scores;
  scores.nb_dims = br + 2;
  for (int j = 0; j < br; ++j) scores.d[j] = q.dims.d[pos[j]];
  scores.d[br] = q.dims.d[s];
  scores.d[br + 1] = sk == -1 ? sv : sk;
  if (has_mask(in)) {
    const TensorDesc& m = in[3];
    if (m.dtype != DataType::kBOOL && m.dtype != q.dtype)
      l.fail("mask", std::string("must be bool (true: may attend) or the query's dtype ") + dtype_name(q.dtype) +
                         " (added to the scores), got " + dtype_name(m.dtype));
    if (m.dims.nb_dims > scores.nb_dims)
      l.fail("mask", "rank " + std::to_string(m.dims.nb_dims) + " exceeds the rank of the scores " + scores.str() +
                         " (batch..., Sq, Sk)");
    for (int j = 0; j < m.dims.nb_dims; ++j) {
      int64_t me = m.dims.d[j], se = scores.d[scores.nb_dims - m.dims.nb_dims + j];
      if (me != 1 && me != se && me != -1 && se != -1)
        l.fail("mask", "shape " + m.dims.str() + " does not broadcast to the scores " + scores.str() +
                           " (batch..., Sq, Sk; right-aligned, extents equal or 1)");
    }
  }
  return scores;
}

// Strides `c` of an operand of dims `d` mapped onto the logical batch dims at positions `pos`, 0 where the
// extent is 1.
AttentionStrides operand_strides(const Dims& d, const std::vector<int64_t>& c, const int* pos, int br, int seq) {
  AttentionStrides st;
  for (int j = 0; j < br; ++j) st.batch[j] = d.d[pos[j]] == 1 ? 0 : c[pos[j]];
  st.row = c[seq];
  st.col = 1;
  return st;
}

// The same for a dense operand.
AttentionStrides operand_strides(const Dims& d, const int* pos, int br, int seq) {
  return operand_strides(d, contiguous_strides(d), pos, br, seq);
}

}  // namespace

std::vector<TensorDesc> AttentionLayer::infer(const std::vector<TensorDesc>& packed) const {
  const std::vector<TensorDesc> in = unpacked(*this, packed);
  check(*this, in);
  Dims out = in[0].dims;
  out.d[out.nb_dims - 1] = in[2].dims.d[out.nb_dims - 1];
  return {TensorDesc{in[0].dtype, out}};
}

AttentionGeometry AttentionLayer::geometry(const std::vector<TensorDesc>& packed) const {
  const std::vector<TensorDesc> in = unpacked(*this, packed);
  Dims scores = check(*this, in);
  const int n = has_mask(in) ? 4 : 3;
  for (int i = 0; i < n; ++i)
    if (packed[i].dims.nb_dims >= 0 && !packed[i].dims.is_static())
      fail(kNames[i], "geometry needs concrete dims, got " + packed[i].dims.str());
  AttentionGeometry g;
  const int r = in[0].dims.nb_dims, s = seq_dim(p, r);
  int pos[kMaxDims];
  g.batch_rank = batch_dims(p, r, pos);
  for (int j = 0; j < g.batch_rank; ++j) {
    g.batch[j] = scores.d[j];
    g.num_batches *= g.batch[j];
  }
  g.sq = in[0].dims.d[s];
  g.sk = in[1].dims.d[s];
  g.d = in[0].dims.d[r - 1];
  g.dv = in[2].dims.d[r - 1];
  if (p.packed_qkv) {
    // q, k and v are views of input 0 without its "3" dim: its strides with that dim's left out.
    const Dims& pd = packed[0].dims;
    const int at = packed_dim(pd.nb_dims);
    std::vector<int64_t> c = contiguous_strides(pd);
    g.packed_qkv = true;
    g.k_offset = c[at];
    g.v_offset = 2 * c[at];
    c.erase(c.begin() + at);
    g.q = operand_strides(in[0].dims, c, pos, g.batch_rank, s);
    g.k = g.v = g.q;
  } else {
    g.q = operand_strides(in[0].dims, pos, g.batch_rank, s);
    g.k = operand_strides(in[1].dims, pos, g.batch_rank, s);
    g.v = operand_strides(in[2].dims, pos, g.batch_rank, s);
  }
  Dims od = in[0].dims;
  od.d[r - 1] = g.dv;
  g.out = operand_strides(od, pos, g.batch_rank, s);
  if (n == 4) {
    g.has_mask = true;
    g.mask_is_bool = in[3].dtype == DataType::kBOOL;
    const Dims& md = in[3].dims;
    std::vector<int64_t> c = contiguous_strides(md);
    int64_t logical[kMaxDims] = {};  // the mask's stride for each logical scores dim (0: broadcast or absent)
    for (int j = 0; j < md.nb_dims; ++j)
      if (md.d[j] != 1) logical[scores.nb_dims - md.nb_dims + j] = c[j];
    for (int j = 0; j < g.batch_rank; ++j) g.mask.batch[j] = logical[j];
    g.mask.row = logical[g.batch_rank];
    g.mask.col = logical[g.batch_rank + 1];
  }
  return g;
}

AttentionLayer* add_attention(Network& net, Tensor* query, Tensor* key, Tensor* value, Tensor* mask,
                              const AttentionParams& params) {
  auto l = std::make_unique<AttentionLayer>();
  l->p = params;
  std::vector<Tensor*> in = {query, key, value};
  if (mask) in.push_back(mask);
  return net.add(std::move(l), in, "add_attention");
}

}  // namespace torch2trt
