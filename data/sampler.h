// Samplers: which dataset indices each rank visits in one epoch, and in which batches.
//
// Both samplers are deterministic functions of (dataset, rank, world_size, seed, epoch): every
// rank computes the same global permutation from Philox (core/philox.h) keyed by the seed, with
// the epoch as the high counter word, and keeps its own shard. Nothing depends on thread timing.
//
// - DistributedSampler follows torch.utils.data.DistributedSampler (drop_last=False): shuffle all
//   n indices, pad to total = ceil(n / world) * world by repeating the permutation from its start
//   (wrapping as often as needed), then rank r takes positions r, r + world, r + 2 world, ...
//   Shards are disjoint as position sets, have equal size, and together cover every index.
// - GroupedBatchSampler follows mmdet's DistributedGroupSampler (GroupSampler is its world = 1
//   case, except that mmdet pads there by random choice; here both pad by wrapping): images are
//   split by aspect-ratio flag (1 when w / h > 1, as mmdet's `flag`); each group is shuffled and
//   padded by wrapping to a multiple of batch_size * world; the groups are concatenated, cut into
//   chunks of batch_size, the chunk order shuffled, and rank r takes the r-th contiguous run of
//   num_batches() chunks. So every batch holds one group only.
//
// The permutation is a Fisher-Yates shuffle (from the back) whose j-th swap draws philox_randint
// from the Philox4x32-10 block with key = seed and counter words (j, stream, lo32(epoch),
// hi32(epoch)); `stream` separates the independent shuffles of one epoch. It is the same on every
// machine, but it is not torch.randperm's sequence (PyTorch's CPU generator is a Mersenne
// twister), only the same distribution.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace splat::data {

// A random permutation of 0..n-1 from (seed, epoch, stream), as described above.
std::vector<size_t> permutation(size_t n, uint64_t seed, int64_t epoch, uint32_t stream = 0);

// Whether to shuffle (training) or keep the dataset order (evaluation).
enum class Order { shuffled, sequential };

class DistributedSampler {
public:
  // Throws Error unless 0 <= rank < world_size and dataset_size > 0.
  DistributedSampler(size_t dataset_size, int rank = 0, int world_size = 1, uint64_t seed = 0,
                     Order order = Order::shuffled);

  // Selects the epoch whose permutation indices() returns (PyTorch's set_epoch).
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  int64_t epoch() const { return epoch_; }

  // This rank's dataset indices for the current epoch; size() of them.
  std::vector<size_t> indices() const;
  // ceil(dataset_size / world_size): the same on every rank.
  size_t size() const;

  // indices() cut into consecutive batches of batch_size (the last one may be shorter).
  std::vector<std::vector<size_t>> batches(size_t batch_size) const;

private:
  size_t n_;
  int rank_, world_;
  uint64_t seed_;
  Order order_;
  int64_t epoch_ = 0;
};

// mmdet's aspect-ratio flag of one image: 1 when width / height > 1 (landscape), else 0.
inline uint8_t aspect_ratio_flag(int64_t width, int64_t height) {
  return static_cast<uint8_t>(width > height ? 1 : 0);
}

class GroupedBatchSampler {
public:
  // flags: one group flag per dataset index (aspect_ratio_flag, or any small group id).
  // Throws Error unless 0 <= rank < world_size, batch_size > 0 and flags is non-empty.
  GroupedBatchSampler(std::vector<uint8_t> flags, size_t batch_size, int rank = 0,
                      int world_size = 1, uint64_t seed = 0);

  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  int64_t epoch() const { return epoch_; }

  // This rank's batches for the current epoch: num_batches() batches of exactly batch_size
  // indices, each from a single group.
  std::vector<std::vector<size_t>> batches() const;
  // sum over groups of ceil(group_size / (batch_size * world)): the same on every rank.
  size_t num_batches() const;

private:
  std::vector<std::vector<size_t>> groups_; // dataset indices of each non-empty group, ascending
  size_t batch_size_;
  int rank_, world_;
  uint64_t seed_;
  int64_t epoch_ = 0;
};

} // namespace splat::data
