// Samplers (data/sampler.h): shards disjoint, equal-sized and covering, as PyTorch's
// DistributedSampler; batches grouped by aspect ratio, as mmdet's DistributedGroupSampler;
// everything a function of (seed, epoch).
#include "data/sampler.h"
#include "tests/helpers.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

using namespace splat;
using namespace splat::data;

namespace {

bool is_permutation_of_iota(std::vector<size_t> v) {
  std::sort(v.begin(), v.end());
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != i) return false;
  return true;
}

// Interleaves the shards back into the padded global order: position p is shard p % world's
// element p / world.
std::vector<size_t> interleave(const std::vector<std::vector<size_t>>& shards) {
  std::vector<size_t> all;
  const size_t world = shards.size();
  for (size_t p = 0; p < shards[0].size() * world; ++p) all.push_back(shards[p % world][p / world]);
  return all;
}

std::vector<std::vector<size_t>> shards_of(size_t n, int world, uint64_t seed, int64_t epoch,
                                           Order order = Order::shuffled) {
  std::vector<std::vector<size_t>> out;
  for (int r = 0; r < world; ++r) {
    DistributedSampler s(n, r, world, seed, order);
    s.set_epoch(epoch);
    out.push_back(s.indices());
  }
  return out;
}

} // namespace

TEST_CASE("permutation: a permutation, deterministic, different per seed, epoch and stream") {
  for (size_t n : {0, 1, 2, 5, 64, 1000}) {
    const auto p = permutation(n, 3, 1);
    CHECK(p.size() == n);
    CHECK(is_permutation_of_iota(p));
    CHECK(p == permutation(n, 3, 1));
  }
  const auto base = permutation(1000, 3, 1);
  CHECK(base != permutation(1000, 4, 1));
  CHECK(base != permutation(1000, 3, 2));
  CHECK(base != permutation(1000, 3, 1, 7));
  // Uniformity, roughly: over many seeds, every element lands in every position. With n = 4 and
  // 2400 draws each of the 16 (value, position) cells expects 600; allow a wide band.
  std::vector<int> counts(16);
  for (uint64_t seed = 0; seed < 2400; ++seed) {
    const auto p = permutation(4, seed, 0);
    for (size_t pos = 0; pos < 4; ++pos) ++counts[p[pos] * 4 + pos];
  }
  for (int c : counts) CHECK((c > 500 && c < 700));
}

TEST_CASE("DistributedSampler: equal shards that cover the dataset, padded by wrapping") {
  for (size_t n : {1, 2, 7, 10, 13, 100}) {
    for (int world : {1, 2, 3, 4, 8}) {
      CAPTURE(n);
      CAPTURE(world);
      const auto shards = shards_of(n, world, 11, 2);
      const size_t per_rank = (n + world - 1) / world;
      for (const auto& s : shards) CHECK(s.size() == per_rank);
      CHECK(DistributedSampler(n, 0, world).size() == per_rank);
      // The padded global order: a permutation of 0..n-1, then its beginning repeated.
      const auto all = interleave(shards);
      const std::vector<size_t> head(all.begin(), all.begin() + static_cast<long>(n));
      CHECK(is_permutation_of_iota(head));
      for (size_t p = n; p < all.size(); ++p) CHECK(all[p] == head[(p - n) % n]);
      // Without padding the shards are disjoint as sets of indices.
      if (n % world == 0) {
        std::set<size_t> seen;
        for (const auto& s : shards) seen.insert(s.begin(), s.end());
        CHECK(seen.size() == n);
      }
    }
  }
}

TEST_CASE("DistributedSampler: deterministic per (seed, epoch), reshuffled every epoch") {
  DistributedSampler a(50, 1, 2, 5), b(50, 1, 2, 5), other_seed(50, 1, 2, 6);
  CHECK(a.indices() == b.indices());
  CHECK(a.indices() != other_seed.indices());
  const auto epoch0 = a.indices();
  a.set_epoch(1);
  CHECK(a.epoch() == 1);
  const auto epoch1 = a.indices();
  CHECK(epoch1 != epoch0);
  b.set_epoch(1);
  CHECK(b.indices() == epoch1);
  a.set_epoch(0);
  CHECK(a.indices() == epoch0);
}

TEST_CASE("DistributedSampler: sequential order and batches") {
  const auto shards = shards_of(7, 3, 0, 4, Order::sequential);
  CHECK(shards[0] == std::vector<size_t>{0, 3, 6});
  CHECK(shards[1] == std::vector<size_t>{1, 4, 0});
  CHECK(shards[2] == std::vector<size_t>{2, 5, 1});
  DistributedSampler s(5, 0, 1, 0, Order::sequential);
  CHECK(s.batches(2) == std::vector<std::vector<size_t>>{{0, 1}, {2, 3}, {4}});
  CHECK_THROWS_WITH_ALL(s.batches(0), "batch_size");
}

TEST_CASE("DistributedSampler: invalid arguments") {
  CHECK_THROWS_WITH_ALL(DistributedSampler(10, 2, 2), "rank 2", "world_size 2");
  CHECK_THROWS_WITH_ALL(DistributedSampler(10, -1, 2), "rank -1");
  CHECK_THROWS_WITH_ALL(DistributedSampler(10, 0, 0), "world_size must be positive");
  CHECK_THROWS_WITH_ALL(DistributedSampler(0), "empty");
}

TEST_CASE("GroupedBatchSampler: one group per batch, equal batch counts, every image covered") {
  // 23 landscape and 14 portrait images in a scattered order.
  std::vector<uint8_t> flags(37);
  for (size_t i = 0; i < flags.size(); ++i) flags[i] = (i * 7 % 37) < 23 ? 1 : 0;
  for (size_t batch : {1, 2, 4}) {
    for (int world : {1, 2, 3}) {
      CAPTURE(batch);
      CAPTURE(world);
      const size_t round = batch * world;
      const size_t expected_batches = (23 + round - 1) / round + (14 + round - 1) / round;
      std::map<size_t, int> uses;
      for (int r = 0; r < world; ++r) {
        GroupedBatchSampler s(flags, batch, r, world, 9);
        s.set_epoch(3);
        const auto batches = s.batches();
        CHECK(s.num_batches() == expected_batches);
        CHECK(batches.size() == expected_batches);
        for (const auto& b : batches) {
          REQUIRE(b.size() == batch);
          for (size_t i : b) {
            CHECK(flags[i] == flags[b[0]]);
            ++uses[i];
          }
        }
      }
      // Every image appears; padding repeats an image at most ceil(round / group) more times.
      CHECK(uses.size() == flags.size());
      for (auto [i, n] : uses) CHECK(n <= 1 + static_cast<int>((round + 13) / 14));
    }
  }
  // Groups whose sizes divide the batch round exactly: every image exactly once.
  std::vector<uint8_t> even(24);
  for (size_t i = 0; i < even.size(); ++i) even[i] = i % 3 == 0 ? 0 : 1; // 8 and 16
  std::vector<size_t> all;
  for (int r = 0; r < 2; ++r)
    for (const auto& b : GroupedBatchSampler(even, 2, r, 2, 1).batches())
      all.insert(all.end(), b.begin(), b.end());
  CHECK(is_permutation_of_iota(all));
}

TEST_CASE("GroupedBatchSampler: deterministic per (seed, epoch), reshuffled every epoch") {
  std::vector<uint8_t> flags(40);
  for (size_t i = 0; i < flags.size(); ++i) flags[i] = aspect_ratio_flag(100 + i % 3 * 50, 150);
  CHECK(flags[0] == 0); // 100 x 150: portrait
  CHECK(flags[1] == 0); // square: not wider than tall
  CHECK(flags[2] == 1);
  GroupedBatchSampler a(flags, 2, 0, 1, 4), b(flags, 2, 0, 1, 4);
  CHECK(a.batches() == b.batches());
  const auto e0 = a.batches();
  a.set_epoch(1);
  CHECK(a.batches() != e0);
  b.set_epoch(1);
  CHECK(a.batches() == b.batches());
  CHECK(GroupedBatchSampler(flags, 2, 0, 1, 5).batches() != e0);
}

TEST_CASE("GroupedBatchSampler: invalid arguments") {
  CHECK_THROWS_WITH_ALL(GroupedBatchSampler({1, 0}, 2, 3, 2), "rank 3");
  CHECK_THROWS_WITH_ALL(GroupedBatchSampler({1, 0}, 0), "batch_size must be positive");
  CHECK_THROWS_WITH_ALL(GroupedBatchSampler({}, 2), "empty");
}
