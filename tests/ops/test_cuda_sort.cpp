// CUDA sort, scan and random kernels: exact parity with the CPU kernels for sort, argsort, topk
// and unique (stability, NaN, ties, k = 0 and k = n, slices long enough for the multi-block
// merge passes), cumsum parity on every strategy of ops/cuda/scan.cu, backward parity and
// gradcheck on the emulated device, and bit-identical Philox draws on both devices.
#include "ops/flip.h"
#include "ops/random.h"
#include "ops/scan.h"
#include "ops/sort.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/ops/cuda_parity.h"

#include <cmath>
#include <limits>

using namespace splat;
using namespace splat::ops;
using splat::test::check_cuda_parity;
using splat::test::check_equal;
using splat::test::kCuda;
using splat::test::leaf;
using splat::test::TensorFn;
using splat::test::to_vector;
using In = std::vector<Tensor>;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// A (CPU) tensor of n values drawn from `pool` by a fixed LCG: many duplicates for small pools.
Tensor pick(const std::vector<double>& pool, Shape shape, DType dtype, uint64_t seed = 1) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& e : v) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    e = pool[(seed >> 33) % pool.size()];
    if (dtype == DType::u8) e = std::fabs(e); // negative doubles have no u8 value
  }
  return ops::to(from_vector<double>(v, std::move(shape)), dtype);
}

// The integers 0..range-1 as a pool.
std::vector<double> ints(int range) {
  std::vector<double> v;
  for (int i = 0; i < range; ++i) v.push_back(i - range / 2);
  return v;
}

const std::vector<double> kSpecial = {kNaN, -0.0, 0.0, 1.0, -1.0, kInf, -kInf, 2.5, kNaN, 0.0};

const DType kAllDTypes[] = {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8, DType::b8};

// Exact CPU parity of fn (outputs compared with zero tolerance).
void check_exact(const TensorFn& fn, const Tensor& x) { check_cuda_parity(fn, {x}, 0, 0); }

TensorFn sort_fn(int64_t dim, bool descending) {
  return [=](const In& in) {
    const SortResult r = sort(in[0], dim, descending);
    return In{r.values, r.indices};
  };
}

TensorFn topk_fn(int64_t k, int64_t dim, bool largest, bool sorted) {
  return [=](const In& in) {
    const SortResult r = topk(in[0], k, dim, largest, sorted);
    return In{r.values, r.indices};
  };
}

} // namespace

TEST_SUITE_BEGIN("cuda sort" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("cuda sort: stable with many duplicates, both directions, every dtype") {
  for (DType dt : kAllDTypes) {
    CAPTURE(dt);
    for (bool desc : {false, true}) {
      CAPTURE(desc);
      const Tensor small = pick(ints(7), {6, 37}, dt);
      check_exact(sort_fn(-1, desc), small);
      check_exact(sort_fn(0, desc), small);
      // One slice longer than a tile (2048 pairs): tile sort plus two merge passes.
      check_exact(sort_fn(0, desc), pick(ints(9), {4500}, dt, 2));
    }
  }
}

TEST_CASE("cuda sort: long slices along inner and outer dims, strided and reversed views") {
  for (bool desc : {false, true}) {
    CAPTURE(desc);
    const Tensor x = pick(ints(50), {3, 2500}, DType::f32, 3);
    check_exact(sort_fn(1, desc), x);
    check_exact([=](const In& in) { return sort_fn(0, desc)({transpose(in[0], 0, 1)}); }, x);
    check_exact([=](const In& in) { return sort_fn(1, desc)({slice(in[0], 1, 1, 2500, 2)}); }, x);
    check_exact([=](const In& in) { return sort_fn(1, desc)({flip(in[0], {1})}); }, x);
    // Many short slices share a tile; a 3-d view with a middle sort dim.
    const Tensor y = pick(ints(5), {4, 9, 6}, DType::i32, 4);
    check_exact(sort_fn(1, desc), y);
    check_exact([=](const In& in) { return sort_fn(2, desc)({permute(in[0], {2, 0, 1})}); }, y);
  }
}

TEST_CASE("cuda sort: NaN largest, -0.0 equal to 0.0, ties in index order") {
  for (DType dt : {DType::f32, DType::f64}) {
    CAPTURE(dt);
    for (bool desc : {false, true}) {
      check_exact(sort_fn(-1, desc), pick(kSpecial, {5, 40}, dt, 5));
      check_exact(sort_fn(-1, desc), pick(kSpecial, {3000}, dt, 6));
      check_exact([=](const In& in) { return In{argsort(in[0], 0, desc)}; },
                  pick(kSpecial, {2100, 2}, dt, 7));
    }
  }
  // Known answer: NaNs last ascending in index order, -0.0 and 0.0 in index order.
  const Tensor x = ops::to(from_vector<double>({kNaN, 0.0, -0.0, 1.0, kNaN, -1.0}, {6}), kCuda);
  CHECK(to_vector<int64_t>(argsort(x)) == std::vector<int64_t>{5, 1, 2, 3, 0, 4});
  CHECK(to_vector<int64_t>(argsort(x, 0, true)) == std::vector<int64_t>{0, 4, 3, 1, 2, 5});
}

TEST_CASE("cuda argsort, sort: zero-size and 0-d tensors") {
  check_exact(sort_fn(0, false), ops::zeros({0, 3}));
  check_exact(sort_fn(1, true), ops::zeros({0, 3}));
  check_exact(sort_fn(0, false), ops::zeros({3, 0}));
  check_exact(sort_fn(0, false), from_vector<double>({2.5}, {}));
  check_exact([](const In& in) { return In{argsort(in[0], -1)}; },
              ops::zeros({2, 0}, {.dtype = DType::i64}));
}

TEST_CASE("cuda topk: ties, k = 0, k = n, sorted and unsorted, largest and smallest") {
  const Tensor x = pick(ints(6), {7, 50}, DType::f32, 8);
  const Tensor special = pick(kSpecial, {4, 60}, DType::f64, 9);
  for (bool largest : {true, false}) {
    for (bool sorted : {true, false}) {
      CAPTURE(largest);
      CAPTURE(sorted);
      for (int64_t k : {0, 1, 13, 50}) {
        CAPTURE(k);
        check_exact(topk_fn(k, -1, largest, sorted), x);
        check_exact(
            [=](const In& in) { return topk_fn(k, 0, largest, sorted)({transpose(in[0], 0, 1)}); },
            x);
      }
      check_exact(topk_fn(20, 1, largest, sorted), special);
      check_exact(topk_fn(3, 0, largest, sorted), special);
      check_exact(topk_fn(1, 0, largest, sorted), from_vector<double>({1.5}, {}));
      check_exact(topk_fn(0, 0, largest, sorted), from_vector<double>({1.5}, {}));
      check_exact(topk_fn(0, 1, largest, sorted), ops::zeros({2, 0}));
    }
  }
}

TEST_CASE("cuda topk: long slices through the merge passes") {
  const Tensor x = pick(ints(300), {2, 4200}, DType::f32, 10);
  for (bool sorted : {true, false}) {
    CAPTURE(sorted);
    for (int64_t k : {1, 100, 2048, 3000, 4200}) {
      CAPTURE(k);
      check_exact(topk_fn(k, 1, true, sorted), x);
    }
    check_exact(
        [=](const In& in) { return topk_fn(500, 0, false, sorted)({transpose(in[0], 0, 1)}); }, x);
  }
  check_exact(topk_fn(2500, 0, true, false), pick(ints(40), {5000}, DType::i64, 11));
}

TEST_CASE("cuda unique: values, inverse and counts match the CPU") {
  const auto unique_fn = [](bool inverse, bool counts) {
    return TensorFn([=](const In& in) {
      const UniqueResult r = unique(in[0], inverse, counts);
      In out{r.values};
      if (inverse) out.push_back(r.inverse);
      if (counts) out.push_back(r.counts);
      return out;
    });
  };
  for (DType dt : kAllDTypes) {
    CAPTURE(dt);
    check_exact(unique_fn(true, true), pick(ints(9), {6, 11}, dt, 12));
  }
  for (bool inverse : {false, true})
    for (bool counts : {false, true}) {
      // Long enough for the merge passes and the chunked cumsum that numbers the runs.
      check_exact(unique_fn(inverse, counts), pick(ints(300), {9000}, DType::i32, 13));
      check_exact(unique_fn(inverse, counts), pick(kSpecial, {3, 700}, DType::f32, 14));
    }
  check_exact([=](const In& in) { return unique_fn(true, true)({transpose(in[0], 0, 1)}); },
              pick(ints(4), {5, 8}, DType::i64, 15));
  check_exact(unique_fn(true, true), ops::zeros({0, 4}));
  check_exact(unique_fn(true, true), from_vector<double>({3.0}, {}));
  // Every NaN is its own value, last.
  const UniqueResult r =
      unique(ops::to(from_vector<double>({kNaN, 1.0, kNaN, -0.0, 0.0}, {5}), kCuda), true, true);
  CHECK(to_vector<int64_t>(r.counts) == std::vector<int64_t>{2, 1, 1, 1});
  CHECK(to_vector<int64_t>(r.inverse) == std::vector<int64_t>{2, 1, 3, 0, 0});
}

TEST_CASE("cuda cumsum: every strategy, any dim and strides, integral inputs give i64") {
  const auto cumsum_fn = [](int64_t dim) {
    return test::single([=](const In& in) { return cumsum(in[0], dim); });
  };
  // One block per slice, along inner and outer dims and through views.
  const Tensor x = leaf({5, 300}, -1, 1);
  for (int64_t dim : {0, 1, -1}) check_cuda_parity(cumsum_fn(dim), {x}, 1e-12, 1e-12);
  check_cuda_parity(test::single([](const In& in) { return cumsum(transpose(in[0], 0, 1), 1); }),
                    {x}, 1e-12, 1e-12);
  check_cuda_parity(
      test::single([](const In& in) { return cumsum(slice(in[0], 1, 0, 300, 3), 1); }), {x}, 1e-12,
      1e-12);
  check_cuda_parity(test::single([](const In& in) { return cumsum(flip(in[0], {1}), 1); }), {x},
                    1e-12, 1e-12);
  check_cuda_parity(cumsum_fn(1), {leaf({2, 3, 4})}, 1e-12, 1e-12);
  // Many strided or short slices: one thread each.
  check_cuda_parity(cumsum_fn(0), {leaf({7, 1100})}, 1e-12, 1e-12);
  check_cuda_parity(cumsum_fn(1), {leaf({1100, 7})}, 1e-12, 1e-12);
  // Few long slices: chunks scanned by separate blocks from their carries.
  check_cuda_parity(cumsum_fn(0), {leaf({20000})}, 1e-10, 1e-10);
  check_cuda_parity(cumsum_fn(1), {leaf({2, 17000})}, 1e-10, 1e-10);
  check_cuda_parity(cumsum_fn(0), {ops::to(leaf({17000}).detach(), DType::f32)}, 1e-5, 1e-5);
  // Integral and bool inputs are exact.
  for (DType dt : {DType::i32, DType::i64, DType::u8, DType::b8}) {
    CAPTURE(dt);
    const Tensor i = pick(ints(200), {3, 450}, dt, 16);
    check_exact(cumsum_fn(1), i);
    check_exact(cumsum_fn(0), i);
    check_exact(cumsum_fn(0), pick(ints(100), {20000}, dt, 17));
    check_exact(test::single([](const In& in) { return cumsum(transpose(in[0], 0, 1), 0); }), i);
  }
  CHECK(cumsum(ops::zeros({2}, {.dtype = DType::i32, .device = kCuda}), 0).dtype() == DType::i64);
  check_exact(cumsum_fn(1), ops::zeros({3, 0}));
  check_exact(cumsum_fn(0), ops::zeros({0, 3}));
  check_exact(cumsum_fn(0), from_vector<double>({4.0}, {}));
}

TEST_CASE("cuda sort, topk and cumsum: backward parity and gradcheck") {
  check_cuda_parity(sort_fn(1, false), {leaf({4, 30})}, 1e-12, 1e-12);
  check_cuda_parity(sort_fn(0, true), {leaf({2500})}, 1e-12, 1e-12);
  check_cuda_parity(topk_fn(7, 1, true, true), {leaf({4, 30})}, 1e-12, 1e-12);
  check_cuda_parity(topk_fn(7, 0, false, false), {leaf({30, 4})}, 1e-12, 1e-12);
  check_cuda_parity(test::single([](const In& in) { return cumsum(transpose(in[0], 0, 1), 1); }),
                    {leaf({6, 5})}, 1e-12, 1e-12);
  check_cuda_parity(test::single([](const In& in) { return cumsum(in[0], 0); }), {leaf({9000})},
                    1e-10, 1e-10);
  CHECK_GRADCHECK([](const In& in) { return sort(in[0], 1, true).values; },
                  {leaf({3, 5}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return topk(in[0], 2, 0, true, false).values; },
                  {leaf({5, 3}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return cumsum(in[0], 1); }, {leaf({3, 4}, -1, 1, kCuda)});
  CHECK_GRADCHECK([](const In& in) { return cumsum(transpose(in[0], 0, 1), 1); },
                  {leaf({3, 4}, -1, 1, kCuda)});
}

TEST_CASE("cuda random: bit-identical to the CPU for one seed") {
  const auto same = [](auto draw) {
    manual_seed(1234);
    const Tensor on_cpu = draw(Device::cpu());
    manual_seed(1234);
    const Tensor on_cuda = draw(kCuda);
    CHECK(on_cuda.device() == kCuda);
    check_equal(on_cuda, on_cpu);
  };
  for (DType dt : {DType::f32, DType::f64}) {
    CAPTURE(dt);
    same([=](Device d) { return rand({37, 29}, {dt, d}); });
    same([=](Device d) { return randn({5000}, {dt, d}); });
    same([=](Device d) {
      rand({3}, {dt, d}); // a second draw starts where the first stopped
      return randn({4, 7}, {dt, d});
    });
  }
  for (DType dt : {DType::i64, DType::i32, DType::f32, DType::f64}) {
    CAPTURE(dt);
    same([=](Device d) { return randint(-5, 100, {300}, {dt, d}); });
  }
  same([](Device d) { return randint(0, 250, {17, 3}, {DType::u8, d}); });
  same([](Device d) { return randint(INT64_MIN, INT64_MAX, {64}, {DType::i64, d}); });
  for (int64_t n : {0, 1, 10, 5000}) {
    CAPTURE(n);
    same([=](Device d) { return randperm(n, {DType::i64, d}); });
  }
  same([](Device d) { return randperm(300, {DType::i32, d}); });
  same([](Device d) { return randperm(200, {DType::f32, d}); });
  // In-place fills of non-contiguous views write row-major order into any strides.
  same([](Device d) {
    Tensor t = ops::zeros({6, 9}, {DType::f32, d});
    Tensor v = transpose(t, 0, 1);
    uniform_(v, -2, 3);
    return t;
  });
  same([](Device d) {
    Tensor t = ops::zeros({4, 10, 3}, {DType::f64, d});
    Tensor v = slice(permute(t, {2, 0, 1}), 2, 1, 10, 3);
    normal_(v, 1.5, 0.25);
    return t;
  });
  same([](Device d) {
    Tensor t = ops::zeros({8}, {DType::f32, d});
    Tensor v = flip(t, {0}); // a copy: fill it, then read it back
    uniform_(v, 1, 1);
    return v;
  });
  // An explicit generator follows the same contract.
  Generator g1(77), g2(77);
  check_equal(rand({100}, {DType::f64, kCuda}, &g2), rand({100}, {DType::f64}, &g1));
  check_equal(randperm(64, {DType::i64, kCuda}, &g2), randperm(64, &g1));
}

TEST_CASE("cuda sort and cumsum: bad arguments are reported") {
  const Tensor x = ops::zeros({4, 5}, {.device = kCuda});
  CHECK_THROWS_WITH_ALL(topk(x, 6, 1), "topk", "k = 6", "size 5");
  CHECK_THROWS_WITH_ALL(sort(x, 2), "sort", "2");
  CHECK_THROWS_WITH_ALL(cumsum(x, -3), "cumsum", "-3");
  // 12 dims of size 2 with strides that never merge: more than a kernel's 10.
  const Tensor big =
      ops::zeros({13}, {.device = kCuda}).as_strided(Shape(12, 2), Strides(12, 1), 0);
  CHECK_THROWS_WITH_ALL(sort(big, 0), "sort", "more than 10");
  CHECK_THROWS_WITH_ALL(cumsum(big, 0), "cumsum", "more than 10");
  CHECK_THROWS_WITH_ALL(rand({2}, {DType::i32, kCuda}), "rand", "floating");
}

TEST_SUITE_END();
