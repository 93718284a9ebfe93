#include "train/config/experiment.h"

#include "core/error.h"
#include "train/config/config_file.h"

namespace splat::train::config {

Experiment load_experiment(const std::string& path, std::span<const std::string> overrides) {
  const Node root = load(path, overrides);
  Experiment e;
  e.path = path;
  e.model = read_model_config(root.table("model"));
  e.data = read_data_config(root.table("data"));
  e.schedule = read_schedule_config(root.table("schedule"));
  root.check_all_used();
  return e;
}

std::vector<std::string> with_dataset_folder(const std::string& path,
                                             std::vector<std::string> overrides,
                                             const std::string& dir) {
  if (dir.empty()) return overrides;
  // Which key holds the folder depends on the dataset kind, which the config itself says.
  const bool shapes = load_experiment(path, overrides).data.dataset.shapes.has_value();
  overrides.push_back(str(shapes ? "data.dataset.dir=" : "data.dataset.root=", "'", dir, "'"));
  return overrides;
}

} // namespace splat::train::config
