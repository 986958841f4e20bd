// The merge_shuffles pass: a chain of Shuffles that costs more copies than one Shuffle doing the same is
// replaced by that one Shuffle; the outputs stay bit-identical (data movement only). Random chains check the
// composition rule itself; the named cases check what is merged and what is left alone.
#include <gtest/gtest.h>

#include <random>

#include "passes/pass.h"
#include "torch2trt/builder.h"
#include "torch2trt/engine.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/runtime.h"

namespace torch2trt {
int merge_shuffles(Network& net, const BuilderConfig& config);

namespace {

// Output "y" for input "x" (values 0, 1, 2, ...: every element distinct), built without passes on the CPU.
std::vector<float> run(const Network& net) {
  BuilderConfig cfg;
  cfg.optimization_level = 0;
  auto e = Builder().build(net, cfg);
  auto ctx = e->create_execution_context();
  std::vector<float> x(static_cast<size_t>(net.input(0)->dims().volume()));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  std::vector<float> y(static_cast<size_t>(e->io_dims("y").volume()), -1.f);
  ctx->set_tensor_address("x", x.data());
  ctx->set_tensor_address("y", y.data());
  ctx->enqueue(nullptr);
  return y;
}

int count(const Network& n, LayerKind k) {
  int c = 0;
  for (int i = 0; i < n.num_layers(); ++i) c += n.layer(i)->kind() == k;
  return c;
}

// Copies the layer makes: each transpose that reorders elements (what the CPU kernel runs).
int copies(const ShuffleLayer* s) {
  const Dims& in = s->input(0)->dims();
  const Dims& out = s->output(0)->dims();
  auto first = expand_permutation(*s, s->p.first_transpose, in.nb_dims, "first_transpose");
  auto second = expand_permutation(*s, s->p.second_transpose, out.nb_dims, "second_transpose");
  Dims b = out;
  for (int k = 0; k < out.nb_dims; ++k) b.d[second[k]] = out.d[k];
  return !permutation_keeps_order(in, first) + !permutation_keeps_order(b, second);
}

int total_copies(const Network& net) {
  int n = 0;
  for (int i = 0; i < net.num_layers(); ++i)
    if (net.layer(i)->kind() == LayerKind::kShuffle) n += copies(static_cast<const ShuffleLayer*>(net.layer(i)));
  return n;
}

ShuffleLayer* shuffle(Network& net, Tensor* x, std::vector<int32_t> first, const Dims* reshape = nullptr,
                      std::vector<int32_t> second = {}) {
  auto* s = add_shuffle(net, x);
  s->p.first_transpose = std::move(first);
  s->p.second_transpose = std::move(second);
  if (reshape) {
    s->p.has_reshape = true;
    s->p.reshape_dims = *reshape;
  }
  s->changed([] {});
  return s;
}

Dims permuted(const Dims& d, const std::vector<int32_t>& perm) {
  Dims r = d;
  for (int i = 0; i < d.nb_dims; ++i) r.d[i] = d.d[perm[i]];
  return r;
}

void name_output(Network& net, Tensor* t) {
  t->set_name("y");
  net.mark_output(t);
}

// Merges a copy of `net`, checks the outputs are identical and the copy count went down as expected.
std::unique_ptr<Network> expect_merged(const Network& net, int merges, int copies_after) {
  auto copy = net.clone();
  EXPECT_EQ(merge_shuffles(*copy, BuilderConfig()), merges);
  copy->validate();
  EXPECT_EQ(total_copies(*copy), copies_after);
  EXPECT_EQ(copy->output(0)->name(), "y");
  EXPECT_EQ(run(*copy), run(net));
  return copy;
}

// convolution_to_matmul's output shuffle, then ViT's flatten(2).transpose(1, 2): two copies, net a reshape.
TEST(MergeShuffles, VitFlattenTransposeCancels) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 6, 4});  // (N, P, C), P = 2 x 3
  Dims grid{2, 2, 3, 4}, flat{2, 4, 6};
  Tensor* t = shuffle(net, x, {}, &grid, {0, 3, 1, 2})->output(0);  // (N, C, 2, 3)
  t = shuffle(net, t, {}, &flat)->output(0);                          // (N, C, 6)
  name_output(net, shuffle(net, t, {0, 2, 1})->output(0));            // (N, 6, C)
  EXPECT_EQ(total_copies(net), 2);
  auto copy = expect_merged(net, 1, 0);
  EXPECT_EQ(count(*copy, LayerKind::kShuffle), 1);
  // What is left is a reshape to the same dims, which remove_noop_layers drops.
  EXPECT_EQ(copy->output(0)->dims(), (Dims{2, 6, 4}));
}

TEST(MergeShuffles, TwoTransposesBecomeOne) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3, 4});
  Tensor* t = shuffle(net, x, {0, 2, 1})->output(0);
  name_output(net, shuffle(net, t, {1, 0, 2})->output(0));
  auto copy = expect_merged(net, 1, 1);
  EXPECT_EQ(count(*copy, LayerKind::kShuffle), 1);
}

// Merged as a reshape followed by a second transpose (each output axis contiguous in the input).
TEST(MergeShuffles, ReshapeThenSecondTranspose) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{6, 4});
  Dims r{2, 3, 4};
  Tensor* t = shuffle(net, x, {}, &r, {2, 0, 1})->output(0);  // (4, 2, 3)
  name_output(net, shuffle(net, t, {0, 2, 1})->output(0));    // (4, 3, 2)
  auto copy = expect_merged(net, 1, 1);
  ASSERT_EQ(count(*copy, LayerKind::kShuffle), 1);
}

// A view + heads swap costs one copy, as would its merged form: left for fuse_attention to find.
TEST(MergeShuffles, LeavesChainsThatWouldNotGetCheaper) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 5, 12});
  Dims heads{2, 5, 3, 4};
  Tensor* t = shuffle(net, x, {}, &heads)->output(0);
  name_output(net, shuffle(net, t, {0, 2, 1, 3})->output(0));
  EXPECT_EQ(merge_shuffles(net, BuilderConfig()), 0);
  EXPECT_EQ(count(net, LayerKind::kShuffle), 2);
}

TEST(MergeShuffles, LeavesSharedAndOutputIntermediatesAlone) {
  for (bool as_output : {false, true}) {
    SCOPED_TRACE(as_output ? "middle tensor is a network output" : "middle tensor has a second reader");
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, Dims{2, 3, 4});
    Tensor* t = shuffle(net, x, {0, 2, 1})->output(0);
    Tensor* y = shuffle(net, t, {0, 2, 1})->output(0);
    if (as_output) {
      t->set_name("t");
      net.mark_output(t);
    } else {
      Tensor* r = add_activation(net, t, ActivationType::kRELU)->output(0);
      y = add_elementwise(net, y, shuffle(net, r, {0, 2, 1})->output(0), ElementWiseOperation::kSUM)->output(0);
    }
    name_output(net, y);
    EXPECT_EQ(merge_shuffles(net, BuilderConfig()), 0);
    EXPECT_EQ(count(net, LayerKind::kShuffle), as_output ? 2 : 3);
  }
}

// Random chains of transposes and reshapes (unit axes included): every merge must give identical outputs and
// fewer copies; enough of them must merge for the check to mean something.
TEST(MergeShuffles, RandomChainsKeepTheirOutputs) {
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto random_perm = [&](int rank) {
    std::vector<int32_t> p(rank);
    for (int i = 0; i < rank; ++i) p[i] = i;
    if (pick(3) > 0) std::shuffle(p.begin(), p.end(), rng);
    return p;
  };
  // A random shape of `volume` elements: its prime factors dealt out to 1..4 axes (some left at 1).
  auto random_shape = [&](int64_t volume) {
    std::vector<int64_t> primes;
    for (int64_t p = 2; volume > 1; ++p)
      while (volume % p == 0) primes.push_back(p), volume /= p;
    Dims d;
    d.nb_dims = 1 + pick(4);
    for (int i = 0; i < d.nb_dims; ++i) d.d[i] = 1;
    for (int64_t p : primes) d.d[pick(d.nb_dims)] *= p;
    return d;
  };
  // Mostly what models do: merge two adjacent axes or split one into two factors; else a random shape.
  auto random_reshape = [&](const Dims& d) {
    if (pick(3) == 0) return random_shape(d.volume());
    std::vector<int64_t> v = d.vec();
    const int i = pick(d.nb_dims);
    if (pick(2) == 0 && d.nb_dims > 1) {
      const int j = i + 1 < d.nb_dims ? i : i - 1;
      v[j] *= v[j + 1];
      v.erase(v.begin() + j + 1);
    } else if (d.nb_dims < 4) {
      int64_t f = 1;
      for (int64_t k = 2; k <= v[i]; ++k)
        if (v[i] % k == 0 && pick(2) == 0) {
          f = k;
          break;
        }
      v[i] /= f;
      v.insert(v.begin() + i, f);
    }
    return Dims::from(v);
  };
  int merged_nets = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const int64_t volumes[] = {24, 36, 48, 60, 72};
    Network net;
    Tensor* t = net.add_input("x", DataType::kFLOAT, random_shape(volumes[pick(5)]));
    const int length = 2 + pick(3);
    for (int k = 0; k < length; ++k) {
      const int kind = pick(3);  // 0: transpose, 1: reshape, 2: transpose + reshape + transpose
      std::vector<int32_t> first = kind != 1 ? random_perm(t->dims().nb_dims) : std::vector<int32_t>{};
      if (kind == 0) {
        t = shuffle(net, t, first)->output(0);
        continue;
      }
      Dims r = random_reshape(kind == 2 ? permuted(t->dims(), first) : t->dims());
      std::vector<int32_t> second = kind == 2 ? random_perm(r.nb_dims) : std::vector<int32_t>{};
      t = shuffle(net, t, first, &r, second)->output(0);
    }
    name_output(net, t);
    const int before = total_copies(net);
    auto copy = net.clone();
    const int merges = merge_shuffles(*copy, BuilderConfig());
    copy->validate();
    ASSERT_EQ(copy->output(0)->dims(), net.output(0)->dims());
    ASSERT_EQ(run(*copy), run(net));
    if (merges) {
      EXPECT_LT(total_copies(*copy), before);
      ++merged_nets;
    } else {
      EXPECT_EQ(count(*copy, LayerKind::kShuffle), count(net, LayerKind::kShuffle));
    }
  }
  EXPECT_GE(merged_nets, 150);
}

}  // namespace
}  // namespace torch2trt
