// The [schedule] section of a training config: optimizer, learning-rate schedule and the
// epoch loop's intervals (spec section 5). The trainer (a later issue) consumes it; the values
// are read and checked here so a config states them all:
//
//   [schedule]   optimizer = "SGD" | "AdamW", lr, total_batch (the batch lr is set for),
//                momentum (SGD), betas and eps (AdamW), weight_decay, norm_decay_mult and
//                bias_decay_mult (parameter groups, train/optim/param_groups.h; 1 = decay on
//                all parameters as spec 5 says), nesterov (SGD), grad_clip (max
//                gradient norm; 0 = none), warmup = "none" | "linear", warmup_iters,
//                warmup_ratio, policy = "step" | "cosine", milestones (epochs, step), gamma
//                (step), min_lr_ratio (cosine), epochs, checkpoint_interval, eval_interval,
//                scale_lr = "none" (default) | "linear": what the trainer does when processes x
//                data.train.batch_size differs from total_batch (train/trainer/lr_rule.h)
#pragma once

#include "train/config/config_node.h"

#include <array>
#include <cstdint>
#include <vector>

namespace splat::train::config {

struct ScheduleConfig {
  enum class Optimizer { sgd, adamw };
  enum class Warmup { none, linear };
  enum class Policy { step, cosine };
  enum class ScaleLr { none, linear };
  Optimizer optimizer = Optimizer::sgd;
  double lr = 0;
  int64_t total_batch = 0;
  ScaleLr scale_lr = ScaleLr::none;
  double momentum = 0;               // SGD
  std::array<double, 2> betas{};     // AdamW
  double eps = 0;                    // AdamW
  double weight_decay = 0;
  double norm_decay_mult = 1, bias_decay_mult = 1;
  bool nesterov = false;
  double grad_clip = 0;
  Warmup warmup = Warmup::none;
  int64_t warmup_iters = 0;
  double warmup_ratio = 1;
  Policy policy = Policy::step;
  std::vector<int64_t> milestones;   // step
  double gamma = 0.1;                // step
  double min_lr_ratio = 0;           // cosine
  int64_t epochs = 0;
  int64_t checkpoint_interval = 1;
  int64_t eval_interval = 1;
};

ScheduleConfig read_schedule_config(const Node& schedule);

} // namespace splat::train::config
