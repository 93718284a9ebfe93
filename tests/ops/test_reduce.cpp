#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <cmath>
#include <limits>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::noncontiguous;
using splat::test::to_vector;

namespace {

// Naive reference: reduces a (2, 3, 4) f64 tensor over the dims in `mask` with f, visiting
// elements in row-major order.
template <class F>
std::vector<double> ref_reduce(const Tensor& x, std::vector<bool> mask, double init, F f) {
  const auto v = to_vector<double>(x);
  const Shape& s = x.shape();
  Shape out_shape;
  for (int d = 0; d < 3; ++d) out_shape.push_back(mask[d] ? 1 : s[d]);
  std::vector<double> out(numel(out_shape), init);
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t k = 0; k < s[2]; ++k) {
        const int64_t o = ((mask[0] ? 0 : i) * out_shape[1] + (mask[1] ? 0 : j)) * out_shape[2] +
                          (mask[2] ? 0 : k);
        out[o] = f(out[o], v[(i * s[1] + j) * s[2] + k]);
      }
  return out;
}

Tensor sample() {
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[i] = std::sin(i * 1.7) * 10;
  return from_vector<double>(v, {2, 3, 4});
}

} // namespace

TEST_CASE("sum, prod, amax, amin over every subset of dims, keepdim, strided inputs") {
  const Tensor x = sample();
  for (int m = 0; m < 8; ++m) {
    std::vector<bool> mask{bool(m & 1), bool(m & 2), bool(m & 4)};
    Dims dims;
    for (int d = 0; d < 3; ++d)
      if (mask[d]) dims.push_back(d - 3);  // negative dims too
    if (dims.empty()) mask = {true, true, true};  // {} means all dims
    CAPTURE(m);
    Shape kept;
    for (int d = 0; d < 3; ++d) kept.push_back(mask[d] ? 1 : x.shape()[d]);
    auto expect = [&](auto f, double init) { return from_vector<double>(ref_reduce(x, mask, init, f), kept); };
    const auto add = [](double a, double b) { return a + b; };
    const auto mul = [](double a, double b) { return a * b; };
    const auto mx = [](double a, double b) { return std::max(a, b); };
    const auto mn = [](double a, double b) { return std::min(a, b); };
    for (const Tensor& in : {x, noncontiguous(x), contiguous(permute(permute(x, {2, 0, 1}), {1, 2, 0}))}) {
      check_close(sum(in, dims, true), expect(add, 0), 1e-12, 1e-12);
      check_close(prod(in, dims, true), expect(mul, 1), 1e-12, 1e-12);
      check_close(amax(in, dims, true), expect(mx, -INFINITY));
      check_close(amin(in, dims, true), expect(mn, INFINITY));
      check_close(mean(in, dims, true), div(expect(add, 0), double(x.numel() / numel(kept))), 1e-12, 1e-12);
      CHECK(sum(in, dims, false).numel() == numel(kept));
    }
  }
  // A transposed view reduced along its (strided) last dim.
  check_close(sum(transpose(x, 0, 2), {-1}), transpose(sum(x, {0}), 0, 1), 1e-12, 1e-12);
}

TEST_CASE("reduction dtypes, 0-d and empty inputs") {
  const Tensor i = from_vector<int32_t>({1, 2, 3, 4}, {2, 2});
  CHECK(sum(i).dtype() == DType::i64);
  CHECK(sum(i).item<int64_t>() == 10);
  CHECK(prod(i).item<int64_t>() == 24);
  const Tensor b = from_vector<bool>({true, true, false}, {3});
  CHECK(sum(b).item<int64_t>() == 2);
  CHECK(all(b).item<bool>() == false);
  CHECK(any(b).item<bool>() == true);
  CHECK(to_vector<int>(all(from_vector<int64_t>({1, 0, 2, 3}, {2, 2}), {1})) == std::vector<int>{0, 1});
  CHECK(sum(full({}, 5.0)).item<float>() == 5);
  CHECK(sum(full({}, 5.0), {0}).item<float>() == 5);
  const Tensor e = zeros({0, 3});
  CHECK(to_vector<float>(sum(e, {0})) == std::vector<float>{0, 0, 0});
  CHECK(to_vector<float>(prod(e, {0})) == std::vector<float>{1, 1, 1});
  CHECK(std::isnan(mean(e).item<float>()));
  CHECK(all(e).item<bool>() == true);
  CHECK(sum(e, {1}).shape() == Shape{0});
  CHECK_THROWS_WITH_ALL(amax(e, {0}), "amax: cannot reduce over dim 0 of size 0");
  CHECK(amax(e, {1}).shape() == Shape{0});  // nothing to reduce per output: fine
  CHECK_THROWS_WITH_ALL(mean(i), "mean: unsupported dtype i32");
  CHECK_THROWS_WITH_ALL(sum(i, {0, -2}), "dim 0 appears more than once");
  CHECK_THROWS_WITH_ALL(sum(i, {2}), "sum: dim 2 out of range");
}

TEST_CASE("float32 sums accumulate in double") {
  // 2^24 + many ones would stall a float accumulator.
  Tensor x = ones({1 << 20});
  fill_(x, 1);
  CHECK(sum(x).item<double>() == double(1 << 20));
  Tensor y = ops::full({1 << 20}, 0.1);
  CHECK(std::fabs(sum(y).item<double>() - 104857.6) < 0.05);
}

TEST_CASE("var: unbiased and biased, several dims") {
  const Tensor x = sample();
  const auto v = to_vector<double>(x);
  double m = 0;
  for (double e : v) m += e;
  m /= v.size();
  double ss = 0;
  for (double e : v) ss += (e - m) * (e - m);
  CHECK(var(x).item<double>() == doctest::Approx(ss / 23).epsilon(1e-12));
  CHECK(var(x, {}, false).item<double>() == doctest::Approx(ss / 24).epsilon(1e-12));
  // Over dims (0, 2) equals the variance of each middle slice.
  const Tensor vd = var(noncontiguous(x), {0, 2});
  for (int j = 0; j < 3; ++j) {
    const Tensor slice_j = select(x, 1, j);
    CHECK(to_vector<double>(vd)[j] == doctest::Approx(var(slice_j).item<double>()).epsilon(1e-12));
  }
  CHECK(std::isnan(var(ones({1})).item<float>()));  // n - 1 = 0
  CHECK_THROWS_WITH_ALL(var(arange(4)), "var: unsupported dtype i64");
}

TEST_CASE("max/min with indices: ties pick the first, NaN wins") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = from_vector<double>({1, 5, 5, 0, -2, -2, nan, 3, 7}, {3, 3});
  auto r = max(x, 1);
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{1, 0, 0});
  CHECK(to_vector<double>(r.values)[0] == 5);
  CHECK(std::isnan(to_vector<double>(r.values)[2]));
  auto mn = min(x, 1, true);
  CHECK(mn.values.shape() == Shape{3, 1});
  CHECK(to_vector<int64_t>(mn.indices) == std::vector<int64_t>{0, 1, 0});
  CHECK(to_vector<int64_t>(max(x, 0).indices) == std::vector<int64_t>{2, 0, 2});
  CHECK(argmax(from_vector<int64_t>({3, 9, 9, 1}, {2, 2})).item<int64_t>() == 1);
  CHECK(argmin(from_vector<int64_t>({3, 9, 0, 0}, {2, 2})).item<int64_t>() == 2);
  CHECK(argmax(zeros({2, 2}), std::nullopt, true).shape() == Shape{1, 1});
  CHECK(to_vector<int64_t>(argmax(transpose(from_vector<float>({1, 4, 3, 2}, {2, 2}), 0, 1), 1)) ==
        std::vector<int64_t>{1, 0});
  CHECK_THROWS_WITH_ALL(max(zeros({2, 0}), 1), "max: cannot reduce over dim 1 of size 0");
  CHECK_THROWS_WITH_ALL(argmax(zeros({0})), "argmax");
}

TEST_CASE("large reductions split over threads match a serial sum") {
  const Tensor x = view(arange(0, 600000, 1, {.dtype = DType::f64}), {600, 1000});
  const auto rows = to_vector<double>(sum(x, {1}));
  for (int r : {0, 299, 599}) CHECK(rows[r] == 1000.0 * (r * 1000) + 999 * 1000 / 2);
  const auto cols = to_vector<double>(sum(x, {0}));
  for (int c : {0, 500, 999}) CHECK(cols[c] == 1000.0 * 599 * 600 / 2 + 600.0 * c);
}
