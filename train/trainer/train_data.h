// The training data a config describes: the dataset (the synthetic shapes set is generated
// first when its folder has none), the train pipeline, and each epoch's batches from the
// config's sampler, for one rank of world.
#pragma once

#include "data/loader.h"
#include "data/sampler.h"
#include "train/config/data_config.h"

#include <memory>
#include <variant>

namespace splat::train {

// The batches of an epoch have one global order, the config's sampler with a world of one
// process (data/sampler.h: aspect-ratio groups, or plain shuffling dropping a short last batch):
// it depends on the seed and the epoch only, not on the number of processes. The ranks deal
// themselves that list: from global position `start` (the batches the run has already done this
// epoch), rank r takes batches start + r, start + r + world, ...; the rest is padded by wrapping
// round to the list's beginning to a multiple of world, so every rank runs the same number of
// steps. The shards are disjoint as positions and one step of every rank takes `world`
// consecutive global batches, so the position a checkpoint stores (global batches done) means
// the same on any number of processes, and a run resumed on another number continues the order.
class TrainData {
public:
  TrainData(const config::DataConfig& config, int rank = 0, int world = 1);
  const data::Dataset& dataset() const { return *dataset_; }
  // The epoch's batches in their global order.
  std::vector<std::vector<size_t>> global_batches(int64_t epoch);
  // This rank's batches of epoch from global position start on (see above).
  std::vector<std::vector<size_t>> batches(int64_t epoch, size_t start = 0);
  size_t global_batches_per_epoch() const;
  // This rank's steps in a whole epoch: ceil(global batches / world).
  size_t batches_per_epoch() const;
  const data::CocoDataset& coco() const { return dataset_->coco(); }

private:
  std::unique_ptr<data::CocoSampleDataset> dataset_;
  std::variant<data::GroupedBatchSampler, data::DistributedSampler> sampler_;
  size_t batch_size_;
  int rank_, world_;
};

// Generates the shapes dataset of config into its folder unless annotations are already there
// (printing one line when it writes), and stamps the folder with the options (kShapesStamp); a
// stamped folder whose stamp names other options was generated for an earlier version of the
// config and is generated anew (a stale one would mislabel every object). A folder without the
// stamp (made by `splat make-shapes`, or anyone) is the user's data and is used as it is.
// Nothing for COCO-format data.
inline constexpr const char* kShapesStamp = "generated_for_config.txt";
void prepare_dataset(const config::DatasetConfig& dataset);

} // namespace splat::train
