#include "ops/copy.h"
#include "ops/matmul.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::noncontiguous;
using splat::test::to_vector;

namespace {

Tensor pattern(Shape s, double phase, DType dt = DType::f64) {
  std::vector<double> v(numel(s));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(i * 0.37 + phase);
  return to(from_vector<double>(v, std::move(s)), dt);
}

// Naive triple loop in double over (B, n, k) x (B, k, m).
Tensor naive_bmm(const Tensor& a, const Tensor& b) {
  const int64_t B = a.size(0), n = a.size(1), k = a.size(2), m = b.size(2);
  const auto va = to_vector<double>(a), vb = to_vector<double>(b);
  std::vector<double> out(B * n * m, 0);
  for (int64_t q = 0; q < B; ++q)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l) s += va[(q * n + i) * k + l] * vb[(q * k + l) * m + j];
        out[(q * n + i) * m + j] = s;
      }
  return from_vector<double>(out, {B, n, m});
}

} // namespace

TEST_CASE("mm and bmm match a naive loop for every operand layout") {
  for (DType dt : {DType::f64, DType::f32}) {
    const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
    const Tensor a = pattern({3, 5, 7}, 0.1, dt), b = pattern({3, 7, 4}, 0.7, dt);
    const Tensor expected = naive_bmm(a, b);
    // Row-major, column-major (transposed storage) and fully strided operands.
    const Tensor a_t = transpose(contiguous(transpose(a, 1, 2)), 1, 2);
    const Tensor b_t = transpose(contiguous(transpose(b, 1, 2)), 1, 2);
    for (const Tensor& x : {a, a_t, noncontiguous(a)})
      for (const Tensor& y : {b, b_t, noncontiguous(b)}) check_close(bmm(x, y), expected, tol, tol);
    check_close(mm(select(a, 0, 1), select(b, 0, 1)), select(expected, 0, 1), tol, tol);
  }
}

TEST_CASE("large GEMM threads correctly") {
  const Tensor a = pattern({1, 130, 257}, 0.3), b = pattern({1, 257, 190}, 0.9);
  check_close(bmm(a, b), naive_bmm(a, b), 1e-10, 1e-10);
  const Tensor many_a = pattern({16, 9, 11}, 0.2), many_b = pattern({16, 11, 6}, 0.4);
  check_close(bmm(many_a, many_b), naive_bmm(many_a, many_b), 1e-12, 1e-12);
}

TEST_CASE("matmul: vectors, broadcast batches, empty inner dims") {
  const Tensor v = pattern({4}, 0.5), w = pattern({4}, 1.5);
  const auto vv = to_vector<double>(v), ww = to_vector<double>(w);
  double dot = 0;
  for (int i = 0; i < 4; ++i) dot += vv[i] * ww[i];
  const Tensor d = matmul(v, w);
  CHECK(d.dim() == 0);
  CHECK(d.item<double>() == doctest::Approx(dot).epsilon(1e-12));
  const Tensor m = pattern({4, 3}, 0.1);
  CHECK(matmul(v, m).shape() == Shape{3});
  check_close(matmul(v, m), view(mm(unsqueeze(v, 0), m), {3}), 1e-12, 1e-12);
  CHECK(matmul(transpose(m, 0, 1), v).shape() == Shape{3});
  // (2, 1, 3, 4) @ (5, 4, 2) broadcasts to (2, 5, 3, 2).
  const Tensor a = pattern({2, 1, 3, 4}, 0.2), b = pattern({5, 4, 2}, 0.6);
  const Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 5, 3, 2});
  check_close(select(select(c, 0, 1), 0, 3),
              mm(select(select(a, 0, 1), 0, 0), select(b, 0, 3)), 1e-12, 1e-12);
  const Tensor z = mm(zeros({3, 0}, {.dtype = DType::f64}), zeros({0, 2}, {.dtype = DType::f64}));
  check_close(z, zeros({3, 2}, {.dtype = DType::f64}));
  CHECK(mm(zeros({0, 4}), zeros({4, 2})).shape() == Shape{0, 2});
}

TEST_CASE("matmul errors name both shapes") {
  CHECK_THROWS_WITH_ALL(mm(zeros({2, 3}), zeros({4, 2})), "mm", "[2, 3]", "[4, 2]", "3 vs 4");
  CHECK_THROWS_WITH_ALL(mm(zeros({2, 3}), zeros({3})), "mm: expected 2-d operands");
  CHECK_THROWS_WITH_ALL(bmm(zeros({2, 2, 3}), zeros({3, 3, 2})), "bmm: batch sizes differ");
  CHECK_THROWS_WITH_ALL(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})), "matmul", "cannot be broadcast");
  CHECK_THROWS_WITH_ALL(matmul(zeros({}), zeros({3})), "0-d operand");
  CHECK_THROWS_WITH_ALL(mm(arange(4), arange(4)), "mm: unsupported dtype i64");
  CHECK_THROWS_WITH_ALL(mm(zeros({2, 2}), zeros({2, 2}, {.dtype = DType::f64})), "dtype mismatch (f32 vs f64)");
}
