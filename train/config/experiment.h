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
// The same with a dataset folder from the command line (`--data DIR`, empty for none) applied
// last: the shapes dataset's dir or the COCO root, whichever kind the config's dataset is.
Experiment load_experiment(const std::string& path, std::span<const std::string> overrides,
                           const std::string& data_dir);

} // namespace splat::train::config
