// The learning rate's batch rule (spec section 5: lr 0.02 is set for a total batch of 16 images,
// 8 processes x 2). A config states the batch its lr is for (schedule.total_batch); one
// optimisation step of a run takes processes x data.train.batch_size images. They must agree,
// or the config must ask for the linear scaling rule (schedule.scale_lr = "linear": lr x
// actual / total_batch, Goyal et al.'s rule, which MMDetection's auto_scale_lr applies); a
// mismatch without it is an Error naming the three numbers and the ways out, since training
// 8 times too fast or too slow by accident fails silently.
#pragma once

#include "train/config/schedule_config.h"

#include <cstdint>
#include <string>

namespace splat::train {

// The factor for the config's lr (1 when the batches agree).
double lr_scale(const config::ScheduleConfig& schedule, int64_t processes, int64_t batch_size,
                const std::string& config_path);

} // namespace splat::train
