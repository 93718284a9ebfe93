// Batch norm on the CPU: training and eval against the same computation written with
// differentiable reductions (forward and every gradient), running-stat updates, float64
// gradcheck (train/eval, affine on/off, 2-D and 4-D), the building blocks SyncBatchNorm composes
// (merging chunk statistics in order, empty chunks, a two-"rank" forward and backward built from
// the blocks), Welford's accuracy with a large mean, the fused BN + ReLU inference form, strided
// inputs and bad arguments.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "ops/join.h"
#include "ops/norm.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"

#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::noncontiguous;
using splat::test::to_vector;
using In = std::vector<Tensor>;

namespace {

// The dims batch norm reduces over (all but the channel) and the shape that broadcasts a (C,)
// tensor against x.
Dims norm_dims(const Tensor& x) {
  Dims d{0};
  for (int64_t i = 2; i < x.dim(); ++i) d.push_back(i);
  return d;
}
Tensor per_channel(const Tensor& t, const Tensor& x) {
  Shape s(x.dim(), 1);
  s[1] = x.size(1);
  return reshape(t, s);
}

// Batch norm written with differentiable reductions and pointwise ops: the oracle.
Tensor ref_batch_norm(const Tensor& x, const Tensor& mean_c, const Tensor& var_c, const Tensor& w,
                      const Tensor& b, double eps) {
  Tensor y = mul(sub(x, per_channel(mean_c, x)), rsqrt(add(per_channel(var_c, x), eps)));
  if (w.defined()) y = mul(y, per_channel(w, x));
  if (b.defined()) y = add(y, per_channel(b, x));
  return y;
}
Tensor ref_train(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  return ref_batch_norm(x, mean(x, norm_dims(x)), var(x, norm_dims(x), false), w, b, eps);
}

// Runs fn on fresh leaf copies of the inputs, back-propagates gy and returns the outputs followed
// by the input gradients.
std::vector<Tensor> forward_backward(const std::function<Tensor(const In&)>& fn, const In& given,
                                     const Tensor& gy) {
  In in;
  for (const Tensor& t : given) in.push_back(t.defined() ? clone(t).requires_grad_() : Tensor());
  const Tensor y = fn(in);
  autograd::backward({y}, {gy});
  std::vector<Tensor> out{y.detach()};
  for (const Tensor& t : in)
    if (t.defined()) out.push_back(t.grad());
  return out;
}

} // namespace

TEST_CASE("batch_norm training equals the composed computation, forward and gradients") {
  for (const Shape& shape : {Shape{4, 3, 5, 6}, Shape{6, 5}, Shape{2, 4, 7}}) {
    for (bool affine : {true, false}) {
      CAPTURE(shape_str(shape));
      CAPTURE(affine);
      const Tensor x = ops::randn(shape, {.dtype = DType::f64});
      const Tensor w = affine ? ops::randn({shape[1]}, {.dtype = DType::f64}) : Tensor();
      const Tensor b = affine ? ops::randn({shape[1]}, {.dtype = DType::f64}) : Tensor();
      const Tensor gy = ops::randn(shape, {.dtype = DType::f64});
      const auto got = forward_backward(
          [](const In& in) { return batch_norm(in[0], {}, {}, in[1], in[2], true, 0.1, 1e-5); },
          {x, w, b}, gy);
      const auto want = forward_backward(
          [](const In& in) { return ref_train(in[0], in[1], in[2], 1e-5); }, {x, w, b}, gy);
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        check_close(got[i], want[i], 1e-10, 1e-10);
      }
    }
  }
}

TEST_CASE("batch_norm eval uses the running statistics; frozen BN is eval mode") {
  const Tensor x = ops::randn({3, 4, 5, 5}, {.dtype = DType::f64});
  const Tensor rm = ops::randn({4}, {.dtype = DType::f64});
  const Tensor rv = add(ops::rand({4}, {.dtype = DType::f64}), 0.5);
  const Tensor w = ops::randn({4}, {.dtype = DType::f64}),
               b = ops::randn({4}, {.dtype = DType::f64});
  const Tensor gy = ops::randn(x.shape(), {.dtype = DType::f64});
  const auto got = forward_backward(
      [&](const In& in) { return batch_norm(in[0], rm, rv, in[1], in[2], false, 0.1, 1e-3); },
      {x, w, b}, gy);
  const auto want = forward_backward(
      [&](const In& in) { return ref_batch_norm(in[0], rm, rv, in[1], in[2], 1e-3); }, {x, w, b},
      gy);
  for (size_t i = 0; i < got.size(); ++i) check_close(got[i], want[i], 1e-10, 1e-10);
  // Eval leaves the running statistics alone.
  const Tensor rm_before = clone(rm);
  (void)batch_norm(x, rm, rv, w, b, false);
  check_close(rm, rm_before, 0, 0);
}

TEST_CASE("batch_norm training updates the running stats with momentum and unbiased variance") {
  const Tensor x = add(mul(ops::randn({5, 3, 4, 2}, {.dtype = DType::f64}), 2.0), 1.0);
  Tensor rm = ops::randn({3}, {.dtype = DType::f64});
  Tensor rv = add(ops::rand({3}, {.dtype = DType::f64}), 1.0);
  const Tensor rm0 = clone(rm), rv0 = clone(rv);
  const double momentum = 0.3;
  (void)batch_norm(x, rm, rv, {}, {}, true, momentum, 1e-5);
  check_close(rm, add(mul(rm0, 1 - momentum), mul(mean(x, {0, 2, 3}), momentum)), 1e-12, 1e-12);
  check_close(rv, add(mul(rv0, 1 - momentum), mul(var(x, {0, 2, 3}, true), momentum)), 1e-12,
              1e-12);
  // The output is normalised with the biased variance, whatever the running stats hold.
  check_close(batch_norm(x, rm, rv, {}, {}, true), ref_train(x, {}, {}, 1e-5), 1e-10, 1e-10);
}

TEST_CASE("batch_norm float64 gradcheck: train and eval, affine on and off, 2-D and 4-D") {
  for (const Shape& shape : {Shape{3, 2, 3, 2}, Shape{5, 3}}) {
    for (bool training : {true, false}) {
      for (bool affine : {true, false}) {
        CAPTURE(shape_str(shape));
        CAPTURE(training);
        CAPTURE(affine);
        const Tensor x = leaf(shape, -2, 2);
        const Tensor w = affine ? leaf({shape[1]}) : Tensor(),
                     b = affine ? leaf({shape[1]}) : Tensor();
        const Tensor rm = ops::randn({shape[1]}, {.dtype = DType::f64});
        const Tensor rv = add(ops::rand({shape[1]}, {.dtype = DType::f64}), 0.5);
        CHECK_GRADCHECK(
            [&](const In& in) {
              // Fresh running buffers each call, so training's update does not drift.
              return batch_norm(in[0], clone(rm), clone(rv), in[1], in[2], training, 0.1, 1e-5);
            },
            {x, w, b});
      }
    }
  }
}

TEST_CASE("batch_norm_stats: merging chunk statistics in order equals the whole batch") {
  const Tensor x = add(ops::randn({7, 3, 4, 5}, {.dtype = DType::f64}), 3.0);
  const BatchStats whole = batch_norm_stats(x);
  CHECK(to_vector<double>(whole.count) == std::vector<double>{140, 140, 140});
  check_close(whole.mean, mean(x, {0, 2, 3}), 1e-12, 1e-12);
  check_close(whole.m2, mul(var(x, {0, 2, 3}, false), 140.0), 1e-10, 1e-10);
  // Unequal chunks along the batch, one of them empty (an idle rank), stacked as all_gather
  // would return them.
  std::vector<Tensor> counts, means, m2s;
  for (auto [start, len] : {std::pair{0, 3}, {3, 0}, {3, 1}, {4, 3}}) {
    const BatchStats s = batch_norm_stats(narrow(x, 0, start, len));
    if (len == 0) {
      CHECK(to_vector<double>(s.count) == std::vector<double>{0, 0, 0});
      CHECK(to_vector<double>(s.m2) == std::vector<double>{0, 0, 0});
    }
    counts.push_back(s.count);
    means.push_back(s.mean);
    m2s.push_back(s.m2);
  }
  const BatchStats merged = batch_norm_merge_stats({stack(counts), stack(means), stack(m2s)});
  check_close(merged.count, whole.count, 0, 0);
  check_close(merged.mean, whole.mean, 1e-12, 1e-12);
  check_close(merged.m2, whole.m2, 1e-10, 1e-10);
  // One set merges to itself bit for bit (single-process SyncBN equals BN); all-empty sets give
  // zero count, mean and m2.
  const BatchStats one = batch_norm_merge_stats(
      {unsqueeze(whole.count, 0), unsqueeze(whole.mean, 0), unsqueeze(whole.m2, 0)});
  check_close(one.mean, whole.mean, 0, 0);
  check_close(one.m2, whole.m2, 0, 0);
  const Tensor z = zeros({2, 3}, {.dtype = DType::f64});
  const BatchStats none = batch_norm_merge_stats({z, ops::randn({2, 3}, {.dtype = DType::f64}), z});
  CHECK(to_vector<double>(none.mean) == std::vector<double>{0, 0, 0});
  CHECK(to_vector<double>(none.count) == std::vector<double>{0, 0, 0});
}

TEST_CASE("batch_norm_stats in float32 stays accurate when the mean dwarfs the spread") {
  // Values 1e4 + N(0, 1e-2): E[x^2] - E[x]^2 in float32 would lose every digit.
  const Tensor x64 = add(mul(ops::randn({16, 2, 8, 8}, {.dtype = DType::f64}), 1e-2), 1e4);
  const Tensor x32 = to(x64, DType::f32);
  const BatchStats s = batch_norm_stats(x32);
  const Tensor var_ref = var(to(x32, DType::f64), {0, 2, 3}, false);
  check_close(to(div(s.m2, s.count), DType::f64), var_ref, 1e-4, 0);
}

TEST_CASE("the building blocks compose into a two-rank batch norm equal to batch_norm") {
  // What SyncBatchNorm does: local stats, merge, normalise with the global stats; backward sums
  // added across ranks (the all-reduce), dx per rank with the global count.
  const Tensor x = ops::randn({5, 3, 3, 4}, {.dtype = DType::f64});
  const Tensor w = ops::randn({3}, {.dtype = DType::f64}),
               b = ops::randn({3}, {.dtype = DType::f64});
  const Tensor gy = ops::randn(x.shape(), {.dtype = DType::f64});
  const auto want = forward_backward(
      [](const In& in) { return batch_norm(in[0], {}, {}, in[1], in[2], true, 0.1, 1e-5); },
      {x, w, b}, gy);
  const std::vector<Tensor> xs{narrow(x, 0, 0, 2), narrow(x, 0, 2, 3)};
  const std::vector<Tensor> gys{narrow(gy, 0, 0, 2), narrow(gy, 0, 2, 3)};
  const BatchStats s0 = batch_norm_stats(xs[0]), s1 = batch_norm_stats(xs[1]);
  const BatchStats g = batch_norm_merge_stats(
      {stack({s0.count, s1.count}), stack({s0.mean, s1.mean}), stack({s0.m2, s1.m2})});
  const Tensor invstd = batch_norm_invstd(g, 1e-5);
  const Tensor y = cat({batch_norm_elemt(xs[0], g.mean, invstd, w, b),
                        batch_norm_elemt(xs[1], g.mean, invstd, w, b)});
  check_close(y, want[0], 1e-12, 1e-12);
  const BatchNormGradSums r0 = batch_norm_backward_reduce(gys[0], xs[0], g.mean);
  const BatchNormGradSums r1 = batch_norm_backward_reduce(gys[1], xs[1], g.mean);
  const BatchNormGradSums total{add(r0.sum_dy, r1.sum_dy), add(r0.sum_dy_xmu, r1.sum_dy_xmu)};
  const double count = to_vector<double>(g.count)[0];
  const Tensor dx =
      cat({batch_norm_backward_elemt(gys[0], xs[0], g.mean, invstd, w, total, count),
           batch_norm_backward_elemt(gys[1], xs[1], g.mean, invstd, w, total, count)});
  check_close(dx, want[1], 1e-10, 1e-10);
  check_close(mul(total.sum_dy_xmu, invstd), want[2], 1e-10, 1e-10);
  check_close(total.sum_dy, want[3], 1e-10, 1e-10);
}

TEST_CASE("batch_norm_relu_inference equals relu of eval batch_norm and refuses autograd") {
  const Tensor x = ops::randn({2, 4, 3, 3}, {.dtype = DType::f64});
  const Tensor rm = ops::randn({4}, {.dtype = DType::f64});
  const Tensor rv = add(ops::rand({4}, {.dtype = DType::f64}), 0.5);
  const Tensor w = ops::randn({4}, {.dtype = DType::f64}),
               b = ops::randn({4}, {.dtype = DType::f64});
  check_close(batch_norm_relu_inference(x, rm, rv, w, b, 1e-4),
              relu(batch_norm(x, rm, rv, w, b, false, 0.1, 1e-4)), 1e-14, 1e-14);
  check_close(batch_norm_relu_inference(x, rm, rv, {}, {}),
              relu(batch_norm(x, rm, rv, {}, {}, false)), 1e-14, 1e-14);
  const Tensor wl = clone(w).requires_grad_();
  CHECK_THROWS_WITH_ALL(batch_norm_relu_inference(x, rm, rv, wl, b), "batch_norm_relu_inference",
                        "requires grad");
  NoGradGuard no_grad;
  CHECK(batch_norm_relu_inference(x, rm, rv, wl, b).shape() == x.shape());
}

TEST_CASE("batch_norm accepts strided inputs and float32") {
  const Tensor x = ops::randn({3, 4, 5, 6}, {.dtype = DType::f64});
  const Tensor xs = noncontiguous(x);
  const Tensor w = ops::randn({4}, {.dtype = DType::f64});
  check_close(batch_norm(xs, {}, {}, w, {}, true), batch_norm(x, {}, {}, w, {}, true), 0, 0);
  // A strided view of the channel dim.
  const Tensor wide = ops::randn({3, 8, 5, 6}, {.dtype = DType::f64});
  const Tensor every_other = slice(wide, 1, 0, 8, 2);
  check_close(batch_norm(every_other, {}, {}, {}, {}, true),
              batch_norm(contiguous(every_other), {}, {}, {}, {}, true), 0, 0);
  const Tensor y32 = batch_norm(to(x, DType::f32), {}, {}, to(w, DType::f32), {}, true);
  CHECK(y32.dtype() == DType::f32);
  check_close(y32, batch_norm(x, {}, {}, w, {}, true), 1e-4, 1e-5);
}

TEST_CASE("batch_norm bad input is a clear error") {
  const Tensor x = zeros({2, 3, 4, 4});
  const Tensor c3 = ones({3}), c4 = ones({4});
  CHECK_THROWS_WITH_ALL(batch_norm(x, {}, {}, c4, {}, true), "batch_norm", "weight", "[4]",
                        "[2, 3, 4, 4]", "3 channels");
  CHECK_THROWS_WITH_ALL(batch_norm(x, c4, c3, {}, {}, false), "running_mean", "[4]");
  CHECK_THROWS_WITH_ALL(batch_norm(x, c3, c4, {}, {}, false), "running_var", "[4]");
  CHECK_THROWS_WITH_ALL(batch_norm(x, {}, {}, {}, {}, false), "eval mode needs running_mean");
  // Pitfall 2: the BN after split-attention's global pool with one image per device.
  CHECK_THROWS_WITH_ALL(batch_norm(zeros({1, 32, 1, 1}), c3, c3, {}, {}, true), "batch_norm");
  CHECK_THROWS_WITH_ALL(batch_norm(zeros({1, 3, 1, 1}), c3, c3, {}, {}, true),
                        "expected more than 1 value per channel when training", "[1, 3, 1, 1]");
  CHECK_THROWS_WITH_ALL(batch_norm(zeros({1, 3}), {}, {}, {}, {}, true), "more than 1 value");
  CHECK(batch_norm(zeros({1, 3, 1, 1}), c3, c3, {}, {}, false).shape() == Shape{1, 3, 1, 1});
  CHECK_THROWS_WITH_ALL(batch_norm(zeros({4}), {}, {}, {}, {}, true), "(N, C)", "[4]");
  CHECK_THROWS_WITH_ALL(batch_norm(x, {}, {}, ones({3}, {.dtype = DType::f64}), {}, true),
                        "weight has dtype f64");
  CHECK_THROWS_WITH_ALL(batch_norm_merge_stats({zeros({2, 3}), zeros({2, 3}), zeros({3})}),
                        "batch_norm_merge_stats", "(S, C)");
  CHECK_THROWS_WITH_ALL(batch_norm_backward_elemt(x, x, c3, c3, {}, {c3, c3}, 0), "count");
}
