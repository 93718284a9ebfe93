// The per-iteration training log line in MMDetection 3's (mmengine's LogProcessor) form, so logs
// of the two compare line by line:
//   Epoch(train)  [1][  50/7330]  lr: 1.9820e-03  eta: 1 day, 2:03:33  time: 0.6430  data_time: 0.0126  memory: 4036  loss: 2.0301  loss_rpn_cls: 0.6338  ...
// The epoch is right-aligned to the width of the last epoch, the iteration to that of the epoch's
// length; lr in %.4e, the rest in %.4f; memory is peak MiB (mmengine prints it on CUDA only, splat
// on every device: its allocator knows).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace splat::train {

struct TrainLogLine {
  int64_t epoch = 1, max_epochs = 1;             // 1-based
  int64_t iter = 1, iters_per_epoch = 1;         // within the epoch, 1-based
  double lr = 0;
  double eta_seconds = 0, time = 0, data_time = 0; // seconds; time and data_time per iteration
  int64_t memory_mib = 0;
  std::vector<std::pair<std::string, double>> values; // loss first, then each loss and metric
};

std::string format_log_line(const TrainLogLine& line);

// Python's str(datetime.timedelta(seconds=int(s))): "2:03:33", "1 day, 2:03:33", "3 days, 0:00:05".
std::string format_eta(double seconds);

} // namespace splat::train
