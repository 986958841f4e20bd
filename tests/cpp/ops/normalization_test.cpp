#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "harness.h"
#include "torch2trt/builder.h"

namespace t2t_test {
namespace {

// Offset of the element at multi-index `idx` (of x's rank) in a tensor `d` broadcast to it, with
// extent `groups` at dim 1 meaning one value per group of channels.
int64_t param_offset(const Dims& d, const Dims& x, const std::vector<int64_t>& idx, int64_t groups) {
  int r = x.nb_dims;
  int64_t off = 0;
  for (int j = 0; j < d.nb_dims; ++j) {
    int i = r - d.nb_dims + j;
    int64_t k = idx[i];
    if (d.d[j] == 1)
      k = 0;
    else if (groups > 1 && i == 1 && d.d[j] == groups && groups != x.d[1])
      k = idx[1] / (x.d[1] / groups);
    off = off * d.d[j] + k;
  }
  return off;
}

// Statistics keyed by the kept indices (reduced ones set to -1; with groups, the channel replaced by its group).
HostTensor ref_norm(const HostTensor& x, const HostTensor& scale, const HostTensor& bias, uint32_t axes, int64_t groups,
                    double eps) {
  int r = x.dims.nb_dims;
  auto key_of = [&](std::vector<int64_t> idx) {
    for (int i = 0; i < r; ++i)
      if (axes >> i & 1u) idx[i] = -1;
    if (groups > 1) idx[1] /= x.dims.d[1] / groups;
    return idx;
  };
  auto index_of = [&](int64_t k) {
    std::vector<int64_t> idx(r);
    for (int i = r - 1; i >= 0; --i) idx[i] = k % x.dims.d[i], k /= x.dims.d[i];
    return idx;
  };
  std::map<std::vector<int64_t>, std::vector<double>> members;
  for (int64_t k = 0; k < x.numel(); ++k) members[key_of(index_of(k))].push_back(x.v[k]);
  std::map<std::vector<int64_t>, std::pair<double, double>> stats;  // mean, 1/std
  for (auto& [key, v] : members) {
    double m = 0, s = 0;
    for (double e : v) m += e;
    m /= v.size();
    for (double e : v) s += (e - m) * (e - m);
    stats[key] = {m, 1 / std::sqrt(s / v.size() + eps)};
  }
  HostTensor y = x;
  for (int64_t k = 0; k < x.numel(); ++k) {
    auto idx = index_of(k);
    auto [m, rs] = stats[key_of(idx)];
    y.v[k] = (x.v[k] - m) * rs * scale.v[param_offset(scale.dims, x.dims, idx, groups)] +
             bias.v[param_offset(bias.dims, x.dims, idx, groups)];
  }
  return y;
}

void run(const std::string& name, DataType dt, Dims x, Dims s, uint32_t axes, int groups, double lo = -2, double hi = 2,
         float eps = 1e-5f) {
  OpCase c;
  c.variant = name;
  c.inputs = {{dt, x}, {dt, s}, {dt, s}};
  c.lo = lo, c.hi = hi;
  c.build = [=](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_normalization(n, in[0], in[1], in[2], axes, groups);
    l->p.epsilon = eps;
    l->changed([] {});
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [=](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{ref_norm(in[0], in[1], in[2], axes, groups, eps)};
  };
  check_op(LayerKind::kNormalization, c);
}

TEST(Normalization, LayerInstanceGroupNorm) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    run("layer_norm_last", dt, Dims{2, 5, 16}, Dims{16}, 1u << 2, 1);
    run("layer_norm_last2", dt, Dims{2, 5, 16}, Dims{5, 16}, 3u << 1, 1);
    run("layer_norm_rank1", dt, Dims{33}, Dims{33}, 1u, 1);
    run("instance_norm_2d", dt, Dims{2, 3, 6, 7}, Dims{1, 3, 1, 1}, 3u << 2, 1);
    run("instance_norm_1d", dt, Dims{2, 4, 9}, Dims{1, 4, 1}, 1u << 2, 1);
    run("instance_norm_3d", dt, Dims{1, 3, 3, 4, 5}, Dims{1, 3, 1, 1, 1}, 7u << 2, 1);
    run("group_norm", dt, Dims{2, 6, 5, 4}, Dims{1, 6, 1, 1}, 3u << 2, 3);
    run("group_norm_1d", dt, Dims{2, 4, 9}, Dims{1, 4, 1}, 1u << 2, 2);
    run("group_norm_per_group_params", dt, Dims{2, 6, 5, 4}, Dims{1, 3, 1, 1}, 3u << 2, 3);
    run("group_norm_groups_eq_channels", dt, Dims{2, 6, 5, 4}, Dims{1, 6, 1, 1}, 3u << 2, 6);
    run("group_norm_one_group", dt, Dims{2, 6, 5, 4}, Dims{1, 6, 1, 1}, 7u << 1, 1);  // GroupNorm(1, C)
    run("group_norm_no_spatial", dt, Dims{3, 8}, Dims{8}, 0u, 4);
    // BERT's rows (the CUDA one-kernel row path, 16-byte accesses), and one longer than a warp takes alone.
    run("layer_norm_768", dt, Dims{3, 7, 768}, Dims{768}, 1u << 2, 1);
    run("layer_norm_1000", dt, Dims{5, 1000}, Dims{1000}, 1u << 1, 1);  // a partly filled last register chunk
    run("layer_norm_long_row", dt, Dims{2, 8200}, Dims{8200}, 1u << 1, 1);
  }
}

TEST(Normalization, OtherAxisSetsAndBroadcasts) {
  run("axes_0_2", DataType::kFLOAT, Dims{3, 4, 5}, Dims{1, 4, 1}, 1u | 4u, 1);
  run("axis_1_only", DataType::kFLOAT, Dims{2, 5, 3}, Dims{5, 1}, 2u, 1);
  run("full_shape_params", DataType::kFLOAT, Dims{2, 3, 4}, Dims{2, 3, 4}, 4u, 1);
  // Parameters that differ per row, in 16-byte vectors (the row kernel's per-row offsets, not its shared path).
  run("per_row_params_half", DataType::kHALF, Dims{2, 3, 16}, Dims{2, 3, 16}, 4u, 1);
  run("scalar_like_params", DataType::kFLOAT, Dims{2, 3, 4}, Dims{1}, 6u, 1);
  run("all_axes", DataType::kFLOAT, Dims{2, 3, 4}, Dims{3, 4}, 7u, 1);
  run("epsilon_1e-2", DataType::kFLOAT, Dims{2, 3, 8}, Dims{8}, 4u, 1, -0.1, 0.1, 1e-2f);
}

TEST(Normalization, LargeMeanStaysAccurate) {
  // A one-pass E[x^2] - E[x]^2 in float32 loses every digit here; the two-pass scheme must not.
  run("offset_1000", DataType::kFLOAT, Dims{4, 512}, Dims{512}, 2u, 1, 1000.0, 1000.5);
  run("group_offset_100", DataType::kFLOAT, Dims{2, 8, 16, 16}, Dims{1, 8, 1, 1}, 12u, 4, 100.0, 100.1);
}

TEST(Normalization, RejectsBadArguments) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 6, 4, 4});
  auto* s = n.add_input("s", DataType::kFLOAT, Dims{1, 6, 1, 1});
  auto* sh = n.add_input("sh", DataType::kHALF, Dims{1, 6, 1, 1});
  auto* s5 = n.add_input("s5", DataType::kFLOAT, Dims{1, 5, 1, 1});
  auto* xi = n.add_input("xi", DataType::kINT32, Dims{2, 6, 4, 4});
  auto msg = [&](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(msg([&] { add_normalization(n, xi, s, s, 12u); }).find("float"), std::string::npos);
  EXPECT_NE(msg([&] { add_normalization(n, x, sh, s, 12u); }).find("scale"), std::string::npos);
  EXPECT_NE(msg([&] { add_normalization(n, x, s, s, 1u << 4); }).find("axes"), std::string::npos);
  EXPECT_NE(msg([&] { add_normalization(n, x, s, s, 0u); }).find("selects no dim"), std::string::npos);
  EXPECT_NE(msg([&] { add_normalization(n, x, s5, s, 12u); }).find("does not broadcast"), std::string::npos);
  EXPECT_EQ(n.num_layers(), 0);
  auto* l = add_normalization(n, x, s, s, 12u);
  auto bad_set = [&](const std::function<void()>& set, const std::string& needle) {
    NormalizationParams old = l->p;
    set();
    std::string m = msg([&] { l->changed([&] { l->p = old; }); });
    EXPECT_NE(m.find(needle), std::string::npos) << m;
    EXPECT_EQ(l->p.num_groups, old.num_groups);
  };
  bad_set([&] { l->p.num_groups = 4; }, "do not divide");
  bad_set([&] { l->p.num_groups = 0; }, "num_groups");
  bad_set([&] { l->p.num_groups = 2, l->p.axes = 14u; }, "channel dim 1");
  bad_set([&] { l->p.epsilon = -1.f; }, "epsilon");
  bad_set([&] { l->p.compute_precision = DataType::kINT32; }, "compute_precision");
}

TEST(Normalization, HalfComputePrecisionIsRefusedOnCpu) {
  Network n;
  auto* x = n.add_input("x", DataType::kFLOAT, Dims{2, 8});
  auto* s = n.add_input("s", DataType::kFLOAT, Dims{8});
  auto* l = add_normalization(n, x, s, s, 2u);
  l->p.compute_precision = DataType::kHALF;
  l->changed([] {});
  n.mark_output(l->output(0));
  BuilderConfig cfg;
  cfg.device = DeviceType::kCPU;
  try {
    Builder().build_serialized(n, cfg);
    ADD_FAILURE() << "expected Unsupported";
  } catch (const Unsupported& e) {
    EXPECT_NE(std::string(e.what()).find("compute_precision"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace t2t_test
