#include "ops/copy.h"
#include "ops/pointwise.h"
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
// A naive reference: applies f to the row-major elements of x.
template <class F> std::vector<double> apply_ref(const Tensor& x, F f) {
  auto v = to_vector<double>(x);
  for (auto& e : v) e = f(e);
  return v;
}
Tensor vec(std::vector<double> v, Shape s) { return from_vector<double>(v, std::move(s)); }
} // namespace

TEST_CASE("unary ops match std:: on contiguous and strided inputs") {
  const Tensor x = vec({-2, -0.5, 0.25, 1, 3, 0.75}, {2, 3});
  struct Case { UnaryOp op; double (*f)(double); bool positive_only; };
  const Case cases[] = {
    {UnaryOp::neg, [](double v) { return -v; }, false},
    {UnaryOp::abs, [](double v) { return std::fabs(v); }, false},
    {UnaryOp::exp, [](double v) { return std::exp(v); }, false},
    {UnaryOp::log, [](double v) { return std::log(v); }, true},
    {UnaryOp::sqrt, [](double v) { return std::sqrt(v); }, true},
    {UnaryOp::rsqrt, [](double v) { return 1 / std::sqrt(v); }, true},
    {UnaryOp::square, [](double v) { return v * v; }, false},
    {UnaryOp::relu, [](double v) { return v < 0 ? 0 : v; }, false},
    {UnaryOp::sigmoid, [](double v) { return 1 / (1 + std::exp(-v)); }, false},
    {UnaryOp::tanh, [](double v) { return std::tanh(v); }, false},
  };
  for (const Case& c : cases) {
    CAPTURE(info(c.op).name);
    const Tensor in = c.positive_only ? abs(x) : x;
    const Tensor expected = vec(apply_ref(in, c.f), in.shape());
    check_close(unary(c.op, in), expected, 1e-12, 1e-12);
    check_close(unary(c.op, noncontiguous(in)), expected, 1e-12, 1e-12);
    check_close(unary(c.op, transpose(in, 0, 1)), transpose(expected, 0, 1), 1e-12, 1e-12);
    check_close(unary(c.op, to(in, DType::f32)), expected, 1e-6, 1e-6);
    CHECK(unary(c.op, zeros({0, 3}, {.dtype = DType::f64})).shape() == Shape{0, 3});
  }
}

TEST_CASE("relu_backward equals the masked gradient on odd sizes, strided inputs and NaN") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const int64_t n : {int64_t{1}, int64_t{7}, int64_t{37}}) {
    CAPTURE(n);
    std::vector<double> gv(n), yv(n);
    for (int64_t i = 0; i < n; ++i) {
      gv[i] = 0.5 + static_cast<double>(i);
      yv[i] = i % 3 == 0 ? -1.0 - i : i % 3 == 1 ? 0.0 : 0.25 * i;
    }
    yv[n - 1] = nan;  // a NaN output keeps its gradient, as masking y <= 0 does
    const Tensor g = vec(gv, {n}), y = vec(yv, {n});
    const Tensor oracle = masked_fill(g, le(y, 0.0), 0);
    check_close(binary(BinaryOp::relu_backward, g, y), oracle);
    check_close(binary(BinaryOp::relu_backward, noncontiguous(g), noncontiguous(y)), oracle);
    check_close(binary(BinaryOp::relu_backward, to(g, DType::f32), to(y, DType::f32)),
                to(oracle, DType::f32));
  }
}

TEST_CASE("relu, maximum and minimum propagate NaN; integer ops stay integral") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = vec({nan, -1, 2}, {3});
  CHECK(std::isnan(to_vector<double>(relu(x))[0]));
  CHECK(std::isnan(to_vector<double>(maximum(x, vec({0, 0, 0}, {3})))[0]));
  CHECK(std::isnan(to_vector<double>(minimum(vec({0, 0, 0}, {3}), x))[0]));
  const Tensor i = from_vector<int32_t>({-3, 4, -5}, {3});
  CHECK(abs(i).dtype() == DType::i32);
  CHECK(to_vector<int>(abs(i)) == std::vector<int>{3, 4, 5});
  CHECK(to_vector<int>(relu(i)) == std::vector<int>{0, 4, 0});
  CHECK_THROWS_WITH_ALL(exp(i), "exp: unsupported dtype i32");
  CHECK_THROWS_WITH_ALL(div(i, i), "div: unsupported dtype i32");
}

TEST_CASE("binary ops broadcast over any strides") {
  const Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = vec({10, 20, 30}, {3});
  check_close(add(a, b), vec({11, 22, 33, 14, 25, 36}, {2, 3}));
  check_close(sub(b, a), vec({9, 18, 27, 6, 15, 24}, {2, 3}));
  check_close(mul(a, unsqueeze(vec({2, 3}, {2}), 1)), vec({2, 4, 6, 12, 15, 18}, {2, 3}));
  check_close(div(a, noncontiguous(a)), ones({2, 3}, {.dtype = DType::f64}));
  check_close(pow(a, vec({2}, {1})), vec({1, 4, 9, 16, 25, 36}, {2, 3}));
  // Outer product by broadcasting (3,1) against (1,2), with a transposed operand.
  const Tensor col = view(vec({1, 2, 3}, {3}), {3, 1});
  const Tensor row = transpose(view(vec({1, 10}, {2}), {2, 1}), 0, 1);
  check_close(mul(col, row), vec({1, 10, 2, 20, 3, 30}, {3, 2}));
  check_close(add(zeros({0, 3}, {.dtype = DType::f64}), b), zeros({0, 3}, {.dtype = DType::f64}));
  check_close(maximum(a, 3.5), vec({3.5, 3.5, 3.5, 4, 5, 6}, {2, 3}));
  check_close(minimum(a, b), a);
  check_close(1.0 - a, vec({0, -1, -2, -3, -4, -5}, {2, 3}));
  check_close(a / 2.0, vec({0.5, 1, 1.5, 2, 2.5, 3}, {2, 3}));
}

TEST_CASE("comparisons and logical ops return bool") {
  const Tensor a = from_vector<int64_t>({1, 2, 3}, {3});
  const Tensor b = from_vector<int64_t>({3, 2, 1}, {3});
  CHECK(eq(a, b).dtype() == DType::b8);
  CHECK(to_vector<int>(eq(a, b)) == std::vector<int>{0, 1, 0});
  CHECK(to_vector<int>(ne(a, b)) == std::vector<int>{1, 0, 1});
  CHECK(to_vector<int>(lt(a, b)) == std::vector<int>{1, 0, 0});
  CHECK(to_vector<int>(le(a, b)) == std::vector<int>{1, 1, 0});
  CHECK(to_vector<int>(gt(a, b)) == std::vector<int>{0, 0, 1});
  CHECK(to_vector<int>(ge(a, 2)) == std::vector<int>{0, 1, 1});
  const Tensor p = lt(a, 3), q = gt(a, 1);
  CHECK(to_vector<int>(logical_and(p, q)) == std::vector<int>{0, 1, 0});
  CHECK(to_vector<int>(logical_or(p, q)) == std::vector<int>{1, 1, 1});
  CHECK(to_vector<int>(logical_not(p)) == std::vector<int>{0, 0, 1});
  CHECK_THROWS_WITH_ALL(eq(a, to(b, DType::f32)), "eq: dtype mismatch (i64 vs f32)");
}

TEST_CASE("in-place ops write into the destination and check shapes") {
  Tensor a = vec({1, 2, 3, 4}, {2, 2});
  Tensor col = slice(a, 1, 0, 1);  // (2, 1) strided view
  add_(col, 10);
  CHECK(to_vector<double>(a) == std::vector<double>{11, 2, 13, 4});
  mul_(a, vec({2, 1}, {2}));
  CHECK(to_vector<double>(a) == std::vector<double>{22, 2, 26, 4});
  CHECK_THROWS_WITH_ALL(add_(col, a), "add_", "[2, 2]", "destination's shape [2, 1]");
  Tensor e = expand(vec({1}, {1}), {3});
  CHECK_THROWS_WITH_ALL(add_(e, 1), "expanded");
  Tensor i = from_vector<int64_t>({1, 2}, {2});
  CHECK_THROWS_WITH_ALL(add_(i, 0.5), "scalar 0.5 is not representable in the i64 tensor");
  relu_(neg_(a));
  CHECK(to_vector<double>(a) == std::vector<double>{0, 0, 0, 0});
}

TEST_CASE("clamp, where and masked_fill") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = vec({-2, 0.5, 3, nan}, {4});
  const auto c = to_vector<double>(clamp(x, -1, 1));
  CHECK(c[0] == -1);
  CHECK(c[1] == 0.5);
  CHECK(c[2] == 1);
  CHECK(std::isnan(c[3]));
  CHECK(to_vector<double>(clamp(x, std::nullopt, 0))[2] == 0);
  CHECK_THROWS_WITH_ALL(clamp(x, 2, 1), "min 2 is greater than max 1");
  const Tensor cond = from_vector<bool>({true, false}, {2, 1});
  check_close(where(cond, vec({1, 2}, {2}), vec({-1}, {1})), vec({1, 2, -1, -1}, {2, 2}));
  CHECK_THROWS_WITH_ALL(where(vec({1}, {1}), x, x), "condition must be bool, got f64");
  Tensor m = masked_fill(vec({1, 2, 3, 4}, {2, 2}), cond, -5);
  CHECK(to_vector<double>(m) == std::vector<double>{-5, -5, 3, 4});
  CHECK_THROWS_WITH_ALL(masked_fill(x, from_vector<bool>({true, false, true}, {3}), 0),
                        "cannot be broadcast");
}

TEST_CASE("ops on different devices or undefined tensors fail clearly") {
  Tensor undefined;
  CHECK_THROWS_WITH_ALL(add(undefined, zeros({1})), "add: argument 0 is an undefined tensor");
}

TEST_CASE("large pointwise ops run in parallel and agree with a serial reference") {
  const Tensor a = arange(0, 200000, 1, {.dtype = DType::f64});
  const Tensor t = transpose(view(a, {400, 500}), 0, 1);  // strided, large
  const auto got = to_vector<double>(add(t, 1.0));
  const auto ref = to_vector<double>(t);
  bool ok = true;
  for (size_t i = 0; i < got.size(); ++i) ok = ok && got[i] == ref[i] + 1;
  CHECK(ok);
}
