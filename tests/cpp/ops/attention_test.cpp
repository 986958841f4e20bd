#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>

#include "harness.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace t2t_test {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Row-major offset of logical multi-index `idx` in a tensor of dims `d` that broadcasts to it
// (right-aligned; extents of 1 repeat).
int64_t offset(const Dims& d, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  const int lead = static_cast<int>(idx.size()) - d.nb_dims;
  for (int j = 0; j < d.nb_dims; ++j) off = off * d.d[j] + (d.d[j] == 1 ? 0 : idx[lead + j]);
  return off;
}

// softmax(q kᵀ * scale + mask) v in double, straight from the definition, for either layout.
HostTensor ref_attention(const std::vector<HostTensor>& in, const AttentionParams& p) {
  const HostTensor &q = in[0], &k = in[1], &v = in[2];
  const HostTensor* mask = in.size() > 3 ? &in[3] : nullptr;
  const int r = q.dims.nb_dims, s = p.heads_interleaved ? r - 3 : r - 2;
  std::vector<int> pos;  // q's batch dims, in logical order
  for (int i = 0; i < r - 1; ++i)
    if (i != s) pos.push_back(i);
  const int64_t sq = q.dims.d[s], sk = k.dims.d[s], d = q.dims.d[r - 1], dv = v.dims.d[r - 1];
  HostTensor y;
  y.dtype = q.dtype;
  y.dims = q.dims;
  y.dims.d[r - 1] = dv;
  y.v.assign(y.numel(), 0.0);
  int64_t nb = 1;
  for (int j : pos) nb *= q.dims.d[j];
  for (int64_t b = 0; b < nb; ++b) {
    std::vector<int64_t> bi(pos.size());
    for (int64_t t = b, j = static_cast<int64_t>(pos.size()) - 1; j >= 0; --j) bi[j] = t % q.dims.d[pos[j]], t /= q.dims.d[pos[j]];
    auto full = [&](int64_t row, int64_t col) {
      std::vector<int64_t> idx(r);
      for (size_t j = 0; j < pos.size(); ++j) idx[pos[j]] = bi[j];
      idx[s] = row;
      idx[r - 1] = col;
      return idx;
    };
    // The last dim is never broadcast: row bases plus the column index.
    for (int64_t i = 0; i < sq; ++i) {
      std::vector<double> sc(sk);
      double mx = -kInf;
      const int64_t qb = offset(q.dims, full(i, 0));
      for (int64_t j = 0; j < sk; ++j) {
        double dot = 0;
        const int64_t kb = offset(k.dims, full(j, 0));
        for (int64_t c = 0; c < d; ++c) dot += q.v[qb + c] * k.v[kb + c];
        double x = dot * p.scale;
        if (mask) {
          std::vector<int64_t> logical = bi;
          logical.push_back(i);
          logical.push_back(j);
          double m = mask->v[offset(mask->dims, logical)];
          x = mask->dtype == DataType::kBOOL ? (m != 0 ? x : -kInf) : x + m;
        }
        if (p.causal && j > i) x = -kInf;
        sc[j] = x;
        mx = std::max(mx, x);
      }
      std::vector<double> o(dv, 0.0);
      if (sk > 0 && mx == -kInf) {
        o.assign(dv, p.zero_empty_rows ? 0.0 : std::nan(""));
      } else if (sk > 0) {
        double sum = 0;
        for (int64_t j = 0; j < sk; ++j) sum += std::exp(sc[j] - mx);
        for (int64_t j = 0; j < sk; ++j) {
          double w = std::exp(sc[j] - mx) / sum;
          const int64_t vb = offset(v.dims, full(j, 0));
          for (int64_t c = 0; c < dv; ++c) o[c] += w * v.v[vb + c];
        }
      }
      const int64_t yb = offset(y.dims, full(i, 0));
      for (int64_t c = 0; c < dv; ++c) y.v[yb + c] = o[c];
    }
  }
  return y;
}

struct Case {
  std::string name;
  DataType dt = DataType::kFLOAT;
  Dims q, k, v;
  std::optional<Dims> mask;
  DataType mask_dt = DataType::kFLOAT;  // kFLOAT means "the query's dtype" for float masks
  AttentionParams p;
  double lo = -2, hi = 2;
  std::vector<std::vector<double>> fixed;
};

void run(const Case& c) {
  OpCase oc;
  oc.variant = c.name + "_" + dtype_name(c.dt);
  oc.inputs = {{c.dt, c.q}, {c.dt, c.k}, {c.dt, c.v}};
  if (c.mask) oc.inputs.push_back({c.mask_dt == DataType::kBOOL ? DataType::kBOOL : c.dt, *c.mask});
  oc.lo = c.lo, oc.hi = c.hi;
  oc.fixed = c.fixed;
  const AttentionParams p = c.p;
  const bool has_mask = c.mask.has_value();
  oc.build = [=](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_attention(n, in[0], in[1], in[2], has_mask ? in[3] : nullptr, p);
    return std::vector<Tensor*>{l->output(0)};
  };
  oc.reference = [=](const std::vector<HostTensor>& in) { return std::vector<HostTensor>{ref_attention(in, p)}; };
  check_op(LayerKind::kAttention, oc);
}

const DataType kFloatTypes[] = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16};

AttentionParams params(double scale, bool causal = false, bool interleaved = false, bool zero_empty = false) {
  AttentionParams p;
  p.scale = static_cast<float>(scale);
  p.causal = causal;
  p.heads_interleaved = interleaved;
  p.zero_empty_rows = zero_empty;
  return p;
}

TEST(Attention, BertAndVitShapes) {
  for (DataType dt : kFloatTypes) {
    run({"bert_bs1", dt, Dims{1, 12, 128, 64}, Dims{1, 12, 128, 64}, Dims{1, 12, 128, 64}, {}, {}, params(0.125)});
    // ViT-B/16: 197 tokens, a ragged last tile of every tiling.
    run({"vit_ragged197", dt, Dims{1, 2, 197, 64}, Dims{1, 2, 197, 64}, Dims{1, 2, 197, 64}, {}, {}, params(0.125)});
    // ViT at batch 1: 12 heads of 197 queries, too few 64-query blocks for a GPU (the CUDA kernel's small blocks).
    run({"vit_bs1", dt, Dims{1, 12, 197, 64}, Dims{1, 12, 197, 64}, Dims{1, 12, 197, 64}, {}, {}, params(0.125)});
  }
}

TEST(Attention, HeadSizesAndKeyCounts) {
  for (DataType dt : kFloatTypes) {
    run({"d32", dt, Dims{2, 3, 40, 32}, Dims{2, 3, 40, 32}, Dims{2, 3, 40, 32}, {}, {}, params(1 / std::sqrt(32.0))});
    run({"d128", dt, Dims{1, 2, 70, 128}, Dims{1, 2, 70, 128}, Dims{1, 2, 70, 128}, {}, {}, params(1 / std::sqrt(128.0))});
    // Head sizes below the padded one: D = 128 with Dv = 64; D = 40 (not a multiple of 16) with Dv = 24.
    run({"d128_dv64", dt, Dims{1, 2, 70, 128}, Dims{1, 2, 90, 128}, Dims{1, 2, 90, 64}, {}, {}, params(0.09)});
    run({"d40_dv24", dt, Dims{1, 3, 50, 40}, Dims{1, 3, 50, 40}, Dims{1, 3, 50, 24}, {}, {}, params(0.16)});
    // Sq != Sk, Dv != D, odd sizes (no vector loads): queries fewer and more than the keys.
    run({"sq5_sk77_dv48", dt, Dims{2, 3, 5, 32}, Dims{2, 3, 77, 32}, Dims{2, 3, 77, 48}, {}, {}, params(0.2)});
    run({"sq130_sk3_d20_dv12", dt, Dims{1, 2, 130, 20}, Dims{1, 2, 3, 20}, Dims{1, 2, 3, 12}, {}, {}, params(0.3)});
    run({"d1", dt, Dims{1, 1, 9, 1}, Dims{1, 1, 65, 1}, Dims{1, 1, 65, 1}, {}, {}, params(1.0)});
  }
}

TEST(Attention, RanksAndBroadcastBatches) {
  for (DataType dt : kFloatTypes) {
    run({"rank2", dt, Dims{17, 16}, Dims{33, 16}, Dims{33, 24}, {}, {}, params(0.25)});
    run({"rank3", dt, Dims{3, 17, 16}, Dims{3, 20, 16}, Dims{3, 20, 16}, {}, {}, params(0.25)});
    // Grouped-query attention: key/value heads broadcast over the query heads of a group.
    run({"gqa_rank5", dt, Dims{2, 2, 3, 10, 32}, Dims{2, 2, 1, 12, 32}, Dims{2, 2, 1, 12, 32}, {}, {}, params(0.18)});
    run({"k_batch_broadcast", dt, Dims{3, 4, 10, 32}, Dims{1, 4, 12, 32}, Dims{3, 1, 12, 32}, {}, {}, params(0.18)});
  }
}

TEST(Attention, FloatMasks) {
  for (DataType dt : kFloatTypes) {
    // BERT's extended mask (B, 1, 1, Sk), a (Sq, Sk) mask, a full (B, H, Sq, Sk) mask and a scalar.
    run({"mask_b11s", dt, Dims{2, 4, 33, 32}, Dims{2, 4, 33, 32}, Dims{2, 4, 33, 32}, Dims{2, 1, 1, 33}, {}, params(0.17)});
    run({"mask_sqsk", dt, Dims{2, 2, 20, 32}, Dims{2, 2, 70, 32}, Dims{2, 2, 70, 32}, Dims{20, 70}, {}, params(0.17)});
    run({"mask_full", dt, Dims{2, 2, 20, 32}, Dims{2, 2, 70, 32}, Dims{2, 2, 70, 32}, Dims{2, 2, 20, 70}, {}, params(0.17)});
    run({"mask_scalar", dt, Dims{1, 2, 20, 32}, Dims{1, 2, 20, 32}, Dims{1, 2, 20, 32}, Dims{1}, {}, params(0.17)});
    // BERT's mask over ViT's ragged 197 keys.
    run({"mask_b11s_197", dt, Dims{2, 3, 197, 64}, Dims{2, 3, 197, 64}, Dims{2, 3, 197, 64}, Dims{2, 1, 1, 197}, {},
         params(0.125)});
  }
}

// A (1, 1, Sq, Sk) mask that blocks keys j >= limit(i); limit 0 blocks the whole row.
std::vector<double> blocking_mask(int64_t sq, int64_t sk, bool as_bool, const std::vector<int64_t>& limit) {
  std::vector<double> m(sq * sk);
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = 0; j < sk; ++j) {
      bool ok = j < limit[i % limit.size()];
      m[i * sk + j] = as_bool ? (ok ? 1 : 0) : (ok ? 0.25 * static_cast<double>(j % 3) : -kInf);
    }
  return m;
}

TEST(Attention, MaskedRowsGiveNanOrZero) {
  // Rows 0 and 3 (mod 4) may attend to nothing: NaN as softmax of all -inf gives, or 0 with zero_empty_rows.
  const int64_t sq = 24, sk = 70;
  const std::vector<int64_t> limit = {0, 5, 70, 0};
  for (DataType dt : kFloatTypes)
    for (bool as_bool : {true, false})
      for (bool zero : {false, true}) {
        Case c{std::string(as_bool ? "bool" : "float") + "_mask_empty_rows" + (zero ? "_zero" : "_nan"),
               dt, Dims{1, 2, sq, 32}, Dims{1, 2, sk, 32}, Dims{1, 2, sk, 32}, Dims{1, 1, sq, sk},
               as_bool ? DataType::kBOOL : DataType::kFLOAT, params(0.2, false, false, zero)};
        c.fixed = {{}, {}, {}, blocking_mask(sq, sk, as_bool, limit)};
        run(c);
      }
}

TEST(Attention, RandomBoolMask) {
  for (DataType dt : kFloatTypes)
    run({"bool_mask_b1qk", dt, Dims{2, 3, 19, 32}, Dims{2, 3, 67, 32}, Dims{2, 3, 67, 32}, Dims{2, 1, 19, 67},
         DataType::kBOOL, params(0.2, false, false, true)});
}

TEST(Attention, Causal) {
  for (DataType dt : kFloatTypes) {
    run({"causal_square", dt, Dims{1, 2, 130, 64}, Dims{1, 2, 130, 64}, Dims{1, 2, 130, 64}, {}, {}, params(0.125, true)});
    // Top-left aligned: with Sq < Sk the last queries still miss the last keys; with Sq > Sk later queries see all.
    run({"causal_sq_lt_sk", dt, Dims{1, 2, 20, 32}, Dims{1, 2, 90, 32}, Dims{1, 2, 90, 32}, {}, {}, params(0.2, true)});
    run({"causal_sq_gt_sk", dt, Dims{1, 2, 90, 32}, Dims{1, 2, 20, 32}, Dims{1, 2, 20, 32}, {}, {}, params(0.2, true)});
    run({"causal_sq100_sk150", dt, Dims{1, 2, 100, 64}, Dims{1, 2, 150, 64}, Dims{1, 2, 150, 64}, {}, {},
         params(0.125, true)});
    run({"causal_and_mask", dt, Dims{2, 2, 40, 32}, Dims{2, 2, 40, 32}, Dims{2, 2, 40, 32}, Dims{2, 1, 1, 40}, {},
         params(0.2, true)});
  }
}

TEST(Attention, HeadsInterleaved) {
  for (DataType dt : kFloatTypes) {
    // (B, S, H, D): the tensors before the transposes of a transformer block; the output stays (B, Sq, H, Dv).
    run({"interleaved_bert", dt, Dims{2, 65, 4, 64}, Dims{2, 65, 4, 64}, Dims{2, 65, 4, 64}, {}, {},
         params(0.125, false, true)});
    run({"interleaved_mask_causal", dt, Dims{1, 33, 3, 32}, Dims{1, 50, 3, 32}, Dims{1, 50, 3, 40}, Dims{1, 3, 33, 50},
         {}, params(0.2, true, true)});
    run({"interleaved_rank3", dt, Dims{40, 2, 16}, Dims{40, 2, 16}, Dims{40, 2, 16}, {}, {}, params(0.25, false, true)});
    run({"interleaved_gqa", dt, Dims{2, 21, 4, 32}, Dims{2, 30, 1, 32}, Dims{2, 30, 1, 32}, {}, {},
         params(0.25, false, true)});
  }
}

TEST(Attention, LargeScoresStayFinite) {
  // Scores in the hundreds: exp overflows unless the row maximum is subtracted.
  for (DataType dt : kFloatTypes) {
    Case c{"large_scores", dt, Dims{1, 1, 20, 16}, Dims{1, 1, 40, 16}, Dims{1, 1, 40, 16}, {}, {}, params(1.0)};
    c.lo = -5, c.hi = 5;
    run(c);
  }
}

TEST(Attention, EmptyKeysGiveZeros) {
  // Softmax over no keys times a (Sk = 0) value matrix: a sum over nothing, as the unfused matrix multiply gives.
  run({"no_keys", DataType::kFLOAT, Dims{1, 2, 5, 16}, Dims{1, 2, 0, 16}, Dims{1, 2, 0, 16}, {}, {}, params(0.25)});
}

// A host tensor's values in its dtype's bytes, as an engine input holds them.
std::vector<uint8_t> to_bytes(const HostTensor& t) {
  std::vector<uint8_t> b(t.v.size() * dtype_size(t.dtype));
  for (size_t i = 0; i < t.v.size(); ++i) {
    const float f = static_cast<float>(t.v[i]);
    uint16_t h = 0;
    switch (t.dtype) {
      case DataType::kFLOAT: std::memcpy(&b[4 * i], &f, 4); break;
      case DataType::kHALF: h = float_to_half(f), std::memcpy(&b[2 * i], &h, 2); break;
      case DataType::kBF16: h = float_to_bf16(f), std::memcpy(&b[2 * i], &h, 2); break;
      case DataType::kBOOL: b[i] = t.v[i] != 0; break;
      default: throw std::invalid_argument(std::string("to_bytes: no encoding for ") + dtype_name(t.dtype));
    }
  }
  return b;
}

// Compute capability major of CUDA device 0, from its description ("NAME sm_90 ...").
int sm_number(Backend& be) {
  const std::string d = be.device_description();
  const size_t at = d.find(" sm_");
  return at == std::string::npos ? 0 : std::stoi(d.substr(at + 4));
}
int sm_major(Backend& be) { return sm_number(be) / 10; }

// Shared memory a block may opt in to, by compute capability (CUDA C++ Programming Guide, technical
// specifications): 8.0 and 8.7 163 KB, 9.x and 10.x 227 KB, 8.6, 8.9 and 12.x 99 KB.
int smem_optin_bytes(Backend& be) {
  const int sm = sm_number(be);
  if (sm == 80 || sm == 87) return 163 * 1024;
  if (sm >= 90 && sm < 120) return 227 * 1024;
  return 99 * 1024;
}

// The builder keeps the fastest CUDA tactic, so the harness cases check only that one. Here every tactic is
// forced on the built engine: 0 the WMMA kernel, 1-4 the mma kernel with that many warps per block, 18 and
// 20 the split-keys kernel with 2 and 4 warps per 16 queries (where there is more than one 64-key tile: else
// the mma kernel), -1 the kernel's own choice and 99 an id it cannot run (its own choice again). float32:
// 1 the register-tiled kernel, any other id attention_f32.
TEST(Attention, EveryCudaTacticMatchesTheReference) {
  std::string why;
  Backend* be = cuda_backend(0, &why);
  if (!be) GTEST_SKIP() << why;
  const bool mma = sm_major(*be) >= 8;
  std::vector<Case> cases = {
      {"vit_ragged197", DataType::kHALF, Dims{1, 3, 197, 64}, Dims{1, 3, 197, 64}, Dims{1, 3, 197, 64}, {}, {},
       params(0.125)},
      {"bert_mask", DataType::kBF16, Dims{2, 2, 128, 64}, Dims{2, 2, 128, 64}, Dims{2, 2, 128, 64},
       Dims{2, 1, 1, 128}, {}, params(0.125)},
      {"causal_sq100_sk150", DataType::kHALF, Dims{1, 2, 100, 64}, Dims{1, 2, 150, 64}, Dims{1, 2, 150, 64}, {}, {},
       params(0.125, true)},
      {"d128_dv64", DataType::kBF16, Dims{1, 2, 70, 128}, Dims{1, 2, 90, 128}, Dims{1, 2, 90, 64}, {}, {},
       params(0.09)},
      {"interleaved_d40_dv24", DataType::kHALF, Dims{2, 50, 3, 40}, Dims{2, 50, 3, 40}, Dims{2, 50, 3, 24}, {}, {},
       params(0.16, false, true)},
      {"gqa_d32", DataType::kHALF, Dims{2, 4, 40, 32}, Dims{2, 1, 60, 32}, Dims{2, 1, 60, 32}, {}, {}, params(0.18)},
      // Five key tiles: rounds of 2 (or 4) tiles ending with a partial one in the split-keys kernel.
      {"sk300_float_mask", DataType::kHALF, Dims{1, 2, 40, 64}, Dims{1, 2, 300, 64}, Dims{1, 2, 300, 64},
       Dims{1, 1, 40, 300}, {}, params(0.125)},
      {"interleaved_sk130", DataType::kBF16, Dims{1, 70, 2, 64}, Dims{1, 130, 2, 64}, Dims{1, 130, 2, 64}, {}, {},
       params(0.125, false, true)},
      {"gqa_sk200_causal", DataType::kHALF, Dims{1, 4, 200, 32}, Dims{1, 1, 200, 32}, Dims{1, 1, 200, 32}, {}, {},
       params(0.18, true)},
      // float32: attention_f32 (tactics other than 1) and attention_f32_tiled (1).
      {"f32_vit_ragged197", DataType::kFLOAT, Dims{1, 3, 197, 64}, Dims{1, 3, 197, 64}, Dims{1, 3, 197, 64}, {}, {},
       params(0.125)},
      {"f32_causal_mask_d128_dv40", DataType::kFLOAT, Dims{2, 2, 37, 128}, Dims{2, 2, 70, 128}, Dims{2, 2, 70, 40},
       Dims{2, 1, 37, 70}, {}, params(0.09, true)},
      {"f32_interleaved_d20", DataType::kFLOAT, Dims{2, 33, 3, 20}, Dims{2, 45, 3, 20}, Dims{2, 45, 3, 20}, {}, {},
       params(0.2, false, true)},
      // Rows with every key masked: zeros with zero_empty_rows, NaN without, in both float32 kernels too.
      {"f32_bool_mask_empty_rows_zero", DataType::kFLOAT, Dims{1, 2, 40, 32}, Dims{1, 2, 70, 32},
       Dims{1, 2, 70, 32}, Dims{1, 1, 40, 70}, DataType::kBOOL, params(0.2, false, false, true)},
      {"f32_bool_mask_empty_rows_nan", DataType::kFLOAT, Dims{1, 2, 40, 32}, Dims{1, 2, 70, 32},
       Dims{1, 2, 70, 32}, Dims{1, 1, 40, 70}, DataType::kBOOL, params(0.2)},
      {"bool_mask_empty_rows_zero", DataType::kHALF, Dims{1, 2, 40, 32}, Dims{1, 2, 70, 32}, Dims{1, 2, 70, 32},
       Dims{1, 1, 40, 70}, DataType::kBOOL, params(0.2, false, false, true)},
  };
  for (size_t i = cases.size() - 3; i < cases.size(); ++i)
    cases[i].fixed = {{}, {}, {}, blocking_mask(40, 70, true, {0, 5, 70, 0, 64, 65})};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + " " + dtype_name(c.dt));
    std::vector<HostTensor> in;
    std::vector<Dims> dims = {c.q, c.k, c.v};
    if (c.mask) dims.push_back(*c.mask);
    for (size_t i = 0; i < dims.size(); ++i) {
      HostTensor h;
      h.dtype = i == 3 && c.mask_dt == DataType::kBOOL ? DataType::kBOOL : c.dt;
      h.dims = dims[i];
      h.v = i < c.fixed.size() && !c.fixed[i].empty() ? c.fixed[i] : random_values(h.numel(), h.dtype, c.lo, c.hi);
      in.push_back(h);
    }
    const HostTensor want = ref_attention(in, c.p);
    Network net;
    std::vector<Tensor*> t;
    for (size_t i = 0; i < in.size(); ++i)
      t.push_back(net.add_input("in" + std::to_string(i), in[i].dtype, in[i].dims));
    Tensor* y = add_attention(net, t[0], t[1], t[2], c.mask ? t[3] : nullptr, c.p)->output(0);
    y->set_name("out");
    net.mark_output(y);
    BuilderConfig cfg;
    cfg.device = DeviceType::kGPU;
    const std::vector<uint8_t> bytes = Builder().build_serialized(net, cfg);
    std::vector<void*> bufs;
    for (auto& h : in) {
      auto b = to_bytes(h);
      bufs.push_back(be->allocate(b.size()));
      be->upload(bufs.back(), b.data(), b.size());
    }
    const size_t out_bytes = static_cast<size_t>(want.numel()) * dtype_size(c.dt);
    void* out = be->allocate(out_bytes);
    for (int64_t tactic : {int64_t(-1), int64_t(0), int64_t(1), int64_t(2), int64_t(3), int64_t(4), int64_t(18),
                           int64_t(20), int64_t(99)}) {
      SCOPED_TRACE("tactic " + std::to_string(tactic));
      auto e = Engine::deserialize(bytes.data(), bytes.size());
      for (int i = 0; i < e->network().num_layers(); ++i)
        if (e->network().layer(i)->kind() == LayerKind::kAttention) e->network().layer(i)->set_tactic(tactic);
      auto ctx = e->create_execution_context();
      for (size_t i = 0; i < in.size(); ++i) ctx->set_tensor_address("in" + std::to_string(i), bufs[i]);
      ctx->set_tensor_address("out", out);
      std::vector<uint8_t> junk(out_bytes, 0xA5);  // catches outputs left unwritten
      be->upload(out, junk.data(), out_bytes);
      ctx->enqueue(nullptr);
      be->synchronize(nullptr);
      std::string impl;
      for (auto& info : ctx->layer_info())
        if (info.kind == layer_kind_name(LayerKind::kAttention)) impl = info.impl;
      std::string expect = c.dt == DataType::kFLOAT ? (tactic == 1 ? "cuda_attention_f32_tiled" : "cuda_attention_f32")
                           : mma && tactic != 0                ? "cuda_attention_mma"
                                                               : "cuda_attention_wmma";
      const int64_t sk = c.k.d[c.p.heads_interleaved ? c.k.nb_dims - 3 : c.k.nb_dims - 2];
      const int64_t head = std::max(c.q.d[c.q.nb_dims - 1], c.v.d[c.v.nb_dims - 1]);
      const int64_t P = head <= 32 ? 32 : head <= 64 ? 64 : 128;
      const int split = tactic == 18 ? 2 : tactic == 20 ? 4 : 0;
      // 16 queries, `split` K tiles and `split` V tiles of 64 rows, rows of P + 8 halves.
      if (c.dt != DataType::kFLOAT && mma && split && sk > 64 &&
          (16 + 2 * split * 64) * (P + 8) * 2 <= smem_optin_bytes(*be))
        expect += "_split" + std::to_string(split);
      EXPECT_EQ(impl, expect);
      std::vector<uint8_t> b(out_bytes);
      be->download(b.data(), out, out_bytes);
      Weights got(c.dt, b.data(), want.numel());
      double num = 0, den = 0;
      int64_t nan_mismatch = 0;
      for (int64_t i = 0; i < want.numel(); ++i) {
        const double g = got.at(i), w = want.v[i];
        if (std::isnan(w) || std::isnan(g)) {
          nan_mismatch += std::isnan(w) != std::isnan(g);
          continue;
        }
        num += (g - w) * (g - w), den += w * w;
      }
      EXPECT_EQ(nan_mismatch, 0);
      EXPECT_LE(std::sqrt(num / std::max(den, 1e-30)), c.dt == DataType::kFLOAT ? 1e-5 : 1e-2);
    }
    for (void* p : bufs) be->release(p);
    be->release(out);
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

void expect_error(const std::string& m, const std::string& part) {
  EXPECT_NE(m.find(part), std::string::npos) << "message: " << m << "\nexpected to contain: " << part;
}

TEST(Attention, ErrorsNameTheArgument) {
  Network n;
  auto in = [&](const char* name, DataType t, Dims d) { return n.add_input(name, t, d); };
  auto* q = in("q", DataType::kFLOAT, Dims{2, 4, 10, 32});
  auto* k = in("k", DataType::kFLOAT, Dims{2, 4, 12, 32});
  auto* v = in("v", DataType::kFLOAT, Dims{2, 4, 12, 16});
  EXPECT_EQ(add_attention(n, q, k, v)->output(0)->dims(), (Dims{2, 4, 10, 16}));
  auto* qi = in("qi", DataType::kINT32, Dims{2, 4, 10, 32});
  expect_error(error_of([&] { add_attention(n, qi, k, v); }),
               "query: attention needs float tensors, got int32; add a cast first");
  expect_error(error_of([&] { add_attention(n, qi, k, v); }), "add_attention: Attention layer '");
  auto* kh = in("kh", DataType::kHALF, Dims{2, 4, 12, 32});
  expect_error(error_of([&] { add_attention(n, q, kh, v); }), "key: dtype float16 differs from the query's float32");
  auto* k3 = in("k3", DataType::kFLOAT, Dims{8, 12, 32});
  expect_error(error_of([&] { add_attention(n, q, k3, v); }), "key: rank 3 differs from the query's 4");
  auto* kd = in("kd", DataType::kFLOAT, Dims{2, 4, 12, 31});
  expect_error(error_of([&] { add_attention(n, q, kd, v); }),
               "key: feature size (last dim) differs from the query's: query (2, 4, 10, 32), key (2, 4, 12, 31)");
  auto* vs = in("vs", DataType::kFLOAT, Dims{2, 4, 13, 16});
  expect_error(error_of([&] { add_attention(n, q, k, vs); }), "value: key count (dim 2) differs from the key's");
  auto* kb = in("kb", DataType::kFLOAT, Dims{2, 3, 12, 32});
  expect_error(error_of([&] { add_attention(n, q, kb, v); }),
               "key: batch dimension 1 is 3, neither the query's 4 nor 1");
  auto* q1 = in("q1", DataType::kFLOAT, Dims{1, 4, 10, 32});
  expect_error(error_of([&] { add_attention(n, q1, k, v); }), "neither the query's 1 nor 1");
  auto* s = in("s", DataType::kFLOAT, Dims{32});
  expect_error(error_of([&] { add_attention(n, s, s, s); }), "query: needs rank >= 2 for the layout (..., S, D)");
  auto* mi = in("mi", DataType::kINT32, Dims{2, 1, 1, 12});
  expect_error(error_of([&] { add_attention(n, q, k, v, mi); }),
               "mask: must be bool (true: may attend) or the query's dtype float32 (added to the scores), got int32");
  auto* mb = in("mb", DataType::kFLOAT, Dims{2, 1, 10, 11});
  expect_error(error_of([&] { add_attention(n, q, k, v, mb); }),
               "mask: shape (2, 1, 10, 11) does not broadcast to the scores (2, 4, 10, 12)");
  auto* m5 = in("m5", DataType::kFLOAT, Dims{1, 2, 1, 1, 12});
  expect_error(error_of([&] { add_attention(n, q, k, v, m5); }), "mask: rank 5 exceeds the rank of the scores");
  AttentionParams bad;
  bad.scale = std::numeric_limits<float>::infinity();
  expect_error(error_of([&] { add_attention(n, q, k, v, nullptr, bad); }), "scale: must be finite");
  AttentionParams inter;
  inter.heads_interleaved = true;
  auto* r2 = in("r2", DataType::kFLOAT, Dims{10, 32});
  expect_error(error_of([&] { add_attention(n, r2, r2, r2, nullptr, inter); }),
               "query: needs rank >= 3 for the layout (..., S, H, D) (heads_interleaved)");
  // Interleaved, the heads dim is a batch dim and the sequence dim moves: (B, S, H, D).
  auto* qi4 = in("qi4", DataType::kFLOAT, Dims{2, 10, 4, 32});
  auto* ki4 = in("ki4", DataType::kFLOAT, Dims{2, 12, 4, 32});
  auto* mi4 = in("mi4", DataType::kFLOAT, Dims{4, 10, 12});
  auto* li = add_attention(n, qi4, ki4, ki4, mi4, inter);
  EXPECT_EQ(li->output(0)->dims(), (Dims{2, 10, 4, 32}));
  // A parameter change is validated and undone when invalid.
  auto* l = add_attention(n, q, k, v);
  l->p.scale = std::nanf("");
  expect_error(error_of([&] { l->changed([&] { l->p.scale = 1.f; }); }), "scale: must be finite, got nan");
  EXPECT_EQ(l->p.scale, 1.f);
  l->p.heads_interleaved = true;  // (2, 4, 10, 32) read as (B, S, H, D): 10 query heads, 12 key heads
  expect_error(error_of([&] { l->changed([&] { l->p.heads_interleaved = false; }); }), "key: batch dimension 2 is 12");
  EXPECT_FALSE(l->p.heads_interleaved);
}

TEST(Attention, MissingInputsAreNamed) {
  Network n;
  auto* q = n.add_input("q", DataType::kFLOAT, Dims{1, 2, 4, 8});
  expect_error(error_of([&] { add_attention(n, q, nullptr, q); }), "key: the input is not set");
  auto* l = add_attention(n, q, q, q);
  // An optional mask can be set and removed again.
  auto* m = n.add_input("m", DataType::kBOOL, Dims{4, 4});
  l->set_input(3, m);
  EXPECT_EQ(l->num_inputs(), 4);
  l->set_input(3, nullptr);
  EXPECT_EQ(l->output(0)->dims(), (Dims{1, 2, 4, 8}));
}

// q, k and v of a packed (..., S, 3, H, D) input as three (..., S, H, D) tensors, for the reference.
std::vector<HostTensor> unpack_qkv(const HostTensor& packed) {
  const Dims& d = packed.dims;
  const int at = d.nb_dims - 3;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d.nb_dims; ++i)
    if (i < at) outer *= d.d[i];
    else if (i > at) inner *= d.d[i];
  std::vector<HostTensor> r(3);
  for (int j = 0; j < 3; ++j) {
    r[j].dtype = packed.dtype;
    r[j].dims.nb_dims = d.nb_dims - 1;
    for (int i = 0, k = 0; i < d.nb_dims; ++i)
      if (i != at) r[j].dims.d[k++] = d.d[i];
    for (int64_t o = 0; o < outer; ++o)
      r[j].v.insert(r[j].v.end(), packed.v.begin() + (o * 3 + j) * inner, packed.v.begin() + (o * 3 + j + 1) * inner);
  }
  return r;
}

// A packed_qkv case: input 0 (..., S, 3, H, D), inputs 1 and 2 unset, an optional mask; heads interleaved.
void run_packed(const std::string& name, DataType dt, Dims qkv, std::optional<Dims> mask, DataType mask_dt,
                AttentionParams p, std::vector<std::vector<double>> fixed = {}) {
  p.heads_interleaved = true;
  p.packed_qkv = true;
  OpCase oc;
  oc.variant = name + "_" + dtype_name(dt);
  oc.inputs = {{dt, qkv}};
  if (mask) oc.inputs.push_back({mask_dt == DataType::kBOOL ? DataType::kBOOL : dt, *mask});
  oc.fixed = std::move(fixed);
  const bool has_mask = mask.has_value();
  oc.build = [=](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_attention(n, in[0], nullptr, nullptr, has_mask ? in[1] : nullptr, p);
    return std::vector<Tensor*>{l->output(0)};
  };
  oc.reference = [=](const std::vector<HostTensor>& in) {
    std::vector<HostTensor> qkvm = unpack_qkv(in[0]);
    if (has_mask) qkvm.push_back(in[1]);
    return std::vector<HostTensor>{ref_attention(qkvm, p)};
  };
  check_op(LayerKind::kAttention, oc);
}

TEST(Attention, PackedQkv) {
  for (DataType dt : kFloatTypes) {
    // BERT after merge_qkv_projections: (B, S, 3, H, D) from one GEMM, its additive (B, 1, 1, S) mask.
    run_packed("packed_bert", dt, Dims{2, 65, 3, 4, 64}, {}, DataType::kFLOAT, params(0.125));
    run_packed("packed_mask_b11s", dt, Dims{2, 33, 3, 4, 32}, Dims{2, 1, 1, 33}, DataType::kFLOAT, params(0.17));
    run_packed("packed_causal", dt, Dims{1, 40, 3, 2, 32}, {}, DataType::kFLOAT, params(0.2, true));
    run_packed("packed_causal_mask", dt, Dims{2, 21, 3, 3, 16}, Dims{2, 3, 21, 21}, DataType::kFLOAT,
               params(0.25, true));
    // No batch dim; a ragged ViT-like sequence with odd head size.
    run_packed("packed_rank4", dt, Dims{40, 3, 2, 16}, {}, DataType::kFLOAT, params(0.25));
    run_packed("packed_vit_ragged", dt, Dims{1, 197, 3, 2, 20}, {}, DataType::kFLOAT, params(0.2));
  }
}

TEST(Attention, PackedQkvBoolMaskAndEmptyRows) {
  const int64_t s = 24;
  for (DataType dt : kFloatTypes)
    for (bool zero : {false, true})
      run_packed(std::string("packed_bool_mask_empty_rows") + (zero ? "_zero" : "_nan"), dt, Dims{1, s, 3, 2, 32},
                 Dims{1, 1, s, s}, DataType::kBOOL, params(0.2, false, false, zero),
                 {{}, blocking_mask(s, s, true, {0, 5, 24, 0})});
}

TEST(Attention, PackedQkvErrorsAndGeometry) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 5, 3, 4, 8});
  AttentionParams packed;
  packed.heads_interleaved = true;
  packed.packed_qkv = true;
  auto* l = add_attention(n, x, nullptr, nullptr, nullptr, packed);
  EXPECT_EQ(l->output(0)->dims(), (Dims{2, 5, 4, 8}));
  // What a kernel reads: q at the base, k and v one and two H*D further; rows step over all three.
  AttentionGeometry g = l->geometry(l->input_descs());
  EXPECT_TRUE(g.packed_qkv);
  EXPECT_EQ(g.k_offset, 32);
  EXPECT_EQ(g.v_offset, 64);
  EXPECT_EQ(g.sq, 5);
  EXPECT_EQ(g.sk, 5);
  EXPECT_EQ(g.d, 8);
  EXPECT_EQ(g.dv, 8);
  ASSERT_EQ(g.batch_rank, 2);  // (B, H)
  for (const AttentionStrides* st : {&g.q, &g.k, &g.v}) {
    EXPECT_EQ(st->batch[0], 5 * 3 * 32);
    EXPECT_EQ(st->batch[1], 8);
    EXPECT_EQ(st->row, 3 * 32);
    EXPECT_EQ(st->col, 1);
  }
  EXPECT_EQ(g.out.row, 32);
  EXPECT_EQ(g.out.batch[0], 5 * 32);
  AttentionGeometry plain = add_attention(n, x, x, x)->geometry({x->desc(), x->desc(), x->desc()});
  EXPECT_FALSE(plain.packed_qkv);
  EXPECT_EQ(plain.k_offset, 0);
  EXPECT_EQ(plain.v_offset, 0);

  AttentionParams no_heads = packed;
  no_heads.heads_interleaved = false;
  expect_error(error_of([&] { add_attention(n, x, nullptr, nullptr, nullptr, no_heads); }),
               "packed_qkv: needs heads_interleaved: the packed input 0 is (..., S, 3, H, D)");
  expect_error(error_of([&] { add_attention(n, x, x, nullptr, nullptr, packed); }),
               "key: must be unset with packed_qkv (input 0 holds q, k and v), got a tensor of shape (2, 5, 3, 4, 8)");
  expect_error(error_of([&] { add_attention(n, x, nullptr, x, nullptr, packed); }), "value: must be unset with packed_qkv");
  auto* four = n.add_input("four", DataType::kFLOAT, Dims{2, 5, 4, 4, 8});
  expect_error(error_of([&] { add_attention(n, four, nullptr, nullptr, nullptr, packed); }),
               "query: packed_qkv needs extent 3 (q, k, v) at dim 2 of the layout (..., S, 3, H, D), got (2, 5, 4, 4, 8)");
  auto* r3 = n.add_input("r3", DataType::kFLOAT, Dims{5, 3, 8});
  expect_error(error_of([&] { add_attention(n, r3, nullptr, nullptr, nullptr, packed); }),
               "query: packed_qkv needs rank >= 4 for the layout (..., S, 3, H, D), got (5, 3, 8)");
  expect_error(error_of([&] { add_attention(n, nullptr, nullptr, nullptr, nullptr, packed); }),
               "query: the packed q/k/v input (input 0) is not set");
  auto* xi = n.add_input("xi", DataType::kINT32, Dims{2, 5, 3, 4, 8});
  expect_error(error_of([&] { add_attention(n, xi, nullptr, nullptr, nullptr, packed); }),
               "query: attention needs float tensors, got int32");
  auto* m = n.add_input("m", DataType::kFLOAT, Dims{2, 1, 1, 6});
  expect_error(error_of([&] { add_attention(n, x, nullptr, nullptr, m, packed); }),
               "mask: shape (2, 1, 1, 6) does not broadcast to the scores (2, 4, 5, 5)");
  // Turning packing off leaves k and v unset: refused and undone.
  l->p.packed_qkv = false;
  expect_error(error_of([&] { l->changed([&] { l->p.packed_qkv = true; }); }), "key: the input is not set");
  EXPECT_TRUE(l->p.packed_qkv);
  // A run-time 3-axis of another extent is refused when the geometry is resolved.
  auto* dyn = n.add_input("dyn", DataType::kFLOAT, Dims{2, 5, -1, 4, 8});
  auto* ld = add_attention(n, dyn, nullptr, nullptr, nullptr, packed);
  TensorDesc unset;
  unset.dims.nb_dims = -1;
  expect_error(error_of([&] { ld->geometry({{DataType::kFLOAT, Dims{2, 5, 2, 4, 8}}, unset, unset}); }),
               "packed_qkv needs extent 3 (q, k, v) at dim 2");
}

}  // namespace
}  // namespace t2t_test
