#include "ops/copy.h"
#include "ops/sort.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::check_equal;
using splat::test::noncontiguous;
using splat::test::to_vector;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Tensor vec(std::vector<double> v, Shape s) { return from_vector<double>(v, std::move(s)); }
Tensor ivec(std::vector<int64_t> v, Shape s) { return from_vector<int64_t>(v, std::move(s)); }

// Deterministic pseudo-random integers in [0, range): plenty of duplicates for small ranges.
std::vector<double> random_values(int64_t n, int64_t range, uint64_t seed) {
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& e : v) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    e = static_cast<double>((seed >> 33) % static_cast<uint64_t>(range));
  }
  return v;
}

// a comes strictly before b in the documented order (NaN above every number).
bool strictly_before(double a, double b, bool descending) {
  if (std::isnan(a) || std::isnan(b)) return descending ? !std::isnan(b) : !std::isnan(a);
  return descending ? a > b : a < b;
}

// The positions of the first k elements of v in sort order, by repeated selection: each step
// takes the lowest-index element that nothing remaining strictly precedes.
std::vector<int64_t> ref_order(const std::vector<double>& v, bool descending, size_t k) {
  std::vector<bool> used(v.size(), false);
  std::vector<int64_t> order;
  while (order.size() < k) {
    int64_t best = -1;
    for (size_t i = 0; i < v.size(); ++i)
      if (!used[i] && (best < 0 || strictly_before(v[i], v[best], descending)))
        best = static_cast<int64_t>(i);
    used[best] = true;
    order.push_back(best);
  }
  return order;
}

struct Expected {
  Tensor values;   // f64
  Tensor indices;  // i64
};

// The reference result of sort (k = size along dim) or topk along dim of x, slice by slice.
Expected ref_sort(const Tensor& x, int64_t dim, bool descending, int64_t k,
                  bool index_order = false) {
  const auto v = to_vector<double>(x);
  const Shape& s = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= s[d];
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= s[d];
  const int64_t n = s[dim];
  Shape os = s;
  os[dim] = k;
  std::vector<double> ov(static_cast<size_t>(outer * k * inner));
  std::vector<int64_t> oi(ov.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      std::vector<double> slice;
      for (int64_t i = 0; i < n; ++i) slice.push_back(v[(o * n + i) * inner + in]);
      auto order = ref_order(slice, descending, static_cast<size_t>(k));
      if (index_order) std::sort(order.begin(), order.end());
      for (int64_t j = 0; j < k; ++j) {
        ov[(o * k + j) * inner + in] = slice[order[j]];
        oi[(o * k + j) * inner + in] = order[j];
      }
    }
  return {vec(ov, os), ivec(oi, os)};
}

void check_result(const SortResult& r, const Expected& e, DType dtype) {
  CHECK(r.values.dtype() == dtype);
  CHECK(r.values.is_contiguous());
  check_equal(r.indices, e.indices);
  check_close(to(r.values, DType::f64), e.values, 0, 0);
}

} // namespace

TEST_CASE("sort is stable with many duplicates, ascending and descending, every dtype") {
  const auto v = random_values(300, 5, 7);
  for (DType dt : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8}) {
    CAPTURE(dt);
    const Tensor x = to(vec(v, {300}), dt);
    for (bool desc : {false, true}) {
      CAPTURE(desc);
      check_result(sort(x, 0, desc), ref_sort(x, 0, desc, 300), dt);
      check_equal(argsort(x, -1, desc), ref_sort(x, 0, desc, 300).indices);
    }
  }
  // Bool: stable partition of false before true (or after, descending).
  const Tensor b = to(vec({1, 0, 1, 1, 0, 0, 1}, {7}), DType::b8);
  const SortResult sb = sort(b);
  CHECK(sb.values.dtype() == DType::b8);
  CHECK(to_vector<int>(sb.values) == std::vector<int>{0, 0, 0, 1, 1, 1, 1});
  CHECK(to_vector<int64_t>(sb.indices) == std::vector<int64_t>{1, 4, 5, 0, 2, 3, 6});
  CHECK(to_vector<int64_t>(sort(b, 0, true).indices) == std::vector<int64_t>{0, 2, 3, 6, 1, 4, 5});
}

TEST_CASE("sort puts NaN last ascending and first descending, ties kept in index order") {
  const Tensor x = vec({3, kNaN, 1, -0.0, kNaN, 0.0, -kInf, kInf}, {8});
  for (DType dt : {DType::f64, DType::f32}) {
    CAPTURE(dt);
    const SortResult a = sort(to(x, dt));
    check_close(to(a.values, DType::f64), vec({-kInf, 0, 0, 1, 3, kInf, kNaN, kNaN}, {8}), 0, 0);
    CHECK(to_vector<int64_t>(a.indices) == std::vector<int64_t>{6, 3, 5, 2, 0, 7, 1, 4});
    const SortResult d = sort(to(x, dt), 0, true);
    check_close(to(d.values, DType::f64), vec({kNaN, kNaN, kInf, 3, 1, 0, 0, -kInf}, {8}), 0, 0);
    CHECK(to_vector<int64_t>(d.indices) == std::vector<int64_t>{1, 4, 7, 0, 2, 3, 5, 6});
  }
  // All NaN, and NaNs among duplicates against the reference.
  CHECK(to_vector<int64_t>(sort(vec({kNaN, kNaN, kNaN}, {3}), 0, true).indices) ==
        std::vector<int64_t>{0, 1, 2});
  auto v = random_values(100, 4, 3);
  for (size_t i = 0; i < v.size(); i += 7) v[i] = kNaN;
  const Tensor y = vec(v, {100});
  for (bool desc : {false, true})
    check_result(sort(y, 0, desc), ref_sort(y, 0, desc, 100), DType::f64);
}

TEST_CASE("sort along every dim of contiguous, transposed, strided and expanded tensors") {
  const Tensor x = vec(random_values(3 * 4 * 5, 6, 11), {3, 4, 5});
  for (int64_t dim = 0; dim < 3; ++dim)
    for (bool desc : {false, true}) {
      CAPTURE(dim);
      CAPTURE(desc);
      const Expected e = ref_sort(x, dim, desc, x.shape()[dim]);
      check_result(sort(x, dim, desc), e, DType::f64);
      check_result(sort(x, dim - 3, desc), e, DType::f64);
      check_result(sort(noncontiguous(x), dim, desc), e, DType::f64);
    }
  // Dim 0 of a transposed matrix walks the input's contiguous rows.
  const Tensor m = transpose(vec(random_values(6 * 9, 4, 5), {6, 9}), 0, 1);  // (9, 6)
  const Tensor mc = contiguous(m);
  for (bool desc : {false, true}) {
    check_result(sort(m, 0, desc), ref_sort(mc, 0, desc, 9), DType::f64);
    check_result(sort(m, 1, desc), ref_sort(mc, 1, desc, 6), DType::f64);
  }
  // Expanded (stride 0) along the sorted dim: all equal, so indices are 0..n-1.
  const Tensor e = expand(vec({2, 1}, {2, 1}), {2, 4});
  check_result(sort(e, 1, true), ref_sort(contiguous(e), 1, true, 4), DType::f64);
  check_result(sort(e, 0), ref_sort(contiguous(e), 0, false, 2), DType::f64);
  // Large enough to run the slices on several threads.
  const Tensor big = vec(random_values(64 * 700, 50, 13), {64, 700});
  check_result(sort(big, 1), ref_sort(big, 1, false, 700), DType::f64);
  check_result(sort(transpose(big, 0, 1), 0, true),
               ref_sort(contiguous(transpose(big, 0, 1)), 0, true, 700), DType::f64);
}

TEST_CASE("sort, argsort and topk on zero-size and 0-d tensors") {
  for (Shape s : {Shape{0, 3}, Shape{3, 0}, Shape{0}}) {
    CAPTURE(shape_str(s));
    const Tensor z = zeros(s);
    for (int64_t dim = 0; dim < z.dim(); ++dim) {
      const SortResult r = sort(z, dim);
      CHECK(r.values.shape() == s);
      CHECK(r.indices.shape() == s);
      CHECK(r.indices.dtype() == DType::i64);
      CHECK(argsort(z, dim, true).shape() == s);
      const SortResult t = topk(z, 0, dim);
      Shape ts = s;
      ts[dim] = 0;
      CHECK(t.values.shape() == ts);
    }
  }
  // k = 2 of a (0, 3) tensor along dim 1: no slices, shape (0, 2).
  CHECK(topk(zeros({0, 3}), 2, 1).indices.shape() == Shape{0, 2});

  const Tensor s = scalar_tensor(4.5);
  for (int64_t dim : {0, -1}) {
    const SortResult r = sort(s, dim, true);
    CHECK(r.values.shape() == Shape{});
    CHECK(r.values.item<double>() == 4.5);
    CHECK(r.indices.item<int64_t>() == 0);
    CHECK(argsort(s, dim).shape() == Shape{});
  }
  const SortResult t1 = topk(s, 1);
  CHECK(t1.values.shape() == Shape{});
  CHECK(t1.values.item<double>() == 4.5);
  CHECK(t1.indices.item<int64_t>() == 0);
  CHECK(topk(s, 0).values.shape() == Shape{0});
}

TEST_CASE("topk: ties go to the lower index; k = 0 and k = n") {
  const Tensor x = ivec({1, 3, 3, 2, 3, 1}, {6});
  SortResult r = topk(x, 3);
  CHECK(to_vector<int64_t>(r.values) == std::vector<int64_t>{3, 3, 3});
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{1, 2, 4});
  r = topk(x, 2);  // the third 3 (index 4) loses the tie
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{1, 2});
  r = topk(x, 3, 0, /*largest=*/false);
  CHECK(to_vector<int64_t>(r.values) == std::vector<int64_t>{1, 1, 2});
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{0, 5, 3});
  r = topk(x, 1, -1, false);
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{0});

  r = topk(x, 0);
  CHECK(r.values.shape() == Shape{0});
  CHECK(r.values.dtype() == DType::i64);
  CHECK(r.indices.shape() == Shape{0});
  for (bool largest : {true, false}) {
    const SortResult all = topk(x, 6, 0, largest);
    const SortResult s = sort(x, 0, largest);
    check_equal(all.values, s.values);
    check_equal(all.indices, s.indices);
  }

  // sorted = false: the same elements, in index order.
  const Tensor y = vec({4, 1, 5, 5}, {4});
  r = topk(y, 2);
  CHECK(to_vector<double>(r.values) == std::vector<double>{5, 5});
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{2, 3});
  r = topk(y, 3);
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{2, 3, 0});
  r = topk(y, 3, 0, true, /*sorted=*/false);
  CHECK(to_vector<double>(r.values) == std::vector<double>{4, 5, 5});
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{0, 2, 3});

  // NaN counts as the largest value.
  const Tensor z = vec({1, kNaN, 3, kNaN}, {4});
  r = topk(z, 3);
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{1, 3, 2});
  r = topk(z, 3, 0, false);
  CHECK(to_vector<int64_t>(r.indices) == std::vector<int64_t>{0, 2, 1});
}

TEST_CASE("topk matches the reference for small and large k along any dim") {
  const Tensor x = vec(random_values(7 * 500, 40, 17), {7, 500});
  auto v = to_vector<double>(x);
  for (size_t i = 0; i < v.size(); i += 97) v[i] = kNaN;
  const Tensor xn = vec(v, {7, 500});
  for (int64_t k : {1, 5, 60, 250, 499, 500})
    for (bool largest : {true, false})
      for (bool sorted : {true, false}) {
        CAPTURE(k);
        CAPTURE(largest);
        CAPTURE(sorted);
        check_result(topk(xn, k, 1, largest, sorted), ref_sort(xn, 1, largest, k, !sorted),
                     DType::f64);
        // The same data as columns of a transposed (non-contiguous) f32 tensor.
        const Tensor t = transpose(to(xn, DType::f32), 0, 1);
        const Expected e = ref_sort(xn, 1, largest, k, !sorted);
        check_result(topk(t, k, 0, largest, sorted),
                     {transpose(e.values, 0, 1), transpose(e.indices, 0, 1)}, DType::f32);
      }
  const Tensor i = to(x, DType::i32);
  check_result(topk(noncontiguous(i), 10, -1), ref_sort(x, 1, true, 10), DType::i32);
}

TEST_CASE("unique of an int tensor, with inverse and counts") {
  const Tensor x = ivec({3, 1, 2, 3, 1, 1}, {2, 3});
  const UniqueResult u = unique(x, true, true);
  check_equal(u.values, ivec({1, 2, 3}, {3}));
  check_equal(u.counts, ivec({3, 1, 2}, {3}));
  check_equal(u.inverse, ivec({2, 0, 1, 2, 0, 0}, {2, 3}));

  const UniqueResult only = unique(x);
  check_equal(only.values, ivec({1, 2, 3}, {3}));
  CHECK_FALSE(only.inverse.defined());
  CHECK_FALSE(only.counts.defined());
  CHECK_FALSE(unique(x, true).counts.defined());
  CHECK_FALSE(unique(x, false, true).inverse.defined());

  // A transposed input: inverse has the view's shape and follows its element order.
  const UniqueResult t = unique(transpose(to(x, DType::i32), 0, 1), true, true);
  CHECK(t.values.dtype() == DType::i32);
  CHECK(to_vector<int64_t>(t.values) == std::vector<int64_t>{1, 2, 3});
  check_equal(t.inverse, ivec({2, 2, 0, 0, 1, 0}, {3, 2}));

  // Against a std::set reference on random data: values[inverse] == x and counts add up.
  const Tensor r = to(vec(random_values(1000, 37, 23), {10, 100}), DType::i64);
  const UniqueResult ur = unique(noncontiguous(r), true, true);
  const auto rv = to_vector<int64_t>(r);
  const std::set<int64_t> ref(rv.begin(), rv.end());
  CHECK(to_vector<int64_t>(ur.values) == std::vector<int64_t>(ref.begin(), ref.end()));
  const auto vals = to_vector<int64_t>(ur.values);
  const auto inv = to_vector<int64_t>(ur.inverse);
  auto counts = std::vector<int64_t>(vals.size(), 0);
  for (size_t i = 0; i < rv.size(); ++i) {
    REQUIRE(inv[i] >= 0);
    REQUIRE(inv[i] < static_cast<int64_t>(vals.size()));
    CHECK(vals[inv[i]] == rv[i]);
    ++counts[inv[i]];
  }
  CHECK(to_vector<int64_t>(ur.counts) == counts);
}

TEST_CASE("unique of float, bool, zero-size and 0-d tensors") {
  const Tensor x = vec({2.5, kNaN, -1, 2.5, kNaN, -0.0, 0.0}, {7});
  for (DType dt : {DType::f64, DType::f32}) {
    CAPTURE(dt);
    const UniqueResult u = unique(to(x, dt), true, true);
    CHECK(u.values.dtype() == dt);
    // Every NaN is distinct; -0.0 and 0.0 are one value.
    check_close(to(u.values, DType::f64), vec({-1, 0, 2.5, kNaN, kNaN}, {5}), 0, 0);
    check_equal(u.counts, ivec({1, 2, 2, 1, 1}, {5}));
    check_equal(u.inverse, ivec({2, 3, 0, 2, 4, 1, 1}, {7}));
  }
  const UniqueResult b = unique(to(vec({1, 1, 0, 1}, {2, 2}), DType::b8), true, true);
  CHECK(to_vector<int>(b.values) == std::vector<int>{0, 1});
  check_equal(b.counts, ivec({1, 3}, {2}));
  check_equal(b.inverse, ivec({1, 1, 0, 1}, {2, 2}));

  const UniqueResult z = unique(zeros({3, 0}), true, true);
  CHECK(z.values.shape() == Shape{0});
  CHECK(z.counts.shape() == Shape{0});
  CHECK(z.inverse.shape() == Shape{3, 0});

  const UniqueResult s = unique(scalar_tensor(7, {.dtype = DType::u8}), true, true);
  CHECK(to_vector<int>(s.values) == std::vector<int>{7});
  check_equal(s.counts, ivec({1}, {1}));
  CHECK(s.inverse.shape() == Shape{});
  CHECK(s.inverse.item<int64_t>() == 0);
}

TEST_CASE("sort, argsort, topk and unique report bad arguments") {
  const Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_ALL(sort(x, 2), "sort: dim 2 out of range for a 2-d tensor", "-2 to 1");
  CHECK_THROWS_WITH_ALL(sort(x, -3), "sort: dim -3 out of range");
  CHECK_THROWS_WITH_ALL(sort(scalar_tensor(1), 1), "sort: dim 1 out of range for a 0-d tensor");
  CHECK_THROWS_WITH_ALL(argsort(x, 5, true), "argsort: dim 5 out of range for a 2-d tensor");
  CHECK_THROWS_WITH_ALL(topk(x, 1, 2), "topk: dim 2 out of range for a 2-d tensor");
  CHECK_THROWS_WITH_ALL(topk(x, 4), "topk: k = 4 out of range for dim -1 of size 3", "[2, 3]",
                        "0 <= k <= 3");
  CHECK_THROWS_WITH_ALL(topk(x, -1, 0), "topk: k = -1 out of range for dim 0 of size 2");
  CHECK_THROWS_WITH_ALL(topk(scalar_tensor(1), 2), "topk: k = 2", "of size 1");
  CHECK_THROWS_WITH_ALL(topk(zeros({0, 3}), 1, 0), "topk: k = 1 out of range for dim 0 of size 0");
  const Tensor undefined;
  CHECK_THROWS_WITH_ALL(sort(undefined), "sort: argument 0 is an undefined tensor");
  CHECK_THROWS_WITH_ALL(unique(undefined), "unique: argument 0 is an undefined tensor");
}
