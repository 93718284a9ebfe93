#include "ops/random.h"

#include "core/threads.h"
#include "ops/copy.h"
#include "ops/view.h"
#include "tests/helpers.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

using namespace splat;
using namespace splat::ops;
using splat::test::check_equal;
using splat::test::noncontiguous;
using splat::test::to_vector;

namespace {

// The contract of core/philox.h written out naively: element i of a fill that starts at
// counter `offset`.
std::vector<double> ref_uniform_f32(uint64_t seed, uint64_t offset, int64_t n) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i)
    v.push_back((philox_block(seed, offset + i).w[0] >> 8) / 16777216.0);
  return v;
}
std::vector<double> ref_uniform_f64(uint64_t seed, uint64_t offset, int64_t n) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) {
    const PhiloxBlock b = philox_block(seed, offset + i);
    const uint64_t bits = (uint64_t{b.w[1]} << 32 | b.w[0]) >> 11;
    v.push_back(std::ldexp(static_cast<double>(bits), -53));
  }
  return v;
}

struct Moments {
  double mean, var, min, max;
};
Moments moments(const Tensor& t) {
  const auto v = to_vector<double>(t);
  double s = 0, s2 = 0;
  for (double x : v) s += x;
  const double mean = s / static_cast<double>(v.size());
  for (double x : v) s2 += (x - mean) * (x - mean);
  return {mean, s2 / static_cast<double>(v.size() - 1), *std::min_element(v.begin(), v.end()),
          *std::max_element(v.begin(), v.end())};
}

// Restores the thread count however a test exits.
struct ThreadGuard {
  int saved = num_threads();
  ~ThreadGuard() { set_num_threads(saved); }
};

} // namespace

TEST_CASE("rand follows the Philox contract element by element") {
  Generator g(1234);
  g.reserve(17);  // a nonzero starting offset
  const Tensor a = rand({3, 5}, {}, &g);
  CHECK(a.dtype() == DType::f32);
  CHECK(a.shape() == Shape{3, 5});
  CHECK(to_vector<double>(a) == ref_uniform_f32(1234, 17, 15));
  const Tensor b = rand({4}, {.dtype = DType::f64}, &g);
  CHECK(to_vector<double>(b) == ref_uniform_f64(1234, 32, 4));
  CHECK(g.state().offset == 36);

  const Tensor n = randn({6}, {.dtype = DType::f64}, &g);
  const auto nv = to_vector<double>(n);
  for (int64_t i = 0; i < 6; ++i) CHECK(nv[i] == philox_normal(philox_block(1234, 36 + i)));
  const Tensor nf = randn({6}, {}, &g);
  const auto nfv = to_vector<float>(nf);
  for (int64_t i = 0; i < 6; ++i)
    CHECK(nfv[i] == static_cast<float>(philox_normal(philox_block(1234, 42 + i))));

  const Tensor r = randint(-4, 9, {5}, &g);
  CHECK(r.dtype() == DType::i64);
  const auto rv = to_vector<int64_t>(r);
  for (int64_t i = 0; i < 5; ++i) {
    const PhiloxBlock blk = philox_block(1234, 48 + i);
    CHECK(rv[i] == -4 + static_cast<int64_t>((uint64_t{blk.w[1]} << 32 | blk.w[0]) % 13));
  }
}

TEST_CASE("same seed reproduces, other seeds and consecutive calls differ") {
  manual_seed(7);
  const Tensor a = rand({100});
  const Tensor a2 = rand({100});
  manual_seed(7);
  check_equal(rand({100}), a);
  check_equal(rand({100}), a2);
  CHECK(to_vector<float>(a) != to_vector<float>(a2));
  manual_seed(8);
  CHECK(to_vector<float>(rand({100})) != to_vector<float>(a));

  // An explicit generator leaves the default one alone.
  manual_seed(7);
  Generator g(7);
  check_equal(randn({50}, {}, &g), randn({50}));
  CHECK(default_generator().state().offset == 50);
  CHECK(g.state().offset == 50);

  // Zero-size draws take no counters.
  CHECK(rand({0, 3}).shape() == Shape{0, 3});
  CHECK(randint(0, 5, {4, 0}).numel() == 0);
  CHECK(default_generator().state().offset == 50);
  CHECK(rand({}).dim() == 0);
  CHECK(default_generator().state().offset == 51);
}

TEST_CASE("sample moments of 100k draws") {
  Generator g(99);
  const int64_t n = 100000;
  // Tolerances are about five standard errors of each estimate.
  for (DType dt : {DType::f32, DType::f64}) {
    CAPTURE(dt);
    const Moments u = moments(rand({n}, {.dtype = dt}, &g));
    CHECK(u.mean == doctest::Approx(0.5).epsilon(0.01));
    CHECK(u.var == doctest::Approx(1.0 / 12).epsilon(0.02));
    CHECK(u.min >= 0);
    CHECK(u.max < 1);

    const Moments z = moments(randn({n}, {.dtype = dt}, &g));
    CHECK(std::fabs(z.mean) < 0.016);
    CHECK(z.var == doctest::Approx(1.0).epsilon(0.025));
    CHECK(z.min < -3.5);  // the tails are there
    CHECK(z.max > 3.5);

    Tensor t = empty({n}, {.dtype = dt});
    const Moments w = moments(uniform_(t, -2, 6, &g));
    CHECK(w.mean == doctest::Approx(2.0).epsilon(0.01));
    CHECK(w.var == doctest::Approx(64.0 / 12).epsilon(0.02));
    CHECK(w.min >= -2);
    CHECK(w.max < 6);

    const Moments m = moments(normal_(t, 3, 0.5, &g));
    CHECK(m.mean == doctest::Approx(3.0).epsilon(0.003));
    CHECK(m.var == doctest::Approx(0.25).epsilon(0.025));
  }
  // Fraction of |z| < 1 matches the normal CDF (0.6827), a check on the shape beyond 2 moments.
  const auto v = to_vector<double>(randn({n}, {.dtype = DType::f64}, &g));
  const auto inside = std::count_if(v.begin(), v.end(), [](double x) { return std::fabs(x) < 1; });
  CHECK(static_cast<double>(inside) / n == doctest::Approx(0.6827).epsilon(0.01));
}

TEST_CASE("randint stays in range and covers it, for every numeric dtype") {
  Generator g(5);
  for (DType dt : {DType::i64, DType::i32, DType::f32, DType::f64}) {
    CAPTURE(dt);
    const Tensor r = randint(-3, 4, {20000}, {.dtype = dt}, &g);
    CHECK(r.dtype() == dt);
    const auto v = to_vector<int64_t>(r);
    const std::set<int64_t> seen(v.begin(), v.end());
    CHECK(seen == std::set<int64_t>{-3, -2, -1, 0, 1, 2, 3});
    for (int64_t k = -3; k < 4; ++k) {
      const auto c = std::count(v.begin(), v.end(), k);
      CHECK(c == doctest::Approx(20000.0 / 7).epsilon(0.1));
    }
  }
  const auto bytes = to_vector<int>(randint(250, 256, {1000}, {.dtype = DType::u8}, &g));
  CHECK(*std::min_element(bytes.begin(), bytes.end()) == 250);
  CHECK(*std::max_element(bytes.begin(), bytes.end()) == 255);
  // A one-value range, and the full int64 range (high - low overflows int64).
  CHECK(to_vector<int64_t>(randint(9, 10, {5}, &g)) == std::vector<int64_t>(5, 9));
  const auto wide = to_vector<int64_t>(randint(INT64_MIN, INT64_MAX, {1000}, &g));
  CHECK(std::count_if(wide.begin(), wide.end(), [](int64_t x) { return x < 0; }) ==
        doctest::Approx(500).epsilon(0.15));
  CHECK(*std::max_element(wide.begin(), wide.end()) < INT64_MAX);
}

TEST_CASE("randperm is a seed-determined permutation") {
  Generator g(11);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    CAPTURE(n);
    const Tensor p = randperm(n, &g);
    CHECK(p.shape() == Shape{n});
    CHECK(p.dtype() == DType::i64);
    auto v = to_vector<int64_t>(p);
    std::sort(v.begin(), v.end());
    std::vector<int64_t> iota(static_cast<size_t>(n));
    std::iota(iota.begin(), iota.end(), 0);
    CHECK(v == iota);
  }
  // Reference: indices ordered by the 64-bit key of block offset + i.
  Generator h(3);
  h.reserve(5);
  const auto p = to_vector<int64_t>(randperm(50, &h));
  std::vector<int64_t> ref(50);
  std::iota(ref.begin(), ref.end(), 0);
  const auto key = [](int64_t i) {
    const PhiloxBlock b = philox_block(3, 5 + i);
    return uint64_t{b.w[1]} << 32 | b.w[0];
  };
  std::sort(ref.begin(), ref.end(), [&](int64_t a, int64_t b) { return key(a) < key(b); });
  CHECK(p == ref);
  CHECK(h.state().offset == 55);
  CHECK(to_vector<int64_t>(randperm(50, &h)) != p);

  CHECK(to_vector<int>(randperm(256, {.dtype = DType::u8}, &g)).size() == 256);
  const auto pf = to_vector<double>(randperm(10, {.dtype = DType::f32}, &g));
  CHECK(std::set<double>(pf.begin(), pf.end()).size() == 10);
}

TEST_CASE("in-place fills write row-major order into any strides") {
  for (DType dt : {DType::f32, DType::f64}) {
    CAPTURE(dt);
    Generator g1(21), g2(21);
    const Tensor dense = rand({4, 6}, {.dtype = dt}, &g1);

    // Transposed: element i of the (4, 6)-shaped view is the i-th in row-major order.
    Tensor base = zeros({6, 4}, {.dtype = dt});
    Tensor tview = transpose(base, 0, 1);
    const uint64_t v0 = base.storage()->version();
    CHECK(&uniform_(tview, 0, 1, &g2) == &tview);
    CHECK(base.storage()->version() == v0 + 1);
    check_equal(tview, dense);

    // Every other column of a wider buffer: the gaps keep their zeros.
    Tensor strided = noncontiguous(zeros({4, 6}, {.dtype = dt}));
    uniform_(strided, 0, 1, &g1);
    Generator g3(21);
    g3.reserve(24);
    check_equal(strided, rand({4, 6}, {.dtype = dt}, &g3));
    const Tensor gaps = slice(strided.as_strided({4, 12}, {12, 1}, 0), -1, 1, 12, 2);
    CHECK(to_vector<double>(gaps) == std::vector<double>(24, 0.0));

    // A slice of rows and a 0-d element.
    Tensor rows = zeros({5, 3}, {.dtype = dt});
    Tensor mid = slice(rows, 0, 1, 4);
    Generator g4(8), g5(8);
    normal_(mid, 2, 3, &g4);
    Tensor ref = empty({3, 3}, {.dtype = dt});
    check_equal(mid, normal_(ref, 2, 3, &g5));
    CHECK(to_vector<double>(select(rows, 0, 0)) == std::vector<double>(3, 0.0));
    CHECK(to_vector<double>(select(rows, 0, 4)) == std::vector<double>(3, 0.0));
    Tensor elem = select(select(rows, 0, 0), 0, 1);
    normal_(elem, 0, 1, &g4);
    CHECK(to_vector<double>(elem)[0] != 0.0);
    Tensor nothing = zeros({0, 2}, {.dtype = dt});
    uniform_(nothing, 0, 1, &g4);
  }
}

TEST_CASE("random results do not depend on the thread count") {
  ThreadGuard guard;
  const int64_t n = 300000;  // well above the parallel grain
  const auto draw = [&] {
    Generator g(77);
    std::vector<Tensor> out;
    out.push_back(rand({n}, {}, &g));
    out.push_back(randn({n}, {.dtype = DType::f64}, &g));
    out.push_back(randint(0, 1000, {n}, &g));
    out.push_back(randperm(n, &g));
    Tensor t = transpose(zeros({600, n / 600}), 0, 1);
    out.push_back(normal_(t, 0, 1, &g));
    return out;
  };
  set_num_threads(1);
  const auto one = draw();
  set_num_threads(2);
  const auto two = draw();
  set_num_threads(3);
  const auto three = draw();
  for (size_t k = 0; k < one.size(); ++k) {
    CAPTURE(k);
    check_equal(two[k], one[k]);
    check_equal(three[k], one[k]);
  }
}

TEST_CASE("random ops reject bad arguments") {
  CHECK_THROWS_WITH_ALL(rand({2}, {.dtype = DType::i64}),
                        "rand: expected a floating dtype, got i64", "randint");
  CHECK_THROWS_WITH_ALL(randn({2}, {.dtype = DType::b8}),
                        "randn: expected a floating dtype, got bool");
  CHECK_THROWS_WITH_ALL(randint(5, 5, {2}), "randint: high must be greater than low", "low=5",
                        "high=5");
  CHECK_THROWS_WITH_ALL(randint(5, 3, {2}), "low=5", "high=3");
  CHECK_THROWS_WITH_ALL(randint(0, 300, {2}, {.dtype = DType::u8}), "randint: values in [0, 300)",
                        "do not fit dtype u8", "[0, 255]");
  CHECK_THROWS_WITH_ALL(randint(-1, 3, {2}, {.dtype = DType::u8}), "[-1, 3)", "u8");
  CHECK_THROWS_WITH_ALL(randint(0, (1ll << 31) + 1, {2}, {.dtype = DType::i32}), "dtype i32",
                        "2147483647");
  CHECK_THROWS_WITH_ALL(randint(0, (1 << 24) + 2, {2}, {.dtype = DType::f32}), "dtype f32",
                        "16777216");
  CHECK_THROWS_WITH_ALL(randint(0, 2, {2}, {.dtype = DType::b8}),
                        "randint: unsupported dtype bool");
  CHECK_THROWS_WITH_ALL(randperm(-1), "randperm: n must be non-negative, got -1");
  CHECK_THROWS_WITH_ALL(randperm(257, {.dtype = DType::u8}), "randperm", "[0, 257)", "u8");
  CHECK_THROWS_WITH_ALL(randperm(0, {.dtype = DType::b8}), "randperm: unsupported dtype bool");

  Tensor f = zeros({3});
  CHECK_THROWS_WITH_ALL(uniform_(f, 2, 1), "uniform_: expected lo <= hi", "lo=2", "hi=1");
  CHECK_THROWS_WITH_ALL(uniform_(f, 0, INFINITY), "uniform_: bounds must be finite", "hi=inf");
  CHECK_THROWS_WITH_ALL(uniform_(f, -1e308, 1e308), "finite difference");
  CHECK_THROWS_WITH_ALL(normal_(f, 0, -1), "normal_: std must be non-negative, got -1");
  CHECK_THROWS_WITH_ALL(normal_(f, NAN, 1), "normal_: mean and std must be finite", "mean=nan");
  Tensor i = zeros({3}, {.dtype = DType::i32});
  CHECK_THROWS_WITH_ALL(uniform_(i), "uniform_: expected a floating dtype, got i32");
  CHECK_THROWS_WITH_ALL(normal_(i), "normal_: expected a floating dtype, got i32");
  Tensor wide = expand(zeros({1, 3}), {4, 3});
  CHECK_THROWS_WITH_ALL(uniform_(wide), "uniform_: cannot write in place", "dim 0", "expanded");
  CHECK_THROWS_WITH_ALL(normal_(wide), "normal_: cannot write in place");
  Tensor undefined;
  CHECK_THROWS_WITH_ALL(normal_(undefined), "normal_: argument 0 is an undefined tensor");
  // A rejected call draws nothing.
  Generator g(1);
  CHECK_THROWS_WITH_ALL(normal_(f, 0, -1, &g), "std");
  CHECK(g.state().offset == 0);
  CHECK(f.storage()->version() == 1);  // only zeros()'s fill
}
