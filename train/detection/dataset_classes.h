// What a detector's contiguous labels 0..C-1 stand for: the class names drawn by `splat infer`
// and the COCO category ids written to results files (COCO's ids have gaps: label 11 is id 13).
#pragma once

#include "train/config/data_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace splat::train {

struct DatasetClasses {
  std::vector<std::string> names;     // by label
  std::vector<int64_t> category_ids;  // by label
};

// The 80 categories of COCO 2017 (the 2014 and 2017 instance annotations share them), the
// classes of MMDetection's CocoDataset.
const DatasetClasses& coco_classes();

// The classes of a config's dataset: for shapes, data::shape_category_names with ids 1..N; for
// COCO-format data, the categories of the val annotation file when it can be read (a custom
// dataset names its own), else COCO 2017's. Throws unless there are num_classes of them.
DatasetClasses dataset_classes(const config::DatasetConfig& dataset, int64_t num_classes,
                               const std::string& config_path);

} // namespace splat::train
