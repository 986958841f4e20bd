#include <gtest/gtest.h>

#include "harness.h"
#include "move_ref.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace t2t_test {
namespace {

// Index as the layers read it: negative counts from the end; -1 when still out of range.
int64_t norm(double v, int64_t n) {
  auto i = static_cast<int64_t>(v);
  if (i < 0) i += n;
  return i >= 0 && i < n ? i : -1;
}

std::vector<int64_t> cat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
std::vector<int64_t> part(const std::vector<int64_t>& v, size_t from, size_t to) {
  return std::vector<int64_t>(v.begin() + from, v.begin() + to);
}

HostTensor ref_gather(const HostTensor& data, const HostTensor& idx, GatherMode mode, int axis, int e) {
  const Dims &dd = data.dims, &qd = idx.dims;
  int r = dd.nb_dims, q = qd.nb_dims;
  Dims od;
  std::function<double(const std::vector<int64_t>&)> f;
  if (mode == GatherMode::kDEFAULT) {
    std::vector<int64_t> shape;
    if (e) shape.push_back(std::max(dd.d[0], qd.d[0]));
    for (int i = e; i < axis; ++i) shape.push_back(dd.d[i]);
    for (int i = e; i < q; ++i) shape.push_back(qd.d[i]);
    for (int i = axis + 1; i < r; ++i) shape.push_back(dd.d[i]);
    od = Dims::from(shape);
    f = [&, axis, e, q, r](const std::vector<int64_t>& y) {
      std::vector<int64_t> b = e ? std::vector<int64_t>{y[0]} : std::vector<int64_t>{};
      auto pre = part(y, e, axis);
      auto j = part(y, axis, axis + q - e);
      auto post = part(y, axis + q - e, y.size());
      std::vector<int64_t> ib = e ? std::vector<int64_t>{qd.d[0] == 1 ? 0 : y[0]} : std::vector<int64_t>{};
      std::vector<int64_t> db = e ? std::vector<int64_t>{dd.d[0] == 1 ? 0 : y[0]} : std::vector<int64_t>{};
      int64_t k = norm(idx.v[ravel(cat(ib, j), qd)], dd.d[axis]);
      if (k < 0) return 0.0;
      (void)r;
      return data.v[ravel(cat(cat(db, pre), cat({k}, post)), dd)];
    };
  } else if (mode == GatherMode::kELEMENT) {
    od = qd;
    f = [&, axis](const std::vector<int64_t>& y) {
      auto src = y;
      src[axis] = norm(idx.v[ravel(y, qd)], dd.d[axis]);
      return src[axis] < 0 ? 0.0 : data.v[ravel(src, dd)];
    };
  } else {
    int64_t k = qd.d[q - 1];
    std::vector<int64_t> shape = part(qd.vec(), 0, q - 1);
    for (int i = e + static_cast<int>(k); i < r; ++i) shape.push_back(dd.d[i]);
    od = Dims::from(shape);
    f = [&, k, e, q](const std::vector<int64_t>& y) {
      auto row = part(y, 0, q - 1);
      std::vector<int64_t> src = part(y, 0, e);
      for (int64_t t = 0; t < k; ++t) {
        int64_t v = norm(idx.v[ravel(cat(row, {t}), qd)], dd.d[e + t]);
        if (v < 0) return 0.0;
        src.push_back(v);
      }
      return data.v[ravel(cat(src, part(y, q - 1, y.size())), dd)];
    };
  }
  return make_tensor(data.dtype, od, f);
}

struct GatherSpec {
  std::string name;
  Dims data, idx;
  std::vector<double> indices;
  GatherMode mode = GatherMode::kDEFAULT;
  int axis = 0, e = 0;
};

void run(const GatherSpec& s, DataType dt, DataType it) {
  OpCase c = movement_case(s.name + "_" + dtype_name(it), dt);
  c.inputs = {{dt, s.data}, {it, s.idx}};
  c.fixed = {{}, s.indices};
  c.build = [s](Network& n, const std::vector<Tensor*>& in) {
    GatherLayer* l = s.mode == GatherMode::kDEFAULT ? add_gather(n, in[0], in[1], s.axis)
                                                    : add_gather_v2(n, in[0], in[1], s.mode);
    l->p.axis = s.axis;
    l->p.num_elementwise_dims = s.e;
    l->changed([] {});
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [s](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{ref_gather(in[0], in[1], s.mode, s.axis, s.e)};
  };
  check_op(LayerKind::kGather, c);
}

TEST(Gather, ModesAxesAndDtypes) {
  using G = GatherMode;
  std::vector<GatherSpec> specs = {
      {"default_axis0", Dims{4, 5}, Dims{3}, {3, -1, 0}},
      {"default_axis1_2d_indices", Dims{3, 5}, Dims{2, 2}, {4, 0, -5, 2}, G::kDEFAULT, 1},
      {"default_scalar_index", Dims{2, 3, 4}, Dims{}, {1}, G::kDEFAULT, 2},
      {"default_out_of_range_reads_zero", Dims{3, 4}, Dims{4}, {5, -6, 2, 4}, G::kDEFAULT, 1},
      {"default_elementwise_dim", Dims{2, 3, 4}, Dims{2, 5}, {0, 3, 1, -1, 2, 3, 2, 1, 0, -4}, G::kDEFAULT, 2, 1},
      {"default_elementwise_broadcast_data", Dims{1, 3, 4}, Dims{2, 2}, {0, 3, 2, 1}, G::kDEFAULT, 1, 1},
      {"default_elementwise_broadcast_indices", Dims{2, 3, 4}, Dims{1, 3}, {2, 0, 1}, G::kDEFAULT, 2, 1},
      {"element_axis1", Dims{3, 4}, Dims{3, 2}, {3, 0, 1, -1, 2, 2}, G::kELEMENT, 1},
      {"element_axis0_smaller", Dims{4, 3}, Dims{2, 2}, {3, 0, 1, 9}, G::kELEMENT, 0},
      {"element_3d", Dims{2, 3, 4}, Dims{2, 3, 2}, {0, 1, 2, 3, 3, 2, 1, 0, -1, -2, 0, 3},
       G::kELEMENT, 2},
      {"nd_pairs", Dims{3, 4, 5}, Dims{2, 2}, {2, 3, -1, 0}, G::kND},
      {"nd_full", Dims{3, 4}, Dims{3, 2}, {0, 0, 2, 3, 1, -1}, G::kND},
      {"nd_out_of_range", Dims{3, 4}, Dims{2, 1}, {7, 1}, G::kND},
      {"nd_batch", Dims{2, 3, 4}, Dims{2, 2, 1}, {2, 0, 1, 1}, G::kND, 0, 1},
  };
  for (auto& s : specs) {
    run(s, DataType::kFLOAT, DataType::kINT32);
    run(s, DataType::kINT64, DataType::kINT64);
  }
  for (DataType dt : movement_dtypes()) {
    run(specs[1], dt, DataType::kINT64);
    run(specs[7], dt, DataType::kINT32);
    run(specs[10], dt, DataType::kINT32);
  }
}

HostTensor ref_scatter(const HostTensor& data, const HostTensor& idx, const HostTensor& upd, ScatterMode mode,
                       int axis) {
  HostTensor out = data;
  if (mode == ScatterMode::kELEMENT) {
    for (int64_t i = 0; i < idx.numel(); ++i) {
      auto p = unravel(i, idx.dims);
      p[axis] = norm(idx.v[i], data.dims.d[axis]);
      if (p[axis] >= 0) out.v[ravel(p, data.dims)] = upd.v[i];
    }
    return out;
  }
  int q = idx.dims.nb_dims;
  int64_t k = idx.dims.d[q - 1], rows = idx.numel() / k, slice = upd.numel() / rows;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> at;
    for (int64_t t = 0; t < k; ++t) at.push_back(norm(idx.v[r * k + t], data.dims.d[t]));
    bool ok = true;
    for (auto v : at) ok = ok && v >= 0;
    if (!ok) continue;
    at.resize(data.dims.nb_dims, 0);
    int64_t base = ravel(at, data.dims);
    for (int64_t j = 0; j < slice; ++j) out.v[base + j] = upd.v[r * slice + j];
  }
  return out;
}

struct ScatterSpec {
  std::string name;
  Dims data, idx, upd;
  std::vector<double> indices;
  ScatterMode mode = ScatterMode::kELEMENT;
  int axis = 0;
};

void run(const ScatterSpec& s, DataType dt, DataType it) {
  OpCase c = movement_case(s.name + "_" + dtype_name(it), dt);
  c.inputs = {{dt, s.data}, {it, s.idx}, {dt, s.upd}};
  c.fixed = {{}, s.indices, {}};
  c.build = [s](Network& n, const std::vector<Tensor*>& in) {
    auto* l = add_scatter(n, in[0], in[1], in[2], s.mode);
    l->p.axis = s.axis;
    l->changed([] {});
    return std::vector<Tensor*>{l->output(0)};
  };
  c.reference = [s](const std::vector<HostTensor>& in) {
    return std::vector<HostTensor>{ref_scatter(in[0], in[1], in[2], s.mode, s.axis)};
  };
  check_op(LayerKind::kScatter, c);
}

TEST(Scatter, ModesAxesAndDtypes) {
  using S = ScatterMode;
  std::vector<ScatterSpec> specs = {
      {"element_axis0", Dims{4, 3}, Dims{2, 3}, Dims{2, 3}, {3, 0, 1, 0, 2, -1}},
      {"element_axis1_wide_indices", Dims{2, 3}, Dims{2, 5}, Dims{2, 5}, {0, 1, 2, 9, -9, 2, 1, 0, 7, 8},
       S::kELEMENT, 1},
      {"element_3d_axis2", Dims{2, 2, 4}, Dims{2, 2, 2}, Dims{2, 2, 2}, {3, 0, 1, 2, -1, 0, 2, 1}, S::kELEMENT, 2},
      {"nd_rows", Dims{4, 3}, Dims{2, 1}, Dims{2, 3}, {2, -4}, S::kND},
      {"nd_elements", Dims{3, 4}, Dims{3, 2}, Dims{3}, {0, 0, 2, 3, 1, -2}, S::kND},
      {"nd_out_of_range_skipped", Dims{3, 4}, Dims{2, 2}, Dims{2}, {5, 0, 1, 1}, S::kND},
  };
  for (auto& s : specs) {
    run(s, DataType::kFLOAT, DataType::kINT32);
    run(s, DataType::kINT32, DataType::kINT64);
  }
  for (DataType dt : movement_dtypes()) {
    run(specs[1], dt, DataType::kINT32);
    run(specs[3], dt, DataType::kINT64);
  }
}

// Colliding updates: the last one in row-major order wins, every run.
TEST(Scatter, CollisionsAreDeterministic) {
  Network n;
  auto* d = n.add_input("d", DataType::kFLOAT, Dims{4});
  auto* i = n.add_input("i", DataType::kINT32, Dims{3});
  auto* u = n.add_input("u", DataType::kFLOAT, Dims{3});
  auto* y = add_scatter(n, d, i, u, ScatterMode::kELEMENT)->output(0);
  y->set_name("y");
  n.mark_output(y);
  auto e = Builder().build(n, BuilderConfig());
  auto ctx = e->create_execution_context();
  std::vector<float> dv = {0, 0, 0, 0}, uv = {1, 2, 3}, out(4);
  std::vector<int32_t> iv = {2, 1, 2};
  ctx->set_tensor_address("d", dv.data());
  ctx->set_tensor_address("i", iv.data());
  ctx->set_tensor_address("u", uv.data());
  ctx->set_tensor_address("y", out.data());
  for (int k = 0; k < 3; ++k) {
    ctx->enqueue(nullptr);
    EXPECT_EQ(out, (std::vector<float>{0, 2, 3, 0}));
  }
}

TEST(Gather, ProvisionalElementAxisForTensorRTOrder) {
  Network n;
  auto* d = n.add_input("d", DataType::kFLOAT, Dims{2, 3});
  auto* i = n.add_input("i", DataType::kINT32, Dims{2, 5});
  // Indices wider than the data only fit axis 1: add_* takes it, then the caller sets it.
  auto* g = add_gather_v2(n, d, i, GatherMode::kELEMENT);
  EXPECT_EQ(g->p.axis, 1);
  EXPECT_EQ(g->output(0)->dims(), (Dims{2, 5}));
  auto* u = n.add_input("u", DataType::kFLOAT, Dims{2, 5});
  EXPECT_EQ(add_scatter(n, d, i, u, ScatterMode::kELEMENT)->p.axis, 1);
  auto* sq = n.add_input("sq", DataType::kINT32, Dims{2, 3});
  EXPECT_EQ(add_gather_v2(n, d, sq, GatherMode::kELEMENT)->p.axis, 0);
}

TEST(Gather, BadArgumentsNameThemselves) {
  Network n;
  auto* d = n.add_input("d", DataType::kFLOAT, Dims{3, 4});
  auto* i = n.add_input("i", DataType::kINT32, Dims{2});
  auto* f = n.add_input("f", DataType::kFLOAT, Dims{2});
  std::string m = error_of([&] { add_gather(n, d, i, 2); });
  EXPECT_NE(m.find("add_gather"), std::string::npos) << m;
  EXPECT_NE(m.find("axis 2"), std::string::npos) << m;
  EXPECT_NE(m.find("(3, 4)"), std::string::npos) << m;
  m = error_of([&] { add_gather(n, d, f, 0); });
  EXPECT_NE(m.find("int32 or int64"), std::string::npos) << m;
  auto* g = add_gather(n, d, i, 0);
  g->p.num_elementwise_dims = 2;
  m = error_of([&] { g->changed([&] { g->p.num_elementwise_dims = 0; }); });
  EXPECT_NE(m.find("num_elementwise_dims"), std::string::npos) << m;
  g->p.mode = GatherMode::kELEMENT;
  m = error_of([&] { g->changed([&] { g->p.mode = GatherMode::kDEFAULT; }); });
  EXPECT_NE(m.find("rank"), std::string::npos) << m;
  g->p.mode = GatherMode::kND;
  g->p.axis = 1;
  m = error_of([&] { g->changed([&] { g->p.mode = GatherMode::kDEFAULT, g->p.axis = 0; }); });
  EXPECT_NE(m.find("ND mode does not use an axis"), std::string::npos) << m;
  auto* big = n.add_input("big", DataType::kINT32, Dims{2, 3});
  m = error_of([&] { add_gather_v2(n, d, big, GatherMode::kND); });
  EXPECT_NE(m.find("last extent"), std::string::npos) << m;
  m = error_of([&] { add_gather_v2(n, d, n.add_input("dyn", DataType::kINT32, Dims{2, -1}), GatherMode::kND); });
  EXPECT_NE(m.find("known when building"), std::string::npos) << m;

  auto* u = n.add_input("u", DataType::kFLOAT, Dims{3});
  m = error_of([&] { add_scatter(n, d, i, u, ScatterMode::kELEMENT); });
  EXPECT_NE(m.find("add_scatter"), std::string::npos) << m;
  EXPECT_NE(m.find("rank"), std::string::npos) << m;
  auto* i2 = n.add_input("i2", DataType::kINT32, Dims{2, 4});
  auto* u2 = n.add_input("u2", DataType::kFLOAT, Dims{2, 3});
  m = error_of([&] { add_scatter(n, d, i2, u2, ScatterMode::kELEMENT); });
  EXPECT_NE(m.find("updates"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 3)"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 4)"), std::string::npos) << m;
  auto* ui = n.add_input("ui", DataType::kINT32, Dims{2, 4});
  m = error_of([&] { add_scatter(n, d, i2, ui, ScatterMode::kELEMENT); });
  EXPECT_NE(m.find("int32"), std::string::npos) << m;
}

}  // namespace
}  // namespace t2t_test
