// The optimizer and the learning-rate schedule a config's [schedule] describes
// (train/config/schedule_config.h): SGD or AdamW over the model's parameter groups, and the
// warm-up + step or cosine schedule of the run.
#pragma once

#include "nn/module.h"
#include "train/config/schedule_config.h"
#include "train/optim/lr_schedule.h"
#include "train/optim/optimizer.h"

#include <memory>

namespace splat::train {

// lr_scale multiplies the config's lr (the linear scaling rule when the total batch differs from
// schedule.total_batch; 1 keeps the config's).
std::unique_ptr<Optimizer> make_optimizer(const config::ScheduleConfig& schedule, const nn::Module& model,
                                          double lr_scale = 1.0);
LrSchedule make_lr_schedule(const config::ScheduleConfig& schedule, int64_t iters_per_epoch,
                            double lr_scale = 1.0);

} // namespace splat::train
