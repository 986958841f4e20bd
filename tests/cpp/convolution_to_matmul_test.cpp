// The convolution_to_matmul pass: a patchify convolution (kernel == stride, no padding, dilation 1, one
// group) becomes patch shuffles + a MatrixMultiply + a shuffle back to channels-first; what must stay a
// convolution stays one. Each case checks the rewritten graph and that the outputs did not change: the
// rewritten network against the original (run without passes), and the builder at level 3 against level 0,
// on every backend built.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backends/backend.h"
#include "harness.h"
#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {
int convolution_to_matmul(Network& net, const BuilderConfig& config);
}

namespace t2t_test {
namespace {

std::vector<float> random_floats(int64_t n, int seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// A convolution with stride == kernel over x (N, C, *spatial), Cout output channels.
struct PatchConv {
  Dims x;                 // input dims
  int64_t cout = 5;
  Dims kernel;            // spatial kernel (= stride unless `stride` is set)
  Dims stride;            // empty: equal to kernel
  Dims padding;           // empty: none
  Dims dilation;          // empty: 1
  int64_t groups = 1;
  bool bias = true;
  int seed = 1;
};

ConvolutionLayer* add_patch_conv(Network& net, Tensor* x, const PatchConv& c) {
  int64_t window = 1;
  for (int i = 0; i < c.kernel.nb_dims; ++i) window *= c.kernel.d[i];
  const int64_t cin = x->dims().d[1];
  Weights w = Weights::f32(random_floats(c.cout * cin / c.groups * window, c.seed));
  Weights b = c.bias ? Weights::f32(random_floats(c.cout, c.seed + 1)) : Weights();
  auto* conv = add_convolution_nd(net, x, c.cout, c.kernel, w, b);
  conv->set_name("patch_embed");
  conv->p.stride = c.stride.nb_dims ? c.stride : c.kernel;
  if (c.padding.nb_dims) conv->p.pre_padding = conv->p.post_padding = c.padding;
  if (c.dilation.nb_dims) conv->p.dilation = c.dilation;
  conv->p.num_groups = c.groups;
  conv->changed([] {});
  return conv;
}

std::unique_ptr<Network> conv_net(const PatchConv& c) {
  auto net = std::make_unique<Network>();
  Tensor* x = net->add_input("x", DataType::kFLOAT, c.x);
  Tensor* y = add_patch_conv(*net, x, c)->output(0);
  y->set_name("y");
  net->mark_output(y);
  return net;
}

int count(const Network& net, LayerKind k) {
  int n = 0;
  for (int i = 0; i < net.num_layers(); ++i) n += net.layer(i)->kind() == k;
  return n;
}

const MatrixMultiplyLayer* the_matmul(const Network& net) {
  for (int i = 0; i < net.num_layers(); ++i)
    if (net.layer(i)->kind() == LayerKind::kMatrixMultiply) return static_cast<MatrixMultiplyLayer*>(net.layer(i));
  return nullptr;
}

// Shuffles that move data (a transpose that reorders elements); reshapes are free.
int moving_shuffles(const Network& net) {
  int n = 0;
  for (int i = 0; i < net.num_layers(); ++i) {
    const Layer* l = net.layer(i);
    if (l->kind() != LayerKind::kShuffle) continue;
    const auto* s = static_cast<const ShuffleLayer*>(l);
    const Dims& in = l->input(0)->dims();
    const Dims& out = l->output(0)->dims();
    auto first = expand_permutation(*s, s->p.first_transpose, in.nb_dims, "first_transpose");
    auto second = expand_permutation(*s, s->p.second_transpose, out.nb_dims, "second_transpose");
    Dims b = out;
    for (int k = 0; k < out.nb_dims; ++k) b.d[second[k]] = out.d[k];
    n += !permutation_keeps_order(in, first) || !permutation_keeps_order(b, second);
  }
  return n;
}

// Output "y" of `net` built at `level` on `be`, input "x" = `x`.
std::vector<float> run(Backend* be, const Network& net, const std::vector<float>& x, int level) {
  BuilderConfig cfg;
  cfg.device = be->device() == DeviceKind::kCUDA ? DeviceType::kGPU : DeviceType::kCPU;
  cfg.optimization_level = level;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  const size_t ny = static_cast<size_t>(e->io_dims("y").volume());
  void* xd = be->allocate(x.size() * 4);
  void* yd = be->allocate(ny * 4);
  be->upload(xd, x.data(), x.size() * 4);
  ctx->set_tensor_address("x", xd);
  ctx->set_tensor_address("y", yd);
  ctx->enqueue(nullptr);
  be->synchronize(nullptr);
  std::vector<float> y(ny);
  be->download(y.data(), yd, ny * 4);
  be->release(xd);
  be->release(yd);
  return y;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5 * (1 + std::fabs(want[i]))) << "element " << i;
}

// The original network without passes is the reference: the rewritten copy (run as it is) and the
// builder's level 3 must give the same outputs on every backend.
void expect_same_outputs(const Network& original, const Network& rewritten) {
  const std::vector<float> x = random_floats(original.input(0)->dims().volume(), 42);
  for (Backend* be : available_backends()) {
    SCOPED_TRACE(be->name());
    const std::vector<float> want = run(be, original, x, 0);
    expect_close(run(be, rewritten, x, 0), want);
    expect_close(run(be, original, x, 3), want);
  }
}

// Rewrites a copy of `net`: checks the pass made one rewrite into one MatrixMultiply and no convolution
// remains, then that the outputs match. Returns the rewritten copy.
std::unique_ptr<Network> expect_rewritten(const Network& net) {
  auto copy = net.clone();
  EXPECT_EQ(convolution_to_matmul(*copy, BuilderConfig()), 1);
  copy->validate();
  EXPECT_EQ(count(*copy, LayerKind::kConvolution), 0);
  EXPECT_EQ(count(*copy, LayerKind::kMatrixMultiply), 1);
  EXPECT_EQ(count(*copy, LayerKind::kConstant), 1);  // the kernel as B, in its own layout
  EXPECT_EQ(moving_shuffles(*copy), 2);              // the patch transpose and the one back to channels-first
  EXPECT_EQ(copy->output(0)->name(), "y");
  EXPECT_EQ(copy->output(0)->dims(), net.output(0)->dims());
  expect_same_outputs(net, *copy);
  return copy;
}

TEST(ConvolutionToMatmul, Square2x2WithBias) {
  PatchConv c;
  c.x = Dims{1, 3, 8, 8};
  c.kernel = Dims{2, 2};
  auto net = conv_net(c);
  auto copy = expect_rewritten(*net);
  const MatrixMultiplyLayer* mm = the_matmul(*copy);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->input(0)->dims(), (Dims{1, 16, 12}));  // 4x4 patches of 3*2*2 values
  EXPECT_EQ(mm->input(1)->dims(), (Dims{1, 5, 12}));
  EXPECT_EQ(mm->p.op1, MatrixOperation::kTRANSPOSE);
  EXPECT_EQ(mm->p.bias.count, 5);
  EXPECT_FALSE(mm->p.has_activation);
  EXPECT_EQ(count(*copy, LayerKind::kSlice), 0);
}

TEST(ConvolutionToMatmul, NonSquareKernelBatchAndNoBias) {
  PatchConv c;
  c.x = Dims{3, 2, 8, 12};
  c.kernel = Dims{2, 4};
  c.cout = 7;
  c.bias = false;
  auto copy = expect_rewritten(*conv_net(c));
  const MatrixMultiplyLayer* mm = the_matmul(*copy);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->input(0)->dims(), (Dims{3, 12, 16}));
  EXPECT_TRUE(mm->p.bias.empty());
}

// Extents the kernel does not divide: PyTorch drops the rest, the rewrite slices it off first.
TEST(ConvolutionToMatmul, RemainderIsSlicedOff) {
  PatchConv c;
  c.x = Dims{2, 3, 9, 11};
  c.kernel = Dims{2, 4};
  auto copy = expect_rewritten(*conv_net(c));
  EXPECT_EQ(count(*copy, LayerKind::kSlice), 1);
  EXPECT_EQ(copy->output(0)->dims(), (Dims{2, 5, 4, 2}));
}

TEST(ConvolutionToMatmul, OneAndThreeSpatialDims) {
  PatchConv c1;
  c1.x = Dims{2, 3, 12};
  c1.kernel = Dims{4};
  expect_rewritten(*conv_net(c1));
  PatchConv c3;
  c3.x = Dims{2, 2, 4, 6, 4};
  c3.kernel = Dims{2, 3, 2};
  expect_rewritten(*conv_net(c3));
}

// A kernel stored in float16 beside a float32 input: B is the same values in float32.
TEST(ConvolutionToMatmul, HalfKernelOnFloatInput) {
  PatchConv c;
  c.x = Dims{2, 3, 8, 8};
  c.kernel = Dims{4, 4};
  auto net = conv_net(c);
  auto* conv = static_cast<ConvolutionLayer*>(net->layer(0));
  std::vector<float> w = conv->p.kernel.to_float();
  std::vector<uint16_t> h(w.size());
  for (size_t i = 0; i < w.size(); ++i) h[i] = float_to_half(w[i]);
  conv->p.kernel = Weights(DataType::kHALF, h.data(), static_cast<int64_t>(h.size()));
  conv->changed([] {});
  auto copy = expect_rewritten(*net);
  const MatrixMultiplyLayer* mm = the_matmul(*copy);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->input(1)->dtype(), DataType::kFLOAT);
}

// The bias and activation fuse_convolution_epilogue put on the convolution move to the matmul's epilogue.
TEST(ConvolutionToMatmul, FusedActivationMovesToTheMatmul) {
  PatchConv c;
  c.x = Dims{2, 3, 8, 8};
  c.kernel = Dims{2, 2};
  auto net = conv_net(c);
  auto* conv = static_cast<ConvolutionLayer*>(net->layer(0));
  conv->p.has_activation = true;
  conv->p.activation.type = ActivationType::kLEAKY_RELU;
  conv->p.activation.alpha = 0.1f;
  conv->changed([] {});
  auto copy = expect_rewritten(*net);
  const MatrixMultiplyLayer* mm = the_matmul(*copy);
  ASSERT_NE(mm, nullptr);
  EXPECT_TRUE(mm->p.has_activation);
  EXPECT_EQ(mm->p.activation.type, ActivationType::kLEAKY_RELU);
  EXPECT_FLOAT_EQ(mm->p.activation.alpha, 0.1f);
  EXPECT_EQ(mm->p.bias.count, 5);
}

// Through the whole builder: conv -> + bias constant -> ReLU fuses into the convolution, which becomes the
// matmul with that epilogue.
TEST(ConvolutionToMatmul, ThroughTheBuilderWithEpilogue) {
  PatchConv c;
  c.x = Dims{2, 3, 8, 8};
  c.kernel = Dims{2, 2};
  c.bias = false;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, c.x);
  Tensor* t = add_patch_conv(net, x, c)->output(0);
  Tensor* k = add_constant(net, Dims{1, 5, 1, 1}, Weights::f32(random_floats(5, 9)))->output(0);
  t = add_elementwise(net, t, k, ElementWiseOperation::kSUM)->output(0);
  t = add_activation(net, t, ActivationType::kRELU)->output(0);
  t->set_name("y");
  net.mark_output(t);
  auto copy = net.clone();
  run_passes(*copy, BuilderConfig());
  EXPECT_EQ(count(*copy, LayerKind::kConvolution), 0);
  EXPECT_EQ(count(*copy, LayerKind::kElementWise), 0);
  EXPECT_EQ(count(*copy, LayerKind::kActivation), 0);
  const MatrixMultiplyLayer* mm = the_matmul(*copy);
  ASSERT_NE(mm, nullptr);
  EXPECT_TRUE(mm->p.has_activation);
  EXPECT_EQ(mm->p.activation.type, ActivationType::kRELU);
  EXPECT_EQ(mm->p.bias.count, 5);
  expect_same_outputs(net, *copy);
}

// ViT's patch embedding: conv -> flatten(2) -> transpose(1, 2). After the builder's passes the transpose
// back to channels-first and the flatten + transpose cancel (merge_shuffles): only the patch transpose moves
// data, and the matmul's (N, P, Cout) output is the network output's memory.
TEST(ConvolutionToMatmul, VitPatchEmbeddingKeepsOneCopy) {
  PatchConv c;
  c.x = Dims{2, 3, 16, 16};
  c.kernel = Dims{4, 4};
  c.cout = 32;
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, c.x);
  Tensor* t = add_patch_conv(net, x, c)->output(0);
  auto* flatten = add_shuffle(net, t);
  flatten->set_reshape_dims(Dims{2, 32, 16});
  auto* transpose = add_shuffle(net, flatten->output(0));
  transpose->p.first_transpose = {0, 2, 1};
  transpose->changed([] {});
  transpose->output(0)->set_name("y");
  net.mark_output(transpose->output(0));
  EXPECT_EQ(moving_shuffles(net), 1);

  auto copy = net.clone();
  run_passes(*copy, BuilderConfig());
  copy->validate();
  EXPECT_EQ(count(*copy, LayerKind::kConvolution), 0);
  EXPECT_EQ(count(*copy, LayerKind::kMatrixMultiply), 1);
  EXPECT_EQ(moving_shuffles(*copy), 1);
  const Layer* last = copy->output(0)->producer();
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->kind(), LayerKind::kMatrixMultiply) << last->name();
  EXPECT_EQ(copy->output(0)->name(), "y");
  expect_same_outputs(net, *copy);
}

TEST(ConvolutionToMatmul, LeavesOtherConvolutionsAlone) {
  struct Case {
    const char* what;
    PatchConv c;
  };
  std::vector<Case> cases;
  auto base = [] {
    PatchConv c;
    c.x = Dims{2, 4, 8, 8};
    c.kernel = Dims{2, 2};
    return c;
  };
  {
    PatchConv c = base();
    c.padding = Dims{1, 1};
    cases.push_back({"padding", c});
  }
  {
    PatchConv c = base();
    c.kernel = Dims{3, 3};
    c.stride = Dims{2, 2};
    cases.push_back({"kernel 3 stride 2 (overlapping windows)", c});
  }
  {
    PatchConv c = base();
    c.stride = Dims{1, 1};
    cases.push_back({"kernel 2 stride 1", c});
  }
  {
    PatchConv c = base();
    c.dilation = Dims{2, 2};
    cases.push_back({"dilation 2", c});
  }
  {
    PatchConv c = base();
    c.groups = 2;
    c.cout = 6;
    cases.push_back({"two groups", c});
  }
  {
    PatchConv c = base();
    c.kernel = Dims{1, 1};
    cases.push_back({"1x1 kernel", c});
  }
  {
    PatchConv c = base();
    c.x = Dims{2, 8, 8, 8};
    cases.push_back({"8 input channels (cuDNN's tensor cores apply)", c});
  }
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    auto net = conv_net(k.c);
    EXPECT_EQ(convolution_to_matmul(*net, BuilderConfig()), 0);
    EXPECT_EQ(count(*net, LayerKind::kConvolution), 1);
    EXPECT_EQ(count(*net, LayerKind::kMatrixMultiply), 0);
  }
}

TEST(ConvolutionToMatmul, LeavesResidualDynamicAndChannelsLastAlone) {
  PatchConv c;
  c.x = Dims{2, 3, 8, 8};
  c.kernel = Dims{2, 2};
  {  // a fused residual input
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, c.x);
    Tensor* z = net.add_input("z", DataType::kFLOAT, Dims{2, 5, 4, 4});
    auto* conv = add_patch_conv(net, x, c);
    conv->set_input(1, z);
    conv->output(0)->set_name("y");
    net.mark_output(conv->output(0));
    EXPECT_EQ(convolution_to_matmul(net, BuilderConfig()), 0);
    EXPECT_EQ(count(net, LayerKind::kConvolution), 1);
  }
  {  // a batch known only at run time
    PatchConv d = c;
    d.x = Dims{-1, 3, 8, 8};
    auto net = conv_net(d);
    EXPECT_EQ(convolution_to_matmul(*net, BuilderConfig()), 0);
    EXPECT_EQ(count(*net, LayerKind::kConvolution), 1);
  }
  {  // already channels-last (as the GPU layout pass leaves it: reading an NHWC transpose of x)
    auto net = conv_net(c);
    auto* conv = static_cast<ConvolutionLayer*>(net->layer(0));
    auto* nhwc = add_shuffle(*net, net->input(0));
    nhwc->p.first_transpose = {0, 2, 3, 1};
    nhwc->changed([] {});
    conv->p.channels_last = true;
    net->rewire_input(conv, 0, nhwc->output(0));
    net->topo_sort();
    net->reinfer();
    ASSERT_EQ(net->output(0)->dims(), (Dims{2, 4, 4, 5}));
    EXPECT_EQ(convolution_to_matmul(*net, BuilderConfig()), 0);
    EXPECT_EQ(count(*net, LayerKind::kConvolution), 1);
  }
}

// A convolution output read by two layers: both read the result.
TEST(ConvolutionToMatmul, SharedOutput) {
  PatchConv c;
  c.x = Dims{2, 3, 8, 8};
  c.kernel = Dims{2, 2};
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, c.x);
  Tensor* t = add_patch_conv(net, x, c)->output(0);
  Tensor* a = add_activation(net, t, ActivationType::kRELU)->output(0);
  Tensor* b = add_activation(net, t, ActivationType::kSIGMOID)->output(0);
  Tensor* y = add_elementwise(net, a, b, ElementWiseOperation::kSUM)->output(0);
  y->set_name("y");
  net.mark_output(y);
  auto copy = net.clone();
  EXPECT_EQ(convolution_to_matmul(*copy, BuilderConfig()), 1);
  copy->validate();
  EXPECT_EQ(count(*copy, LayerKind::kConvolution), 0);
  expect_same_outputs(net, *copy);
}

}  // namespace
}  // namespace t2t_test
