#include "data/sampler.h"

#include "core/error.h"
#include "core/philox.h"

#include <numeric>
#include <utility>

namespace splat::data {
namespace {

void check_rank(const char* who, int rank, int world_size) {
  SPLAT_CHECK(world_size > 0, who, ": world_size must be positive, got ", world_size);
  SPLAT_CHECK(rank >= 0 && rank < world_size, who, ": rank ", rank, " out of range for world_size ",
              world_size);
}

// Appends copies of v (from its start, wrapping) until it has `total` elements.
void pad_by_wrapping(std::vector<size_t>& v, size_t total) {
  const size_t n = v.size();
  for (size_t i = n; i < total; ++i) v.push_back(v[(i - n) % n]);
}

// Stream numbers of the shuffles made in one epoch; each sampler uses distinct ones.
constexpr uint32_t kGroupChunkStream = 0xFFFFFFFFu;

} // namespace

std::vector<size_t> permutation(size_t n, uint64_t seed, int64_t epoch, uint32_t stream) {
  SPLAT_CHECK(n <= (uint64_t{1} << 32), "permutation: n = ", n, " exceeds 2^32");
  std::vector<size_t> p(n);
  std::iota(p.begin(), p.end(), size_t{0});
  const auto e = static_cast<uint64_t>(epoch);
  for (size_t j = 0; j + 1 < n; ++j) {
    const size_t i = n - 1 - j; // swap p[i] with a uniform element of p[0..i]
    const PhiloxBlock b =
        philox4x32_10(PhiloxBlock{{static_cast<uint32_t>(j), stream, static_cast<uint32_t>(e),
                                   static_cast<uint32_t>(e >> 32)}},
                      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    std::swap(p[i], p[static_cast<size_t>(philox_randint(b, 0, i + 1))]);
  }
  return p;
}

DistributedSampler::DistributedSampler(size_t dataset_size, int rank, int world_size, uint64_t seed,
                                       Order order)
    : n_(dataset_size), rank_(rank), world_(world_size), seed_(seed), order_(order) {
  check_rank("DistributedSampler", rank, world_size);
  SPLAT_CHECK(dataset_size > 0, "DistributedSampler: the dataset is empty");
}

size_t DistributedSampler::size() const { return (n_ + world_ - 1) / world_; }

std::vector<size_t> DistributedSampler::indices() const {
  std::vector<size_t> all;
  if (order_ == Order::shuffled) {
    all = permutation(n_, seed_, epoch_);
  } else {
    all.resize(n_);
    std::iota(all.begin(), all.end(), size_t{0});
  }
  pad_by_wrapping(all, size() * world_);
  std::vector<size_t> mine;
  mine.reserve(size());
  for (size_t i = rank_; i < all.size(); i += world_) mine.push_back(all[i]);
  return mine;
}

std::vector<std::vector<size_t>> DistributedSampler::batches(size_t batch_size) const {
  SPLAT_CHECK(batch_size > 0, "DistributedSampler::batches: batch_size must be positive");
  const std::vector<size_t> idx = indices();
  std::vector<std::vector<size_t>> out;
  for (size_t i = 0; i < idx.size(); i += batch_size)
    out.emplace_back(idx.begin() + i, idx.begin() + std::min(idx.size(), i + batch_size));
  return out;
}

GroupedBatchSampler::GroupedBatchSampler(std::vector<uint8_t> flags, size_t batch_size, int rank,
                                         int world_size, uint64_t seed)
    : batch_size_(batch_size), rank_(rank), world_(world_size), seed_(seed) {
  check_rank("GroupedBatchSampler", rank, world_size);
  SPLAT_CHECK(batch_size > 0, "GroupedBatchSampler: batch_size must be positive");
  SPLAT_CHECK(!flags.empty(), "GroupedBatchSampler: the dataset is empty");
  std::vector<std::vector<size_t>> by_flag(256);
  for (size_t i = 0; i < flags.size(); ++i) by_flag[flags[i]].push_back(i);
  for (auto& g : by_flag)
    if (!g.empty()) groups_.push_back(std::move(g));
}

size_t GroupedBatchSampler::num_batches() const {
  const size_t per_round = batch_size_ * world_;
  size_t chunks = 0;
  for (const auto& g : groups_) chunks += (g.size() + per_round - 1) / per_round;
  return chunks; // chunks per rank: each group contributes ceil(size / per_round) * world chunks
}

std::vector<std::vector<size_t>> GroupedBatchSampler::batches() const {
  const size_t per_round = batch_size_ * world_;
  std::vector<size_t> all;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const auto& g = groups_[gi];
    const std::vector<size_t> perm =
        permutation(g.size(), seed_, epoch_, static_cast<uint32_t>(gi));
    std::vector<size_t> shuffled(g.size());
    for (size_t i = 0; i < g.size(); ++i) shuffled[i] = g[perm[i]];
    pad_by_wrapping(shuffled, (g.size() + per_round - 1) / per_round * per_round);
    all.insert(all.end(), shuffled.begin(), shuffled.end());
  }
  const size_t num_chunks = all.size() / batch_size_;
  const std::vector<size_t> order = permutation(num_chunks, seed_, epoch_, kGroupChunkStream);
  const size_t first = num_batches() * rank_;
  std::vector<std::vector<size_t>> out;
  out.reserve(num_batches());
  for (size_t c = first; c < first + num_batches(); ++c) {
    const auto start = all.begin() + static_cast<std::ptrdiff_t>(order[c] * batch_size_);
    out.emplace_back(start, start + static_cast<std::ptrdiff_t>(batch_size_));
  }
  return out;
}

} // namespace splat::data
