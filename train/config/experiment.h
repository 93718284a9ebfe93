// A whole training config (configs/*.toml): [model], [data] and [schedule], read in one go so
// that a key no binding asked for is an error naming its file and line, whichever section it
// is in.
#pragma once

#include "train/config/data_config.h"
#include "train/config/model_config.h"
#include "train/config/schedule_config.h"

#include <span>
#include <string>
#include <vector>

namespace splat::train::config {

struct Experiment {
  std::string path; // the config file
  ModelConfig model;
  DataConfig data;
  ScheduleConfig schedule;
};

// Loads path (bases merged, `key.path=value` overrides applied), binds every section and
// rejects unknown keys.
Experiment load_experiment(const std::string& path, std::span<const std::string> overrides = {});

// overrides plus the one that puts the dataset of the config at path in folder dir (the --data
// of splat train and browse-dataset): data.dataset.dir for the shapes dataset, data.dataset.root
// for COCO-format data. An empty dir adds nothing.
std::vector<std::string> with_dataset_folder(const std::string& path,
                                             std::vector<std::string> overrides,
                                             const std::string& dir);

} // namespace splat::train::config
