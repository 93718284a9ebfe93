#include "ops/copy.h"
#include "ops/scan.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <cstdint>
#include <vector>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::check_equal;
using splat::test::noncontiguous;
using splat::test::to_vector;

namespace {

// Small signed values with a fractional part, so float sums are exact and orders matter.
Tensor filled(Shape s) {
  std::vector<double> v(static_cast<size_t>(numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((i * 7) % 11) - 5 + 0.25;
  return from_vector<double>(v, std::move(s));
}

// cumsum of a 3-d tensor along dim by explicit index loops.
Tensor ref_cumsum3(const Tensor& x, int64_t dim) {
  const auto v = to_vector<double>(x);
  const int64_t a = x.shape()[0], b = x.shape()[1], c = x.shape()[2];
  std::vector<double> out(v.size());
  const auto at = [&](int64_t i, int64_t j, int64_t k) { return (i * b + j) * c + k; };
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < c; ++k) {
        double prev = 0;
        if (dim == 0 && i > 0) prev = out[at(i - 1, j, k)];
        if (dim == 1 && j > 0) prev = out[at(i, j - 1, k)];
        if (dim == 2 && k > 0) prev = out[at(i, j, k - 1)];
        out[at(i, j, k)] = prev + v[at(i, j, k)];
      }
  return from_vector<double>(out, x.shape());
}

} // namespace

TEST_CASE("cumsum along every dim matches index loops, on any strides") {
  const Tensor x = filled({3, 4, 5});
  for (int64_t dim = 0; dim < 3; ++dim) {
    CAPTURE(dim);
    const Tensor e = ref_cumsum3(x, dim);
    check_close(cumsum(x, dim), e, 0, 0);
    check_close(cumsum(x, dim - 3), e, 0, 0);
    check_close(cumsum(noncontiguous(x), dim), e, 0, 0);
    const Tensor y = cumsum(to(x, DType::f32), dim);
    CHECK(y.dtype() == DType::f32);
    check_close(y, e, 0, 0);
  }
  // A permuted input: the result has the view's shape and is contiguous.
  const Tensor p = permute(x, {2, 0, 1});  // (5, 3, 4)
  const Tensor pc = contiguous(p);
  for (int64_t dim = 0; dim < 3; ++dim) {
    const Tensor r = cumsum(p, dim);
    CHECK(r.is_contiguous());
    check_close(r, ref_cumsum3(pc, dim), 0, 0);
  }
  // Expanded (stride 0) along the scanned dim and across it.
  const Tensor e = expand(from_vector<double>({1, 2}, {2, 1, 1}), {2, 3, 4});
  for (int64_t dim = 0; dim < 3; ++dim)
    check_close(cumsum(e, dim), ref_cumsum3(contiguous(e), dim), 0, 0);
  // Large enough to split over threads, along the outer and the inner dim.
  const Tensor big = filled({2, 300, 200});
  for (int64_t dim = 0; dim < 3; ++dim)
    check_close(cumsum(transpose(big, 1, 2), dim),
                ref_cumsum3(contiguous(transpose(big, 1, 2)), dim), 0, 0);
}

TEST_CASE("cumsum of integral and bool tensors yields i64") {
  const Tensor i = from_vector<int32_t>({2000000000, 2000000000, -5, 7}, {2, 2});
  const Tensor r = cumsum(i, 0);
  CHECK(r.dtype() == DType::i64);
  CHECK(to_vector<int64_t>(r) ==
        std::vector<int64_t>{2000000000, 2000000000, 1999999995, 2000000007});
  check_equal(cumsum(transpose(i, 0, 1), 1),
              from_vector<int64_t>({2000000000, 1999999995, 2000000000, 2000000007}, {2, 2}));
  const Tensor u = from_vector<uint8_t>({200, 100, 255}, {3});
  check_equal(cumsum(u, 0), from_vector<int64_t>({200, 300, 555}, {3}));
  const Tensor b = from_vector<bool>({true, false, true, true}, {4});
  check_equal(cumsum(b, -1), from_vector<int64_t>({1, 1, 2, 3}, {4}));
  const Tensor l = from_vector<int64_t>({-3, 4}, {2});
  check_equal(cumsum(noncontiguous(l), 0), from_vector<int64_t>({-3, 1}, {2}));
}

TEST_CASE("cumsum accumulates f32 in double") {
  const Tensor x = from_vector<float>({1e8f, 1, 1, 1, 1, -1e8f}, {6});
  const auto r = to_vector<double>(cumsum(x, 0));
  CHECK(r.back() == 4.0);  // a float accumulator would lose every +1 and end at 0
}

TEST_CASE("cumsum on zero-size and 0-d tensors") {
  for (Shape s : {Shape{0, 3}, Shape{3, 0}, Shape{0}}) {
    const Tensor z = zeros(s, {.dtype = DType::i32});
    for (int64_t dim = 0; dim < z.dim(); ++dim) {
      const Tensor r = cumsum(z, dim);
      CHECK(r.shape() == s);
      CHECK(r.dtype() == DType::i64);
    }
  }
  for (int64_t dim : {0, -1}) {
    const Tensor r = cumsum(scalar_tensor(2.5), dim);
    CHECK(r.shape() == Shape{});
    CHECK(r.item<double>() == 2.5);
  }
}

TEST_CASE("cumsum reports bad arguments") {
  CHECK_THROWS_WITH_ALL(cumsum(zeros({2, 3}), 2), "cumsum: dim 2 out of range for a 2-d tensor",
                        "-2 to 1");
  CHECK_THROWS_WITH_ALL(cumsum(zeros({2, 3}), -3), "cumsum: dim -3 out of range");
  CHECK_THROWS_WITH_ALL(cumsum(scalar_tensor(1), 1), "cumsum: dim 1 out of range for a 0-d tensor");
  const Tensor undefined;
  CHECK_THROWS_WITH_ALL(cumsum(undefined, 0), "cumsum: argument 0 is an undefined tensor");
}
