#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "backends/backend.h"
#include "harness.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"

namespace t2t_test {
namespace {

using A = ActivationType;
using U = UnaryOperation;
using E = ElementWiseOperation;

// Writes a program register by register: each call returns the register the instruction writes.
struct ProgramWriter {
  int n_in;
  PointwiseParams p;
  explicit ProgramWriter(int inputs) : n_in(inputs) {}
  int push(PointwiseInstruction ins) {
    p.program.push_back(ins);
    return n_in + static_cast<int>(p.program.size()) - 1;
  }
  int act(A t, int a, float alpha = 0, float beta = 0) {
    return push({PointwiseOpcode::kACTIVATION, static_cast<int32_t>(t), a, 0, alpha, beta});
  }
  int un(U op, int a) { return push({PointwiseOpcode::kUNARY, static_cast<int32_t>(op), a, 0, 0, 0}); }
  int bin(E op, int a, int b) { return push({PointwiseOpcode::kBINARY, static_cast<int32_t>(op), a, b, 0, 0}); }
  int cst(float v) { return push({PointwiseOpcode::kCONSTANT, 0, 0, 0, v, 0}); }
  PointwiseParams done(int result) {
    p.result = result;
    return p;
  }
};

Dims broadcast_all(const std::vector<HostTensor>& in) {
  Dims o;
  for (auto& t : in) o.nb_dims = std::max(o.nb_dims, t.dims.nb_dims);
  for (int i = 0; i < o.nb_dims; ++i) o.d[i] = 1;
  for (auto& t : in)
    for (int j = 0; j < t.dims.nb_dims; ++j) {
      int i = o.nb_dims - t.dims.nb_dims + j;
      o.d[i] = std::max(o.d[i], t.dims.d[j]);
    }
  return o;
}

// Value of `t` at output element `k` of `out` under numpy broadcasting.
double at_broadcast(const HostTensor& t, const Dims& out, int64_t k) {
  int64_t off = 0, stride = 1;
  for (int i = out.nb_dims - 1; i >= 0; --i) {
    int64_t idx = k % out.d[i];
    k /= out.d[i];
    int j = t.dims.nb_dims - out.nb_dims + i;
    if (j < 0) continue;
    off += (t.dims.d[j] == 1 ? 0 : idx) * stride;
    stride *= t.dims.d[j];
  }
  return t.v[off];
}

// A harness case whose float64 reference applies `f` to the broadcast input values of each element.
void run_case(const std::string& name, const std::vector<Dims>& shapes, double lo, double hi, const PointwiseParams& p,
              std::function<double(const std::vector<double>&)> f) {
  for (DataType dt : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    OpCase c;
    c.variant = name;
    for (auto& s : shapes) c.inputs.push_back({dt, s});
    c.lo = lo, c.hi = hi;
    c.build = [p](Network& n, const std::vector<Tensor*>& in) {
      return std::vector<Tensor*>{add_pointwise(n, in, p)->output(0)};
    };
    c.reference = [f](const std::vector<HostTensor>& in) {
      HostTensor y;
      y.dtype = in[0].dtype;
      y.dims = broadcast_all(in);
      y.v.resize(y.numel());
      std::vector<double> vals(in.size());
      for (int64_t k = 0; k < y.numel(); ++k) {
        for (size_t i = 0; i < in.size(); ++i) vals[i] = at_broadcast(in[i], y.dims, k);
        y.v[k] = f(vals);
      }
      return std::vector<HostTensor>{y};
    };
    check_op(LayerKind::kPointwise, c);
  }
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

TEST(Pointwise, MultiplyAddReluWithBroadcasting) {
  ProgramWriter w(3);
  int m = w.bin(E::kPROD, 0, 1);
  int s = w.bin(E::kSUM, m, 2);
  auto p = w.done(w.act(A::kRELU, s));
  run_case("relu_x_mul_y_add_z", {Dims{2, 3, 4}, Dims{3, 1}, Dims{4}}, -2, 2, p,
           [](const std::vector<double>& v) { return std::max(0.0, v[0] * v[1] + v[2]); });
}

TEST(Pointwise, ActivationsWithConstants) {
  ProgramWriter w(1);
  int sg = w.act(A::kSIGMOID, 0);
  int silu = w.bin(E::kPROD, 0, sg);
  int half = w.cst(0.5f);
  int d = w.bin(E::kSUB, silu, half);
  auto p = w.done(w.act(A::kLEAKY_RELU, d, 0.2f));
  run_case("leaky_silu_minus_half", {Dims{2, 3, 5}}, -4, 4, p, [](const std::vector<double>& v) {
    double y = v[0] * sigmoid(v[0]) - 0.5;
    return y >= 0 ? y : 0.2 * y;
  });
}

TEST(Pointwise, ParameterisedActivations) {
  ProgramWriter w(1);
  int clip = w.act(A::kCLIP, 0, -0.5f, 0.75f);
  int sp = w.act(A::kSOFTPLUS, 0, 2.f, 3.f);
  int gt = w.act(A::kGELU_TANH, 0);
  int hs = w.act(A::kHARD_SIGMOID, 0, 0.2f, 0.5f);
  int s1 = w.bin(E::kSUM, clip, sp);
  int s2 = w.bin(E::kSUM, s1, gt);
  int s3 = w.bin(E::kSUM, s2, hs);
  auto p = w.done(w.act(A::kSCALED_TANH, s3, 1.5f, 0.5f));
  run_case("clip_softplus_gelu_tanh_hardsigmoid", {Dims{4, 7}}, -4, 4, p, [](const std::vector<double>& v) {
    double x = v[0];
    double clip = std::min(std::max(x, -0.5), 0.75);
    double sp = 2 * x > 3 ? x : std::log(1 + std::exp(2 * x)) / 2;
    double gt = 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    double hs = std::min(std::max(0.2 * x + 0.5, 0.0), 1.0);
    return 1.5 * std::tanh(0.5 * (clip + sp + gt + hs));
  });
}

TEST(Pointwise, UnaryChainReusingRegisters) {
  ProgramWriter w(1);
  int r = w.un(U::kSQRT, 0);
  r = w.un(U::kRECIP, r);
  r = w.un(U::kERF, r);
  r = w.un(U::kNEG, r);
  r = w.un(U::kABS, r);
  r = w.un(U::kSIN, r);
  int two = w.cst(2.f);
  r = w.bin(E::kPOW, r, two);
  int lg = w.un(U::kLOG, 0);  // register 0 read again after many instructions
  r = w.bin(E::kSUM, r, lg);
  auto p = w.done(w.un(U::kEXP, r));
  run_case("sqrt_recip_erf_neg_abs_sin_pow_log_exp", {Dims{3, 8}}, 0.2, 3, p, [](const std::vector<double>& v) {
    double x = v[0];
    double s = std::sin(std::fabs(-std::erf(1 / std::sqrt(x))));
    return std::exp(s * s + std::log(x));
  });
}

TEST(Pointwise, BinaryArithmetic) {
  ProgramWriter w(2);
  int mx = w.bin(E::kMAX, 0, 1);
  int mn = w.bin(E::kMIN, 0, 1);
  int q = w.bin(E::kDIV, mx, mn);
  auto p = w.done(w.bin(E::kSUB, q, 0));
  run_case("max_div_min_sub", {Dims{2, 4, 3}, Dims{2, 1, 3}}, 0.5, 2, p,
           [](const std::vector<double>& v) { return std::max(v[0], v[1]) / std::min(v[0], v[1]) - v[0]; });
}

TEST(Pointwise, EightInputsIncludingRankZero) {
  ProgramWriter w(8);
  int r = w.bin(E::kSUM, 0, 1);
  for (int k = 2; k < 8; ++k) r = w.bin(k % 2 ? E::kPROD : E::kSUM, r, k);
  auto p = w.done(r);
  run_case("eight_inputs", {Dims{2, 3, 4}, Dims{4}, Dims{3, 1}, Dims{}, Dims{1, 1, 4}, Dims{2, 1, 1}, Dims{3, 4},
                            Dims{2, 3, 4}},
           -1.5, 1.5, p, [](const std::vector<double>& v) {
             double r = v[0] + v[1];
             for (int k = 2; k < 8; ++k) r = k % 2 ? r * v[k] : r + v[k];
             return r;
           });
}

TEST(Pointwise, ResultMayBeAnInputRegister) {
  ProgramWriter w(1);
  w.cst(3.f);
  auto p = w.done(0);
  run_case("copy_of_input", {Dims{5}}, -1, 1, p, [](const std::vector<double>& v) { return v[0]; });
}

// --- Every operation a program accepts gives what its own layer gives, on every backend built. ---

std::vector<Backend*> all_backends() {
  std::vector<Backend*> r = {&cpu_backend()};
  std::string why;
  if (Backend* b = cuda_backend(0, &why)) r.push_back(b);
  return r;
}

// Builds `net` without passes for `be`, runs it on `x` (one input per name in0, in1) and returns "out".
std::vector<float> run_net(Backend& be, const Network& net, const std::vector<std::vector<float>>& x) {
  BuilderConfig cfg;
  cfg.optimization_level = 0;
  cfg.device = be.device() == DeviceKind::kCUDA ? DeviceType::kGPU : DeviceType::kCPU;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<void*> bufs;
  for (size_t i = 0; i < x.size(); ++i) {
    void* d = be.allocate(x[i].size() * 4);
    be.upload(d, x[i].data(), x[i].size() * 4);
    ctx->set_tensor_address("in" + std::to_string(i), d);
    bufs.push_back(d);
  }
  std::vector<float> out(e->io_dims("out").volume());
  void* o = be.allocate(out.size() * 4);
  ctx->set_tensor_address("out", o);
  ctx->enqueue(nullptr);
  be.synchronize(nullptr);
  be.download(out.data(), o, out.size() * 4);
  for (void* d : bufs) be.release(d);
  be.release(o);
  return out;
}

void expect_same_as_layer(const std::string& what, const std::function<Tensor*(Network&, std::vector<Tensor*>&)>& layer,
                          const PointwiseParams& p, int n_in) {
  const Dims shape{3, 17};
  std::vector<std::vector<float>> x;
  for (int i = 0; i < n_in; ++i) {
    auto v = random_values(shape.volume(), DataType::kFLOAT, -3, 3);
    x.emplace_back(v.begin(), v.end());
  }
  auto make = [&](bool fused) {
    auto net = std::make_unique<Network>();
    std::vector<Tensor*> in;
    for (int i = 0; i < n_in; ++i) in.push_back(net->add_input("in" + std::to_string(i), DataType::kFLOAT, shape));
    Tensor* y = fused ? add_pointwise(*net, in, p)->output(0) : layer(*net, in);
    y->set_name("out");
    net->mark_output(y);
    return net;
  };
  auto single = make(false), fused = make(true);
  for (Backend* be : all_backends()) {
    SCOPED_TRACE(what + " on " + be->name());
    auto want = run_net(*be, *single, x), got = run_net(*be, *fused, x);
    int64_t bad = 0, first = -1;
    for (size_t k = 0; k < want.size(); ++k) {
      bool same = (std::isnan(want[k]) && std::isnan(got[k])) || want[k] == got[k] ||
                  std::fabs(want[k] - got[k]) <= 1e-6 * std::max(1.f, std::fabs(want[k]));
      if (!same && first < 0) first = static_cast<int64_t>(k);
      bad += !same;
    }
    EXPECT_EQ(bad, 0) << "first mismatch at " << first << ": pointwise " << (first >= 0 ? got[first] : 0)
                      << ", layer " << (first >= 0 ? want[first] : 0);
  }
}

TEST(Pointwise, EveryActivationMatchesItsLayer) {
  for (int t = 0; t < kNumActivationTypes; ++t) {
    auto type = static_cast<A>(t);
    Network probe;
    ActivationParams params = add_activation(probe, probe.add_input("x", DataType::kFLOAT, Dims{1}), type)->p;
    ProgramWriter w(1);
    auto p = w.done(w.act(type, 0, params.alpha, params.beta));
    expect_same_as_layer(activation_type_name(type),
                         [type](Network& n, std::vector<Tensor*>& in) { return add_activation(n, in[0], type)->output(0); },
                         p, 1);
  }
}

TEST(Pointwise, EveryFloatUnaryMatchesItsLayer) {
  for (int o = 0; o < kNumUnaryOperations; ++o) {
    auto op = static_cast<U>(o);
    if (unary_outputs_bool(op)) continue;
    ProgramWriter w(1);
    auto p = w.done(w.un(op, 0));
    expect_same_as_layer(unary_op_name(op),
                         [op](Network& n, std::vector<Tensor*>& in) { return add_unary(n, in[0], op)->output(0); }, p, 1);
  }
}

TEST(Pointwise, EveryArithmeticBinaryMatchesItsLayer) {
  for (int o = 0; o < kNumElementWiseOperations; ++o) {
    auto op = static_cast<E>(o);
    if (elementwise_is_comparison(op) || elementwise_is_logical(op)) continue;
    ProgramWriter w(2);
    auto p = w.done(w.bin(op, 0, 1));
    expect_same_as_layer(
        elementwise_op_name(op),
        [op](Network& n, std::vector<Tensor*>& in) { return add_elementwise(n, in[0], in[1], op)->output(0); }, p, 2);
  }
}

// --- Validation: every malformed program is refused with the argument named. ---

void expect_invalid(const std::vector<DataType>& dtypes, const std::vector<Dims>& shapes, const PointwiseParams& p,
                    const std::string& needle) {
  Network n;
  std::vector<Tensor*> in;
  for (size_t i = 0; i < shapes.size(); ++i) in.push_back(n.add_input("x" + std::to_string(i), dtypes[i], shapes[i]));
  try {
    add_pointwise(n, in, p);
    ADD_FAILURE() << "accepted a program that should fail with '" << needle << "'";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  EXPECT_EQ(n.num_layers(), 0);
}

PointwiseParams relu_of(int reg) {
  ProgramWriter w(1);
  return w.done(w.act(A::kRELU, reg));
}

TEST(Pointwise, RejectsBadInputs) {
  const DataType F = DataType::kFLOAT;
  expect_invalid({}, {}, relu_of(0), "expects 1 to 8 inputs");
  std::vector<Dims> nine(9, Dims{2});
  expect_invalid(std::vector<DataType>(9, F), nine, relu_of(0), "expects 1 to 8 inputs, got 9");
  expect_invalid({DataType::kINT32}, {Dims{2}}, relu_of(0), "needs a float tensor, got int32");
  ProgramWriter w(2);
  auto sum = w.done(w.bin(E::kSUM, 0, 1));
  expect_invalid({F, DataType::kHALF}, {Dims{2}, Dims{2}}, sum, "input1: dtype float16 differs");
  expect_invalid({F, F}, {Dims{2, 3}, Dims{4, 3}}, sum, "do not broadcast");
}

TEST(Pointwise, RejectsBadPrograms) {
  const std::vector<DataType> f1 = {DataType::kFLOAT};
  const std::vector<Dims> s1 = {Dims{4}};
  expect_invalid(f1, s1, PointwiseParams{}, "program: needs 1 to 48 instructions, got 0");
  {
    ProgramWriter w(1);
    int r = 0;
    for (int i = 0; i < kMaxPointwiseInstructions + 1; ++i) r = w.act(A::kRELU, r);
    expect_invalid(f1, s1, w.done(r), "got 49");
  }
  expect_invalid(f1, s1, relu_of(1), "operand a = 1 must name an input");  // reads its own register
  expect_invalid(f1, s1, relu_of(-1), "operand a = -1");
  {
    PointwiseParams p = relu_of(0);
    p.program[0].code = static_cast<PointwiseOpcode>(7);
    expect_invalid(f1, s1, p, "unknown opcode 7");
  }
  {
    PointwiseParams p = relu_of(0);
    p.program[0].op = kNumActivationTypes;
    expect_invalid(f1, s1, p, "unknown activation type");
  }
  {
    ProgramWriter w(1);
    expect_invalid(f1, s1, w.done(w.act(A::kSOFTPLUS, 0, 0.f, 20.f)), "SOFTPLUS needs a non-zero alpha");
  }
  {
    ProgramWriter w(1);
    expect_invalid(f1, s1, w.done(w.un(U::kISNAN, 0)), "unary ISNAN gives a bool");
  }
  {
    ProgramWriter w(1);
    expect_invalid(f1, s1, w.done(w.un(static_cast<U>(99), 0)), "unknown unary operation 99");
  }
  {
    ProgramWriter w(1);
    expect_invalid(f1, s1, w.done(w.bin(E::kGREATER, 0, 0)), "elementwise GREATER is a comparison");
  }
  {
    ProgramWriter w(1);
    expect_invalid(f1, s1, w.done(w.bin(E::kAND, 0, 0)), "elementwise AND is a comparison or logical");
  }
  {
    ProgramWriter w(1);
    expect_invalid(f1, s1, w.done(w.bin(E::kSUM, 0, 2)), "operand b = 2");
  }
  {
    PointwiseParams p = relu_of(0);
    p.program[0].b = 1;
    expect_invalid(f1, s1, p, "b is unused by this opcode and must be 0");
  }
  {
    ProgramWriter w(1);
    int c = w.cst(1.f);
    w.p.program.back().beta = 2.f;
    expect_invalid(f1, s1, w.done(c), "beta is unused");
  }
  {
    ProgramWriter w(1);
    int u = w.un(U::kEXP, 0);
    w.p.program.back().alpha = 1.f;
    expect_invalid(f1, s1, w.done(u), "alpha is unused");
  }
  {
    PointwiseParams p = relu_of(0);
    p.result = 2;
    expect_invalid(f1, s1, p, "result: register 2 does not exist");
  }
}

TEST(Pointwise, EngineFileRefusesAnOversizedProgram) {
  Writer w;
  w.put(static_cast<uint64_t>(1) << 40);
  Reader r(w.buf.data(), w.buf.size());
  PointwiseLayer l;
  EXPECT_THROW(l.load(r), EngineFormatError);
}

TEST(Pointwise, EngineFileRefusesAnInvalidProgram) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{4});
  auto* l = add_pointwise(net, {x}, relu_of(0));
  l->output(0)->set_name("y");
  net.mark_output(l->output(0));
  l->p.program[0].a = 5;  // as a corrupt file would hold it; no re-validation on purpose
  Writer w;
  net.save(w);
  Reader r(w.buf.data(), w.buf.size(), &w.blobs);
  try {
    Network::load(r);
    ADD_FAILURE() << "loaded a program reading a register that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("operand a = 5"), std::string::npos) << e.what();
  }
}

TEST(Pointwise, ProgramText) {
  ProgramWriter w(2);
  int s = w.bin(E::kSUM, 0, 1);
  int c = w.cst(0.5f);
  int m = w.bin(E::kPROD, s, c);
  auto p = w.done(w.act(A::kRELU, m));
  EXPECT_EQ(pointwise_program_text(p, 2),
            "r2 = SUM(r0, r1)\nr3 = 0.500000\nr4 = PROD(r2, r3)\nr5 = RELU(r4, alpha=0.000000, beta=0.000000)\nout = r5");
}

}  // namespace
}  // namespace t2t_test
