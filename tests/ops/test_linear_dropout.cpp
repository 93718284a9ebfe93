// linear (against matmul + bias on 1-d, 2-d and 3-d inputs, gradcheck, shape errors) and
// dropout (fraction kept, scaling, reproducibility from a seed, identity cases, gradient, errors)
// on the CPU. The same-mask-on-CUDA check is in test_cuda_nn_functional.cpp.
#include "core/philox.h"
#include "ops/copy.h"
#include "ops/dropout.h"
#include "ops/linear.h"
#include "ops/matmul.h"
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

TEST_CASE("linear equals x @ weight^T + bias for 1-d, 2-d and 3-d inputs") {
  const Tensor w = randn({5, 4}, {.dtype = DType::f64}), b = randn({5}, {.dtype = DType::f64});
  for (Shape shape : {Shape{4}, Shape{3, 4}, Shape{2, 3, 4}}) {
    const Tensor x = randn(shape, {.dtype = DType::f64});
    Shape out = shape;
    out.back() = 5;
    const Tensor y = linear(x, w, b);
    CHECK(y.shape() == out);
    check_close(y, add(matmul(x, contiguous(transpose(w, 0, 1))), b), 1e-12, 1e-12);
    check_close(linear(x, w), matmul(x, contiguous(transpose(w, 0, 1))), 1e-12, 1e-12);
  }
}

TEST_CASE("gradcheck: linear with and without bias, strided input") {
  CHECK_GRADCHECK([](const In& in) { return linear(in[0], in[1], in[2]); },
                  {leaf({2, 3, 4}), leaf({5, 4}), leaf({5})});
  CHECK_GRADCHECK([](const In& in) { return linear(in[0], in[1]); },
                  {strided_leaf({3, 4}), leaf({2, 4})});
  CHECK_GRADCHECK([](const In& in) { return linear(in[0], transpose(in[1], 0, 1), in[2]); },
                  {leaf({3, 4}), leaf({4, 2}), leaf({2})});
}

TEST_CASE("linear: shape and dtype mismatches are clear errors") {
  const Tensor x = zeros({3, 4});
  CHECK_THROWS_WITH_ALL(linear(x, zeros({5, 3})), "linear", "[3, 4]", "[5, 3]", "last dim 3");
  CHECK_THROWS_WITH_ALL(linear(x, zeros({4})), "linear", "(out, in)", "[4]");
  CHECK_THROWS_WITH_ALL(linear(x, zeros({5, 4}), zeros({4})), "linear", "bias of shape [4]", "(5)");
  CHECK_THROWS_WITH_ALL(linear(x, zeros({5, 4}, {.dtype = DType::f64})), "linear", "f32", "f64");
  CHECK_THROWS_WITH_ALL(
      linear(zeros({3, 4}, {.dtype = DType::i64}), zeros({5, 4}, {.dtype = DType::i64})), "linear",
      "i64");
}

TEST_CASE("dropout keeps about 1 - p of the elements, scaled by 1 / (1 - p)") {
  const int64_t n = 200000;
  const Tensor x = add(rand({n}), 1.0); // in [1, 2): no element is 0 by chance
  for (double p : {0.1, 0.5, 0.8}) {
    CAPTURE(p);
    Generator gen(11);
    const Tensor y = dropout(x, p, true, &gen);
    const auto xv = to_vector<float>(x), yv = to_vector<float>(y);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (yv[i] == 0) continue;
      ++kept;
      CHECK(yv[i] == doctest::Approx(xv[i] / (1 - p)).epsilon(1e-6));
    }
    // Binomial(n, 1 - p): 5 standard deviations.
    const double sd = std::sqrt(n * p * (1 - p));
    CHECK(std::fabs(kept - n * (1 - p)) < 5 * sd);
  }
}

TEST_CASE("dropout: one seed gives one mask; identity when not training or p == 0") {
  const Tensor x = randn({64, 33});
  Generator a(5), b(5), c(6);
  const Tensor ya = dropout(x, 0.3, true, &a), yb = dropout(x, 0.3, true, &b),
               yc = dropout(x, 0.3, true, &c);
  check_close(ya, yb, 0, 0);
  CHECK(sum(ne(ya, yc)).item<int64_t>() > 0);
  CHECK(dropout(x, 0.3, false).is_same(x));
  CHECK(dropout(x, 0.0, true).is_same(x));
}

TEST_CASE("gradcheck: dropout passes dy * mask / (1 - p)") {
  // A fresh generator per call, so every evaluation draws the same mask.
  CHECK_GRADCHECK(
      [](const In& in) {
        Generator gen(3);
        return dropout(in[0], 0.4, true, &gen);
      },
      {strided_leaf({4, 6})});
}

TEST_CASE("dropout: p outside [0, 1) and integer input are errors") {
  CHECK_THROWS_WITH_ALL(dropout(zeros({3}), 1.0, true), "dropout", "[0, 1)", "1");
  CHECK_THROWS_WITH_ALL(dropout(zeros({3}), -0.1, true), "dropout", "-0.1");
  CHECK_THROWS_WITH_ALL(dropout(zeros({3}, {.dtype = DType::i64}), 0.5, true), "dropout", "i64");
}
