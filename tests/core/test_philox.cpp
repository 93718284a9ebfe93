#include "core/philox.h"

#include "core/error.h"
#include "tests/helpers.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

using namespace splat;

namespace {
constexpr bool same(const PhiloxBlock& a, const PhiloxBlock& b) {
  return a.w[0] == b.w[0] && a.w[1] == b.w[1] && a.w[2] == b.w[2] && a.w[3] == b.w[3];
}
constexpr PhiloxBlock block(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return PhiloxBlock{{a, b, c, d}};
}

// The Random123 known-answer vectors for philox4x32 with 10 rounds.
struct Kat {
  PhiloxBlock counter;
  uint32_t k0, k1;
  PhiloxBlock expected;
};
constexpr Kat kKats[] = {
    {block(0, 0, 0, 0), 0, 0, block(0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)},
    {block(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), 0xffffffff, 0xffffffff,
     block(0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)},
    {block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), 0xa4093822, 0x299f31d0,
     block(0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)},
};

// The block function is constexpr, so the vectors are checked by the compiler too.
static_assert(same(philox4x32_10(kKats[0].counter, kKats[0].k0, kKats[0].k1), kKats[0].expected));
static_assert(same(philox4x32_10(kKats[1].counter, kKats[1].k0, kKats[1].k1), kKats[1].expected));
static_assert(same(philox4x32_10(kKats[2].counter, kKats[2].k0, kKats[2].k1), kKats[2].expected));
} // namespace

TEST_CASE("philox4x32_10 reproduces the Random123 known-answer vectors") {
  for (const Kat& k : kKats) {
    const PhiloxBlock got = philox4x32_10(k.counter, k.k0, k.k1);
    for (int j = 0; j < 4; ++j) CHECK(got.w[j] == k.expected.w[j]);
  }
}

TEST_CASE("philox_block packs the counter and seed as the contract says") {
  CHECK(same(philox_block(0, 0), kKats[0].expected));
  const uint64_t seed = 0x299f31d0a4093822ull, ctr = 0x85a308d3243f6a88ull;
  CHECK(same(philox_block(seed, ctr), philox4x32_10(block(0x243f6a88, 0x85a308d3, 0, 0),
                                                     0xa4093822, 0x299f31d0)));
  // Neighbouring counters and seeds give unrelated blocks.
  CHECK(!same(philox_block(seed, ctr), philox_block(seed, ctr + 1)));
  CHECK(!same(philox_block(seed, ctr), philox_block(seed + 1, ctr)));
  CHECK(!same(philox_block(1, 0), philox_block(uint64_t{1} << 32, 0)));
}

TEST_CASE("conversions from a block follow the documented bit recipes") {
  const PhiloxBlock zeros = block(0, 0, 0, 0), ones = block(~0u, ~0u, ~0u, ~0u);
  const PhiloxBlock b = block(0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321);
  CHECK(philox_uniform<float>(zeros) == 0.0f);
  CHECK(philox_uniform<float>(ones) == 1.0f - std::ldexp(1.0f, -24));
  CHECK(philox_uniform<float>(b) == static_cast<float>(0x123456) * std::ldexp(1.0f, -24));
  CHECK(philox_uniform<double>(zeros) == 0.0);
  CHECK(philox_uniform<double>(ones) == 1.0 - std::ldexp(1.0, -53));
  CHECK(philox_uniform<double>(b) ==
        static_cast<double>(0x9abcdef012345678ull >> 11) * std::ldexp(1.0, -53));

  // Box-Muller: u1 = 2^-53 (smallest), u2 = 0 gives the largest value the recipe can produce.
  CHECK(philox_normal(zeros) == doctest::Approx(std::sqrt(-2 * std::log(std::ldexp(1.0, -53)))));
  CHECK(philox_normal(ones) == doctest::Approx(0.0).epsilon(1e-7));  // u1 = 1: log 1 = 0
  const double u1 = static_cast<double>((0x9abcdef012345678ull >> 11) + 1) * std::ldexp(1.0, -53);
  const double u2 = static_cast<double>(0x876543210fedcba9ull >> 11) * std::ldexp(1.0, -53);
  const double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  CHECK(philox_normal(b) == doctest::Approx(z));

  CHECK(philox_randint(b, 0, 10) == static_cast<int64_t>(0x9abcdef012345678ull % 10));
  CHECK(philox_randint(b, -5, 3) == -5 + static_cast<int64_t>(0x9abcdef012345678ull % 3));
  // The full int64 range: low + bits wraps to exactly the bits reinterpreted.
  CHECK(philox_randint(b, INT64_MIN, UINT64_MAX) ==
        static_cast<int64_t>(0x9abcdef012345678ull % UINT64_MAX + (uint64_t{1} << 63)));
}

TEST_CASE("philox_uniform_in stays inside [lo, hi) when the product rounds up to hi") {
  const PhiloxBlock ones = block(~0u, ~0u, ~0u, ~0u);
  // 1 + (1 - 2^-53) is a tie that rounds to 2.0: the value is moved just below 2.
  CHECK(philox_uniform_in<double>(ones, 1, 2) == 2.0 - std::ldexp(1.0, -52));
  CHECK(philox_uniform_in<float>(ones, 1, 2) == 2.0f - std::ldexp(1.0f, -23));
  CHECK(philox_uniform_in<double>(ones, 0, 1) == 1.0 - std::ldexp(1.0, -53));
  CHECK(philox_uniform_in<double>(block(0, 0, 0, 0), -3, 5) == -3.0);
  CHECK(philox_uniform_in<float>(ones, 4, 4) == 4.0f);  // an empty range yields lo
}

TEST_CASE("Generator reserves disjoint counter ranges and reseeds") {
  Generator g(42);
  CHECK(g.seed() == 42);
  CHECK(g.reserve(10) == 0);
  CHECK(g.reserve(0) == 10);
  CHECK(g.reserve(5) == 10);
  const PhiloxState s = g.reserve_state(3);
  CHECK(s.seed == 42);
  CHECK(s.offset == 15);
  CHECK(g.state().offset == 18);
  g.manual_seed(7);
  CHECK(g.state().seed == 7);
  CHECK(g.state().offset == 0);
  g.set_state({9, 100});
  CHECK(g.reserve(1) == 100);
  CHECK(g.seed() == 9);

  g.set_state({9, UINT64_MAX - 4});
  CHECK(g.reserve(4) == UINT64_MAX - 4);
  CHECK_THROWS_WITH_ALL(g.reserve(2), "Generator: cannot reserve 2 counters", "exhausted",
                        "manual_seed");
  CHECK(g.state().offset == UINT64_MAX);  // the failed reservation took nothing
}

TEST_CASE("Generator::reserve is thread-safe: concurrent ranges never overlap") {
  Generator g(1);
  constexpr int kThreads = 4, kPerThread = 2000;
  std::vector<std::vector<uint64_t>> starts(kThreads);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) starts[t].push_back(g.reserve(3));
    });
  for (auto& th : pool) th.join();
  std::vector<uint64_t> all;
  for (const auto& v : starts) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i] == 3 * i);
  CHECK(g.state().offset == 3ull * kThreads * kPerThread);
}

TEST_CASE("manual_seed resets the default generator") {
  manual_seed(123);
  CHECK(default_generator().state().seed == 123);
  CHECK(default_generator().reserve(8) == 0);
  manual_seed(123);
  CHECK(default_generator().reserve(8) == 0);
  CHECK(&default_generator() == &default_generator());
}
