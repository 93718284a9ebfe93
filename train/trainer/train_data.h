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

class TrainData {
public:
  TrainData(const config::DataConfig& config, int rank = 0, int world = 1);
  const data::Dataset& dataset() const { return *dataset_; }
  // This rank's batches of epoch (the same count on every rank; shuffled batching drops a short
  // last batch).
  std::vector<std::vector<size_t>> batches(int64_t epoch);
  size_t batches_per_epoch() const;
  const data::CocoDataset& coco() const { return dataset_->coco(); }

private:
  std::unique_ptr<data::CocoSampleDataset> dataset_;
  std::variant<data::GroupedBatchSampler, data::DistributedSampler> sampler_;
  size_t batch_size_;
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
