// The layers: parameter layouts and names, default initialisation bounds, BatchNorm's running
// state, FrozenBatchNorm2d loading BN checkpoints, the norm choice, Sequential's names, and the
// split-attention conv against the same block written with unfused ops.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "nn/conv.h"
#include "nn/init.h"
#include "nn/norm.h"
#include "nn/sequential.h"
#include "nn/simple_layers.h"
#include "nn/split_attention.h"
#include "ops/copy.h"
#include "ops/norm.h"
#include "ops/pointwise.h"
#include "ops/pool.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <cmath>

using namespace splat;
using namespace splat::nn;
using splat::test::check_close;
using splat::test::to_vector;

namespace {

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : to_vector<double>(t)) m = std::max(m, std::fabs(v));
  return m;
}

} // namespace

TEST_CASE("conv and linear layers have PyTorch's layouts and default initialisation bounds") {
  Conv2d c(8, 6, {3, 1}, {.groups = 2});
  CHECK(c.weight.shape() == Shape{6, 4, 3, 1});
  CHECK(c.bias.shape() == Shape{6});
  CHECK(max_abs(c.weight) <= 1 / std::sqrt(12.0));
  CHECK(max_abs(c.weight) > 0.5 / std::sqrt(12.0));
  CHECK(max_abs(c.bias) <= 1 / std::sqrt(12.0));
  CHECK(c.forward(ops::randn({1, 8, 5, 5})).shape() == Shape{1, 6, 3, 5});
  ConvTranspose2d t(4, 6, 2, {.stride = 2});
  CHECK(t.weight.shape() == Shape{4, 6, 2, 2});
  CHECK(t.forward(ops::randn({1, 4, 3, 3})).shape() == Shape{1, 6, 6, 6});
  Linear l(12, 3, /*bias=*/false);
  CHECK(l.weight.shape() == Shape{3, 12});
  CHECK(!l.bias.defined());
  CHECK(l.named_parameters().size() == 1);
  CHECK_THROWS_WITH_AS(Conv2d(6, 4, 3, {.groups = 4}),
                       "Conv2d: 6 input and 4 output channels must be positive multiples of groups = 4", Error);
}

TEST_CASE("initialisers follow torch.nn.init") {
  Tensor w = ops::empty({200, 100, 3, 3});
  const init::Fans f = init::fans(w);
  CHECK(f.in == 900);
  CHECK(f.out == 1800);
  init::kaiming_normal_(w);  // fan_out, relu: std = sqrt(2 / 1800)
  const double var = ops::var(w).item<double>();
  CHECK(std::sqrt(var) == doctest::Approx(std::sqrt(2.0 / 1800)).epsilon(0.02));
  init::xavier_uniform_(w);
  CHECK(max_abs(w) <= std::sqrt(6.0 / 2700));
  init::constant_(w, 0.5);
  CHECK(ops::amax(w).item<float>() == 0.5f);
  CHECK_THROWS_WITH_AS(init::fans(ops::empty({3})), doctest::Contains("got shape [3]"), Error);
}

TEST_CASE("BatchNorm2d tracks batches and running statistics in training only") {
  BatchNorm2d bn(3);
  const Tensor x = ops::randn({4, 3, 5, 5});
  (void)bn.forward(x);
  CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
  check_close(bn.running_mean, ops::mul(ops::mean(x, {0, 2, 3}), 0.1), 1e-5, 1e-6);
  bn.eval();
  const Tensor before = ops::clone(bn.running_mean);
  const Tensor y = bn.forward(x);
  CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
  check_close(bn.running_mean, before, 0, 0);
  check_close(y, ops::batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, false), 0, 0);
}

TEST_CASE("norm_relu equals relu of the norm in training, in eval, with and without grad") {
  const Tensor x0 = ops::randn({2, 3, 4, 5}, {.dtype = DType::f64});
  for (const bool training : {true, false})
    for (const bool frozen : {false, true}) {
      CAPTURE(training);
      CAPTURE(frozen);
      LayerPtr a = frozen ? LayerPtr(std::make_shared<FrozenBatchNorm2d>(3))
                          : LayerPtr(std::make_shared<BatchNorm2d>(3));
      LayerPtr b = frozen ? LayerPtr(std::make_shared<FrozenBatchNorm2d>(3))
                          : LayerPtr(std::make_shared<BatchNorm2d>(3));
      for (const LayerPtr& l : {a, b}) {
        l->to(DType::f64);
        l->train(training);
      }
      const Tensor xa = ops::clone(x0).requires_grad_(), xb = ops::clone(x0).requires_grad_();
      const Tensor ya = norm_relu(*a, xa), yb = ops::relu(b->forward(xb));
      check_close(ya, yb);
      autograd::backward({ops::sum(ops::mul(ya, x0))});
      autograd::backward({ops::sum(ops::mul(yb, x0))});
      check_close(xa.grad(), xb.grad());
      autograd::NoGradGuard no_grad;  // the fused inference pass when the statistics are fixed
      check_close(norm_relu(*a, x0), ops::relu(b->forward(x0)));
    }
}

TEST_CASE("FrozenBatchNorm2d loads a BatchNorm2d state dict and never trains") {
  BatchNorm2d bn(4);
  (void)bn.forward(ops::randn({3, 4, 2, 2}));
  FrozenBatchNorm2d frozen(4);
  frozen.load_state_dict(bn.state_dict());  // strict: the same keys
  CHECK(frozen.parameters().empty());
  frozen.train();
  bn.eval();
  const Tensor x = ops::randn({2, 4, 3, 3});
  check_close(frozen.forward(x), bn.forward(x), 1e-6, 1e-7);
  CHECK(make_norm({.kind = NormKind::frozen}, 4)->type_name() == "FrozenBatchNorm2d");
  // Without a communicator SyncBN is BN of this process alone (no MPI needed).
  auto sync = std::dynamic_pointer_cast<BatchNorm2d>(make_norm({.kind = NormKind::sync_batch}, 4));
  REQUIRE(sync != nullptr);
  CHECK(!sync->synchronized());
}

TEST_CASE("Sequential names its layers 0, 1, ... and applies them in order") {
  Sequential s({std::make_shared<Conv2d>(2, 3, 1, ops::Conv2dOptions{}, false), std::make_shared<ReLU>(),
                std::make_shared<BatchNorm2d>(3)});
  std::vector<std::string> keys;
  for (const auto& [k, t] : s.state_dict()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"0.weight", "2.bias", "2.num_batches_tracked", "2.running_mean",
                                         "2.running_var", "2.weight"});
  s.eval();
  const Tensor x = ops::randn({1, 2, 4, 4});
  check_close(s.forward(x), s[2]->forward(ops::relu(s[0]->forward(x))), 0, 0);
}

TEST_CASE("SplitAttentionConv2d has the spec's shapes and equals the block written with unfused ops") {
  for (auto [radix, card] : {std::pair<int64_t, int64_t>{2, 1}, {4, 2}, {1, 1}}) {
    CAPTURE(radix);
    CAPTURE(card);
    const int64_t c = 16;
    SplitAttentionConv2d sa(c, c, {.radix = radix, .cardinality = card});
    CHECK(sa.conv->weight.shape() == Shape{c * radix, c / (card * radix), 3, 3});
    CHECK(sa.fc1->weight.shape() == Shape{32, c / card, 1, 1});
    CHECK(sa.fc2->weight.shape() == Shape{c * radix, 32 / card, 1, 1});
    const Tensor x = ops::randn({3, c, 5, 6});
    const Tensor got = sa.forward(x);

    // Unfused, in the spec's per-cardinal-group terms.
    autograd::NoGradGuard g;
    const Tensor splits = ops::relu(sa.bn0->forward(sa.conv->forward(x)));
    Tensor u = ops::narrow(splits, 1, 0, c);
    for (int64_t r = 1; r < radix; ++r) u = ops::add(u, ops::narrow(splits, 1, r * c, c));
    const Tensor s = ops::mean(u, {2, 3}, true);
    const Tensor z = sa.fc2->forward(ops::relu(sa.bn1->forward(sa.fc1->forward(s))));
    Tensor a;  // radix-major (N, R*C)
    if (radix == 1) {
      a = ops::sigmoid(ops::view(z, {3, c}));
    } else {
      const Tensor zk = ops::view(z, {3, card, radix, c / card});  // cardinality-major logits
      a = ops::reshape(ops::transpose(ops::softmax(zk, 2), 1, 2), {3, radix * c});
    }
    Tensor want = ops::zeros({3, c, 5, 6});
    for (int64_t r = 0; r < radix; ++r)
      want = ops::add(want, ops::mul(ops::narrow(splits, 1, r * c, c),
                                     ops::view(ops::narrow(a, 1, r * c, c), {3, c, 1, 1})));
    check_close(got, want, 1e-5, 1e-6);
  }
}
