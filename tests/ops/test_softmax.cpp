// softmax / log_softmax on the CPU: against a composition oracle (exp / amax / sum) over every
// dim, stability for large magnitudes, -inf entries, float64 gradcheck over several dims and
// strided inputs, and bad input.
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"

#include <cmath>
#include <limits>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::strided_leaf;
using splat::test::to_vector;
using In = std::vector<Tensor>;

namespace {

// Oracles from unfused ops, computed in float64 whatever x's dtype.
Tensor softmax_oracle(const Tensor& x, int64_t dim) {
  const Tensor x64 = to(x, DType::f64);
  const Tensor e = exp(sub(x64, amax(x64, {dim}, true)));
  return div(e, sum(e, {dim}, true));
}
Tensor log_softmax_oracle(const Tensor& x, int64_t dim) { return log(softmax_oracle(x, dim)); }

} // namespace

TEST_CASE("softmax and log_softmax match the oracle along every dim, f64 and f32") {
  const Tensor x = mul(randn({3, 4, 5}, {.dtype = DType::f64}), 3.0);
  for (int64_t dim : {0, 1, 2, -1, -3}) {
    CAPTURE(dim);
    check_close(softmax(x, dim), softmax_oracle(x, dim), 1e-12, 1e-14);
    check_close(log_softmax(x, dim), log_softmax_oracle(x, dim), 1e-12, 1e-12);
    const Tensor x32 = to(x, DType::f32);
    CHECK(softmax(x32, dim).dtype() == DType::f32);
    check_close(to(softmax(x32, dim), DType::f64), softmax_oracle(x32, dim), 1e-5, 1e-7);
    check_close(to(log_softmax(x32, dim), DType::f64), log_softmax_oracle(x32, dim), 1e-5, 1e-5);
  }
}

TEST_CASE("softmax is stable for large magnitudes and rows sum to one") {
  // exp(1000) overflows: only the max subtraction keeps this finite.
  const Tensor x = add(mul(randn({8, 300}, {.dtype = DType::f32}), 50.0), 1000.0);
  const Tensor y = softmax(x, 1);
  check_close(sum(y, {1}), ones({8}, {.dtype = DType::f32}), 1e-5, 1e-6);
  const Tensor ly = log_softmax(x, 1);
  for (float v : to_vector<float>(ly)) CHECK(std::isfinite(v));
  check_close(exp(ly), y, 1e-4, 1e-7);
}

TEST_CASE("softmax handles -inf entries and all -inf rows as PyTorch") {
  const double inf = std::numeric_limits<double>::infinity();
  // Row 0 masks one entry; row 1 is all -inf, which PyTorch answers with NaN.
  const Tensor x = from_vector<double>({-inf, 0, 0, -inf, -inf, -inf}, {2, 3});
  const auto y = to_vector<double>(softmax(x, 1));
  CHECK(y[0] == 0.0);
  CHECK(y[1] == doctest::Approx(0.5));
  CHECK(y[2] == doctest::Approx(0.5));
  for (int i = 3; i < 6; ++i) CHECK(std::isnan(y[i]));
  const auto ly = to_vector<double>(log_softmax(x, 1));
  CHECK(ly[0] == -inf);
  CHECK(ly[1] == doctest::Approx(std::log(0.5)));
  for (int i = 3; i < 6; ++i) CHECK(std::isnan(ly[i]));
}

TEST_CASE("softmax of a 0-d tensor and of a size-1 dim is one; empty tensors stay empty") {
  CHECK(softmax(scalar_tensor(3.5), 0).item<double>() == 1.0);
  CHECK(log_softmax(scalar_tensor(3.5), -1).item<double>() == 0.0);
  check_close(softmax(randn({4, 1}), 1), ones({4, 1}));
  CHECK(softmax(zeros({0, 5}), 1).shape() == Shape{0, 5});
}

TEST_CASE("gradcheck: softmax and log_softmax over several dims, contiguous and strided") {
  for (int64_t dim : {0, 1, -1}) {
    CAPTURE(dim);
    CHECK_GRADCHECK([dim](const In& in) { return softmax(in[0], dim); }, {leaf({3, 4, 2})});
    CHECK_GRADCHECK([dim](const In& in) { return log_softmax(in[0], dim); }, {leaf({3, 4, 2})});
    CHECK_GRADCHECK([dim](const In& in) { return softmax(in[0], dim); }, {strided_leaf({2, 3, 4})});
    CHECK_GRADCHECK([dim](const In& in) { return log_softmax(in[0], dim); },
                    {strided_leaf({2, 3, 4})});
  }
  // A transposed view: the kernel sees a copy, the gradient must land in the view's layout.
  CHECK_GRADCHECK([](const In& in) { return softmax(transpose(in[0], 0, 1), 1); }, {leaf({5, 3})});
}

TEST_CASE("softmax: bad input is a clear error") {
  CHECK_THROWS_WITH_ALL(softmax(zeros({2, 3}, {.dtype = DType::i64}), 1), "softmax", "i64");
  CHECK_THROWS_WITH_ALL(log_softmax(zeros({2, 3}), 2), "log_softmax", "2");
  CHECK_THROWS_WITH_ALL(softmax(scalar_tensor(1.0), 1), "softmax");
}
