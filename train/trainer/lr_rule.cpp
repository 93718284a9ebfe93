#include "train/trainer/lr_rule.h"

#include "core/error.h"

namespace splat::train {

double lr_scale(const config::ScheduleConfig& s, int64_t processes, int64_t batch_size,
                const std::string& config_path) {
  const int64_t actual = processes * batch_size;
  if (actual == s.total_batch) return 1.0;
  const double scale = static_cast<double>(actual) / static_cast<double>(s.total_batch);
  const std::string fitting =
      s.total_batch % batch_size == 0 ? str("run on ", s.total_batch / batch_size, " processes, ") : std::string();
  SPLAT_CHECK(s.scale_lr == config::ScheduleConfig::ScaleLr::linear, config_path, ": schedule.lr ", s.lr,
              " is for schedule.total_batch = ", s.total_batch, " images per step, but ", processes,
              processes == 1 ? " process" : " processes", " x data.train.batch_size ", batch_size, " = ", actual,
              "; ", fitting, "set schedule.total_batch = ", actual, " with an lr for it, or set "
              "schedule.scale_lr = \"linear\" (lr ", s.lr * scale, ")");
  return scale;
}

} // namespace splat::train
