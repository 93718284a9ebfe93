// TrainData's shards (train/trainer/train_data.h): one global batch order per epoch whatever the
// number of processes; ranks deal it round-robin from a global position, disjoint, padded by
// wrapping so every rank has the same number of steps; a position reached on W processes
// continues the same order on W'.
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/config/experiment.h"
#include "train/trainer/train_data.h"

#include <set>

using namespace splat;
using namespace splat::train;

namespace {

using Batches = std::vector<std::vector<size_t>>;

// Every rank's batches from `start`, step by step: what the job takes in order.
Batches dealt(const config::DataConfig& c, int world, int64_t epoch, size_t start) {
  std::vector<Batches> per_rank;
  for (int r = 0; r < world; ++r) per_rank.push_back(TrainData(c, r, world).batches(epoch, start));
  Batches out;
  for (size_t step = 0; step < per_rank[0].size(); ++step)
    for (int r = 0; r < world; ++r) {
      REQUIRE(per_rank[r].size() == per_rank[0].size());
      out.push_back(per_rank[r][step]);
    }
  return out;
}

} // namespace

TEST_CASE("TrainData: the ranks deal one global order; a position carries over to another world") {
  test::TempDir tmp;
  // 13 images in batches of 2, aspect-ratio groups: a global list not a multiple of 2 or 3.
  const config::Experiment exp = config::load_experiment(
      SPLAT_SOURCE_DIR "/configs/shapes/faster_rcnn_s18_fpn_shapes.toml",
      std::vector<std::string>{"data.dataset.train=13", "data.dataset.val=1", "data.dataset.min_size=32",
                               "data.dataset.max_size=48", "data.train.batch_size=2"},
      (tmp.dir / "shapes").string());
  prepare_dataset(exp.data.dataset);
  TrainData one(exp.data);
  const Batches global = one.global_batches(3);
  const size_t n = global.size();
  REQUIRE(n >= 5);
  CHECK(one.global_batches_per_epoch() == n);
  CHECK(one.batches(3) == global);
  CHECK(one.global_batches(4) != global); // another epoch, another order
  for (int world : {2, 3}) {
    CAPTURE(world);
    CHECK(TrainData(exp.data, world - 1, world).batches_per_epoch() == (n + world - 1) / world);
    CHECK(TrainData(exp.data, 0, world).global_batches(3) == global);
    // The job's steps run through the global order, then wrap round to its start.
    const Batches all = dealt(exp.data, world, 3, 0);
    REQUIRE(all.size() % world == 0);
    REQUIRE(all.size() >= n);
    for (size_t k = 0; k < all.size(); ++k) CHECK(all[k] == global[k < n ? k : k - n]);
    // Disjoint shards: no global position is visited by two ranks.
    std::set<size_t> firsts;
    for (size_t k = 0; k < n; ++k) firsts.insert(global[k][0]);
    CHECK(firsts.size() == n);
    // 2 steps on `world` processes, then the rest on another number: the global order goes on.
    const size_t position = 2 * static_cast<size_t>(world);
    for (int next : {1, 2, 3}) {
      CAPTURE(next);
      const Batches rest = dealt(exp.data, next, 3, position);
      for (size_t k = 0; k < n - position; ++k) CHECK(rest[k] == global[position + k]);
    }
  }
  CHECK_THROWS_WITH_AS(TrainData(exp.data, 2, 2), doctest::Contains("rank 2 outside a world of 2"), Error);
}
