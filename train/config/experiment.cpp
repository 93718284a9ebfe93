#include "train/config/experiment.h"

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

} // namespace splat::train::config
