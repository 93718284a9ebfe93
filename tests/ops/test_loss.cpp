// Losses on the CPU: element losses against plain loops, every reduction with weights,
// avg_factor and ignore_index against the mmdet / PyTorch definitions, numerical stability,
// float64 gradcheck, and bad input.
#include "ops/copy.h"
#include "ops/loss.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"

#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::strided_leaf;
using splat::test::to_vector;
using In = std::vector<Tensor>;

namespace {

constexpr double kEps = 1.1920928955078125e-07; // mmdet's eps on avg_factor

Tensor f64(const std::vector<double>& v, Shape shape) { return from_vector<double>(v, shape); }

// -log softmax(x)[n, t[n]] by plain loops (0 for ignored rows).
std::vector<double> cross_entropy_loop(const Tensor& x, const std::vector<int64_t>& t,
                                       int64_t ignore) {
  const auto v = to_vector<double>(x);
  const int64_t n = x.size(0), c = x.size(1);
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) {
    if (t[i] == ignore) continue;
    double s = 0;
    for (int64_t j = 0; j < c; ++j) s += std::exp(v[i * c + j]);
    out[i] = std::log(s) - v[i * c + t[i]];
  }
  return out;
}

double bce_direct(double x, double t) {
  const double p = 1 / (1 + std::exp(-x));
  return -(t * std::log(p) + (1 - t) * std::log(1 - p));
}

} // namespace

TEST_CASE("cross_entropy: element losses, ignore_index and every reduction") {
  const Tensor x = randn({6, 5}, {.dtype = DType::f64});
  const std::vector<int64_t> tv = {0, 4, -100, 2, 1, -100};
  const Tensor t = from_vector<int64_t>(tv, {6});
  const auto expected = cross_entropy_loop(x, tv, -100);
  check_close(cross_entropy(x, t, -100, {.reduction = Reduction::none}), f64(expected, {6}), 1e-12,
              1e-12);
  double total = 0;
  for (double e : expected) total += e;
  CHECK(cross_entropy(x, t, -100, {.reduction = Reduction::sum}).item<double>() ==
        doctest::Approx(total));
  // PyTorch's mean: over the 4 targets that are not ignored.
  CHECK(cross_entropy(x, t).item<double>() == doctest::Approx(total / 4));
  // Another ignore_index: -100 is then an ordinary (invalid) class, so use a valid set.
  const std::vector<int64_t> tv2 = {3, 3, 0, 2, 1, 4};
  const auto e2 = cross_entropy_loop(x, tv2, 3);
  CHECK(cross_entropy(x, from_vector<int64_t>(tv2, {6}), 3).item<double>() ==
        doctest::Approx((e2[2] + e2[3] + e2[4] + e2[5]) / 4));
  // All targets ignored: mean is 0 / 0, as in PyTorch.
  CHECK(std::isnan(cross_entropy(x, full({6}, -100, {.dtype = DType::i64})).item<double>()));
}

TEST_CASE("cross_entropy: weight and avg_factor follow mmdet's weight_reduce_loss") {
  const Tensor x = randn({5, 4}, {.dtype = DType::f64});
  const std::vector<int64_t> tv = {1, 0, 3, -100, 2};
  const Tensor t = from_vector<int64_t>(tv, {5});
  const Tensor w = rand({5}, {.dtype = DType::f64});
  const auto l = cross_entropy_loop(x, tv, -100);
  const auto wv = to_vector<double>(w);
  double weighted = 0;
  for (int i = 0; i < 5; ++i) weighted += l[i] * wv[i];
  CHECK(cross_entropy(x, t, -100, {.reduction = Reduction::sum, .weight = w}).item<double>() ==
        doctest::Approx(weighted));
  CHECK(cross_entropy(x, t, -100, {.weight = w, .avg_factor = 7.0}).item<double>() ==
        doctest::Approx(weighted / (7.0 + kEps)));
  CHECK(cross_entropy(x, t, -100, {.weight = w}).item<double>() == doctest::Approx(weighted / 4));
  // With none, avg_factor is ignored (as in mmdet) and the weighted element losses come back.
  const Tensor none =
      cross_entropy(x, t, -100, {.reduction = Reduction::none, .weight = w, .avg_factor = 3.0});
  check_close(none, mul(f64(l, {5}), w), 1e-12, 1e-12);
}

TEST_CASE("binary_cross_entropy_with_logits: the direct formula, and stable for large logits") {
  const Tensor x = mul(randn({4, 7}, {.dtype = DType::f64}), 3.0);
  const Tensor t = rand({4, 7}, {.dtype = DType::f64});
  const auto xv = to_vector<double>(x), tv = to_vector<double>(t);
  std::vector<double> expected(xv.size());
  double total = 0;
  for (size_t i = 0; i < xv.size(); ++i) total += expected[i] = bce_direct(xv[i], tv[i]);
  check_close(binary_cross_entropy_with_logits(x, t, {.reduction = Reduction::none}),
              f64(expected, {4, 7}), 1e-10, 1e-12);
  CHECK(binary_cross_entropy_with_logits(x, t).item<double>() == doctest::Approx(total / 28));
  // Where sigmoid rounds to 0 or 1 the direct formula gives inf; the stable one |x| (float32 too).
  const Tensor big = from_vector<float>({100.f, -100.f, 100.f, -100.f}, {4});
  const Tensor bt = from_vector<float>({0.f, 1.f, 1.f, 0.f}, {4});
  const auto v =
      to_vector<double>(binary_cross_entropy_with_logits(big, bt, {.reduction = Reduction::none}));
  CHECK(v[0] == doctest::Approx(100.0));
  CHECK(v[1] == doctest::Approx(100.0));
  CHECK(v[2] == doctest::Approx(0.0));
  CHECK(v[3] == doctest::Approx(0.0));
}

TEST_CASE("l1, smooth_l1 and mse: element losses, beta, and reductions with weights") {
  const Tensor x = randn({3, 5}, {.dtype = DType::f64}), t = randn({3, 5}, {.dtype = DType::f64});
  const auto xv = to_vector<double>(x), tv = to_vector<double>(t);
  for (double beta : {1.0, 1.0 / 9, 0.0}) {
    CAPTURE(beta);
    std::vector<double> e(xv.size());
    for (size_t i = 0; i < e.size(); ++i) {
      const double d = std::fabs(xv[i] - tv[i]);
      e[i] = d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
    }
    check_close(smooth_l1_loss(x, t, beta, {.reduction = Reduction::none}), f64(e, {3, 5}), 1e-12,
                1e-14);
  }
  std::vector<double> l1(xv.size()), l2(xv.size());
  for (size_t i = 0; i < l1.size(); ++i) {
    l1[i] = std::fabs(xv[i] - tv[i]);
    l2[i] = (xv[i] - tv[i]) * (xv[i] - tv[i]);
  }
  check_close(l1_loss(x, t, {.reduction = Reduction::none}), f64(l1, {3, 5}), 1e-12, 1e-14);
  check_close(mse_loss(x, t, {.reduction = Reduction::none}), f64(l2, {3, 5}), 1e-12, 1e-14);
  // A (3, 1) weight broadcasts over the columns.
  const Tensor w = from_vector<double>({0.5, 0, 2}, {3, 1});
  double wsum = 0;
  for (size_t i = 0; i < l1.size(); ++i) wsum += l1[i] * (i < 5 ? 0.5 : i < 10 ? 0 : 2);
  CHECK(l1_loss(x, t, {.reduction = Reduction::sum, .weight = w}).item<double>() ==
        doctest::Approx(wsum));
  CHECK(l1_loss(x, t, {.weight = w}).item<double>() == doctest::Approx(wsum / 15));
  CHECK(l1_loss(x, t, {.weight = w, .avg_factor = 4.0}).item<double>() ==
        doctest::Approx(wsum / (4 + kEps)));
  CHECK(mse_loss(x, t, {.reduction = Reduction::sum}).item<double>() ==
        doctest::Approx(sum(f64(l2, {15})).item<double>()));
}

TEST_CASE("gradcheck: cross_entropy over reductions, weights, avg_factor and ignore_index") {
  const Tensor t = from_vector<int64_t>({2, -100, 0, 3}, {4});
  const Tensor w = rand({4}, {.dtype = DType::f64});
  const LossOptions options[] = {{.reduction = Reduction::none},
                                 {.reduction = Reduction::sum},
                                 {.reduction = Reduction::mean},
                                 {.reduction = Reduction::sum, .weight = w},
                                 {.weight = w, .avg_factor = 2.5}};
  for (const LossOptions& o : options) {
    CAPTURE(static_cast<int>(o.reduction));
    CHECK_GRADCHECK([&](const In& in) { return cross_entropy(in[0], t, -100, o); },
                    {leaf({4, 5}, -2, 2)});
  }
  // Strided logits (a transposed view).
  CHECK_GRADCHECK([&](const In& in) { return cross_entropy(transpose(in[0], 0, 1), t); },
                  {leaf({5, 4}, -2, 2)});
  CHECK_GRADCHECK(
      [&](const In& in) {
        return cross_entropy(in[0], from_vector<int64_t>({2, 1, 1, 0}, {4}), 1);
      },
      {leaf({4, 3}, -2, 2)});
}

TEST_CASE("gradcheck: bce_with_logits, l1, smooth_l1 and mse over reductions and weights") {
  const Tensor t01 = rand({3, 4}, {.dtype = DType::f64});
  // Targets away from the inputs, so |x - t| stays off the kinks of l1 and smooth_l1.
  const Tensor t =
      from_vector<double>({0.5, -0.5, 0.05, 2, -2, 0.3, 0.9, -0.9, 1.5, -1.5, 0.02, -0.02}, {3, 4});
  const Tensor w = rand({3, 1}, {.dtype = DType::f64});
  const LossOptions options[] = {{.reduction = Reduction::none},
                                 {.reduction = Reduction::sum},
                                 {.reduction = Reduction::mean},
                                 {.weight = w},
                                 {.weight = w, .avg_factor = 6.0}};
  for (const LossOptions& o : options) {
    CAPTURE(static_cast<int>(o.reduction));
    CHECK_GRADCHECK([&](const In& in) { return binary_cross_entropy_with_logits(in[0], t01, o); },
                    {leaf({3, 4}, -4, 4)});
    CHECK_GRADCHECK([&](const In& in) { return l1_loss(in[0], t, o); }, {leaf({3, 4}, 3.1, 3.9)});
    CHECK_GRADCHECK([&](const In& in) { return mse_loss(in[0], t, o); }, {strided_leaf({3, 4})});
    for (double beta : {1.0, 1.0 / 9})
      CHECK_GRADCHECK([&](const In& in) { return smooth_l1_loss(add(in[0], t), t, beta, o); },
                      {leaf({3, 4}, -2, 2)});
  }
  CHECK_GRADCHECK([&](const In& in) { return binary_cross_entropy_with_logits(in[0], t01); },
                  {strided_leaf({3, 4}, -30, 30)});
}

TEST_CASE("losses: bad input is a clear error") {
  const Tensor x = randn({4, 3});
  // A target that is neither a class nor ignore_index names its value and position.
  CHECK_THROWS_WITH_ALL(cross_entropy(x, from_vector<int64_t>({0, 1, 3, 2}, {4})), "cross_entropy",
                        "target 3 at position 2", "3 classes");
  CHECK_THROWS_WITH_ALL(cross_entropy(x, from_vector<int64_t>({0, -1, 1, 2}, {4})),
                        "target -1 at position 1");
  CHECK_THROWS_WITH_ALL(cross_entropy(x, from_vector<int64_t>({0, 1, 2}, {3})), "cross_entropy",
                        "[3]", "[4, 3]");
  CHECK_THROWS_WITH_ALL(cross_entropy(x, zeros({4})), "cross_entropy", "i64", "f32");
  CHECK_THROWS_WITH_ALL(cross_entropy(randn({4}), zeros({4}, {.dtype = DType::i64})), "(N, C)",
                        "[4]");
  CHECK_THROWS_WITH_ALL(l1_loss(x, randn({3, 4})), "l1_loss", "[4, 3]", "[3, 4]");
  CHECK_THROWS_WITH_ALL(mse_loss(x, randn({4, 3}, {.dtype = DType::f64})), "mse_loss", "f64",
                        "f32");
  CHECK_THROWS_WITH_ALL(smooth_l1_loss(x, x, -1.0), "smooth_l1_loss", "beta", "-1");
  CHECK_THROWS_WITH_ALL(l1_loss(x, randn({4, 3}).requires_grad_()), "l1_loss", "target",
                        "requires grad");
  CHECK_THROWS_WITH_ALL(binary_cross_entropy_with_logits(x, rand({4, 3}), {.weight = ones({2})}),
                        "binary_cross_entropy_with_logits", "weight of shape [2]", "[4, 3]");
  CHECK_THROWS_WITH_ALL(
      binary_cross_entropy_with_logits(x, rand({4, 3}), {.weight = ones({4, 3}).requires_grad_()}),
      "weight", "requires grad");
  CHECK_THROWS_WITH_ALL(l1_loss(x, x, {.reduction = Reduction::sum, .avg_factor = 2.0}),
                        "avg_factor", "sum");
  CHECK_THROWS_WITH_ALL(l1_loss(x, x, {.avg_factor = -1.0}), "avg_factor", "-1");
  CHECK_THROWS_WITH_ALL(
      mse_loss(zeros({2}, {.dtype = DType::i64}), zeros({2}, {.dtype = DType::i64})), "mse_loss",
      "input", "i64");
}
