#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "backends/common/pointwise_math.h"
#include "harness.h"

namespace t2t_test {
namespace {

struct SeCase {
  std::string name;
  Dims x;  // as stored: (N, C, *spatial), or (N, *spatial, C) with channels_last
  int64_t s = 4;
  bool bias = true, channels_last = false;
  bool has_act1 = true, has_act2 = true;
  bool apply = false;  // apply_to_input: the output is x * gate
  std::string cuda_kernel;  // set: the CUDA kernel's name must contain it
  int64_t cuda_tactic = -1; // forced on CUDA (apply_to_input: 1 = the gate kernel, then se_scale)
  bool misalign = false;    // buffers one element past an aligned address (scalar loads of x and y)
  ActivationParams act1{ActivationType::kSILU, 0.f, 0.f}, act2{ActivationType::kSIGMOID, 0.f, 0.f};
};

Weights random_weights(int64_t n, double scale) {
  std::vector<double> v = random_values(n, DataType::kFLOAT, -scale, scale);
  return Weights::f32(std::vector<float>(v.begin(), v.end()));
}

// act2(W2 act1(W1 mean(x) + b1) + b2) in double.
HostTensor ref_gate(const HostTensor& x, const SqueezeExciteParams& p) {
  const int r = x.dims.nb_dims;
  const int64_t n = x.dims.d[0], c = p.channels_last ? x.dims.d[r - 1] : x.dims.d[1], s = p.squeeze_channels;
  const int64_t sp = x.numel() / (n * c);
  HostTensor y;
  y.dtype = x.dtype;
  y.dims.nb_dims = r;
  for (int i = 0; i < r; ++i) y.dims.d[i] = 1;
  y.dims.d[0] = n, y.dims.d[1] = c;
  y.v.assign(n * c, 0.0);
  for (int64_t b = 0; b < n; ++b) {
    std::vector<double> mean(c, 0.0), h(s, 0.0);
    for (int64_t k = 0; k < c; ++k) {
      for (int64_t i = 0; i < sp; ++i) mean[k] += p.channels_last ? x.v[(b * sp + i) * c + k] : x.v[(b * c + k) * sp + i];
      mean[k] /= static_cast<double>(sp);
    }
    for (int64_t j = 0; j < s; ++j) {
      double a = p.b1.empty() ? 0.0 : p.b1.at(j);
      for (int64_t k = 0; k < c; ++k) a += p.w1.at(j * c + k) * mean[k];
      h[j] = p.has_act1 ? pw::activation<double>(p.act1.type, a, p.act1.alpha, p.act1.beta) : a;
    }
    for (int64_t k = 0; k < c; ++k) {
      double a = p.b2.empty() ? 0.0 : p.b2.at(k);
      for (int64_t j = 0; j < s; ++j) a += p.w2.at(k * s + j) * h[j];
      y.v[b * c + k] = p.has_act2 ? pw::activation<double>(p.act2.type, a, p.act2.alpha, p.act2.beta) : a;
    }
  }
  if (!p.apply_to_input) return y;
  HostTensor z = x;  // x * gate, in x's layout
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t i = 0; i < sp; ++i) {
        const int64_t at = p.channels_last ? (b * sp + i) * c + k : (b * c + k) * sp + i;
        z.v[at] = x.v[at] * y.v[b * c + k];
      }
  return z;
}

void run(const SeCase& sc, DataType dt) {
  const int r = sc.x.nb_dims;
  const int64_t c = sc.channels_last ? sc.x.d[r - 1] : sc.x.d[1];
  SqueezeExciteParams p;
  p.squeeze_channels = sc.s;
  // Weights of the scale 1/sqrt(fan-in) keep the pre-activations of order 1 (the sigmoid not saturated).
  p.w1 = random_weights(sc.s * c, 2.0 / std::sqrt(static_cast<double>(c)));
  p.w2 = random_weights(sc.s * c, 2.0 / std::sqrt(static_cast<double>(sc.s)));
  if (sc.bias) p.b1 = random_weights(sc.s, 0.5), p.b2 = random_weights(c, 0.5);
  p.has_act1 = sc.has_act1, p.has_act2 = sc.has_act2, p.act1 = sc.act1, p.act2 = sc.act2;
  p.channels_last = sc.channels_last;
  p.apply_to_input = sc.apply;
  OpCase oc;
  oc.variant = sc.name + "_" + dtype_name(dt);
  oc.inputs = {{dt, sc.x}};
  oc.cuda_kernel = sc.cuda_kernel;
  oc.cuda_tactic = sc.cuda_tactic;
  if (sc.cuda_tactic >= 0) oc.variant += "_tactic" + std::to_string(sc.cuda_tactic);
  oc.misalign = sc.misalign;
  oc.runs = 3;  // one context run three times: its counters and generations carry over between runs
  oc.build = [=](Network& n, const std::vector<Tensor*>& in) {
    return std::vector<Tensor*>{add_squeeze_excite(n, in[0], p)->output(0)};
  };
  oc.reference = [=](const std::vector<HostTensor>& in) { return std::vector<HostTensor>{ref_gate(in[0], p)}; };
  check_op(LayerKind::kSqueezeExcite, oc);
}

const DataType kFloatTypes[] = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16};

TEST(SqueezeExcite, EfficientNetShapes) {
  for (DataType dt : kFloatTypes) {
    // EfficientNet-B0's first and last gates at batch 1, channels-first and channels-last (the GPU layout).
    for (bool cl : {false, true}) {
      const std::string l = cl ? "_nhwc" : "";
      run({"b0_first" + l, cl ? Dims{1, 112, 112, 32} : Dims{1, 32, 112, 112}, 8, true, cl}, dt);
      run({"b0_last" + l, cl ? Dims{1, 7, 7, 1152} : Dims{1, 1152, 7, 7}, 48, true, cl}, dt);
      run({"batch3" + l, cl ? Dims{3, 14, 14, 240} : Dims{3, 240, 14, 14}, 10, true, cl}, dt);
    }
  }
}

TEST(SqueezeExcite, OddWidthsAndRanks) {
  for (DataType dt : kFloatTypes) {
    // C and S not multiples of a vector: scalar loads of x and of both weight matrices.
    run({"c20_s5", Dims{2, 20, 9, 9}, 5}, dt);
    run({"c20_s5_nhwc", Dims{2, 9, 9, 20}, 5, true, true}, dt);
    run({"c3_s1", Dims{1, 3, 4, 4}, 1}, dt);
    // One and three spatial dims; a single position (the mean is the value).
    run({"rank3", Dims{2, 24, 50}, 6}, dt);
    run({"rank5", Dims{1, 16, 3, 5, 7}, 4}, dt);
    run({"one_position", Dims{2, 64, 1, 1}, 16}, dt);
    // More channels than one pass of the block's lanes (chunks), and more positions than splits.
    run({"c2000_nhwc", Dims{1, 5, 5, 2000}, 100, true, true}, dt);
    // C + S at the CUDA kernel's shared-memory limit (10000 floats).
    run({"c9000_s1000_nhwc", Dims{1, 2, 2, 9000}, 1000, true, true}, dt);
  }
}

TEST(SqueezeExcite, ActivationsAndBias) {
  const ActivationParams relu{ActivationType::kRELU, 0.f, 0.f};
  const ActivationParams hsig{ActivationType::kHARD_SIGMOID, 1.f / 6.f, 0.5f};  // torch's hardsigmoid
  for (DataType dt : kFloatTypes) {
    SeCase mnv3{"relu_hardsigmoid", Dims{2, 72, 28, 28}, 24};
    mnv3.act1 = relu, mnv3.act2 = hsig;
    run(mnv3, dt);
    SeCase plain{"no_bias_no_activation", Dims{2, 32, 6, 6}, 8, false};
    plain.has_act1 = plain.has_act2 = false;
    run(plain, dt);
    SeCase nhwc{"no_bias_nhwc", Dims{1, 6, 6, 64}, 16, false, true};
    run(nhwc, dt);
  }
}

TEST(SqueezeExcite, AppliedToTheInput) {
  for (DataType dt : kFloatTypes)
    for (bool cl : {false, true}) {
      const std::string l = cl ? "_nhwc" : "";
      // Each case twice: one cooperative launch (the default), and the gate kernel then se_scale (tactic 1;
      // where one block per image needs no waiting, the kernel offers no tactics and runs its one launch).
      auto apply = [&](SeCase c) {
        c.apply = true;
        c.cuda_kernel = "cuda_squeeze_excite_apply";
        run(c, dt);
        c.cuda_tactic = 1;
        if (c.x.d[0] < 3000) c.cuda_kernel = "cuda_squeeze_excite_apply_two_kernels";
        run(c, dt);
      };
      apply({"apply_b0_first" + l, cl ? Dims{1, 112, 112, 32} : Dims{1, 32, 112, 112}, 8, true, cl});
      apply({"apply_b0_last" + l, cl ? Dims{1, 7, 7, 1152} : Dims{1, 1152, 7, 7}, 48, true, cl});
      apply({"apply_batch32" + l, cl ? Dims{32, 14, 14, 240} : Dims{32, 240, 14, 14}, 10, true, cl});
      apply({"apply_c20_s5" + l, cl ? Dims{2, 9, 9, 20} : Dims{2, 20, 9, 9}, 5, true, cl});
      // More images than blocks fit on a GPU at once: one block per image, nothing waits.
      apply({"apply_batch3000" + l, cl ? Dims{3000, 2, 2, 16} : Dims{3000, 16, 2, 2}, 4, true, cl});
      // Channels-first: few positions, many channels (split along the channels); many positions, few channels.
      if (!cl) apply({"apply_c1152_7x7", Dims{1, 1152, 7, 7}, 48});
    }
}

TEST(SqueezeExcite, MisalignedBuffers) {
  for (DataType dt : kFloatTypes)
    for (bool apply : {false, true}) {
      SeCase c{std::string("misaligned") + (apply ? "_apply" : ""), Dims{1, 14, 14, 64}, 16, true, true};
      c.apply = apply, c.misalign = true;
      run(c, dt);
      if (apply) {
        c.cuda_tactic = 1;
        run(c, dt);
      }
    }
}

TEST(SqueezeExcite, BadParametersNameTheArgument) {
  auto expect_error = [](const std::function<void(SqueezeExciteParams&)>& edit, const std::string& what) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{1, 8, 4, 4});
    SqueezeExciteParams p;
    p.squeeze_channels = 2;
    p.w1 = Weights::f32(std::vector<float>(16, 0.1f));
    p.w2 = Weights::f32(std::vector<float>(16, 0.1f));
    edit(p);
    try {
      add_squeeze_excite(net, x, p);
      ADD_FAILURE() << "no error for " << what;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error([](SqueezeExciteParams& p) { p.w1 = Weights::f32(std::vector<float>(15, 0.f)); }, "w1");
  expect_error([](SqueezeExciteParams& p) { p.w2 = Weights(); }, "w2");
  expect_error([](SqueezeExciteParams& p) { p.b1 = Weights::f32({1.f}); }, "b1");
  expect_error([](SqueezeExciteParams& p) { p.b2 = Weights::f32({1.f, 2.f}); }, "b2");
  expect_error([](SqueezeExciteParams& p) { p.squeeze_channels = 0; }, "squeeze_channels");
  expect_error([](SqueezeExciteParams& p) { p.has_act1 = true, p.act1.type = static_cast<ActivationType>(99); }, "act1");
  Network net;
  Tensor* x = net.add_input("x", DataType::kINT32, Dims{1, 8, 4, 4});
  SqueezeExciteParams p;
  p.squeeze_channels = 2;
  p.w1 = p.w2 = Weights::f32(std::vector<float>(16, 0.1f));
  EXPECT_THROW(add_squeeze_excite(net, x, p), InvalidArgument);
}

}  // namespace
}  // namespace t2t_test
