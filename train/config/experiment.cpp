#include "train/config/experiment.h"

#include "core/error.h"
#include "train/config/config_file.h"

#include <vector>

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

Experiment load_experiment(const std::string& path, std::span<const std::string> overrides,
                           const std::string& data_dir) {
  if (data_dir.empty()) return load_experiment(path, overrides);
  const bool shapes = load_experiment(path, overrides).data.dataset.shapes.has_value();
  std::vector<std::string> with_data(overrides.begin(), overrides.end());
  with_data.push_back(str(shapes ? "data.dataset.dir=" : "data.dataset.root=", "'", data_dir, "'"));
  return load_experiment(path, with_data);
}

} // namespace splat::train::config
