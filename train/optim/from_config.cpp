#include "train/optim/from_config.h"

#include "train/optim/adamw.h"
#include "train/optim/param_groups.h"
#include "train/optim/sgd.h"

namespace splat::train {

using S = config::ScheduleConfig;

std::unique_ptr<Optimizer> make_optimizer(const S& s, const nn::Module& model, double lr_scale) {
  std::vector<ParamGroup> groups =
      param_groups(model, s.weight_decay, {.norm = s.norm_decay_mult, .bias = s.bias_decay_mult});
  const double lr = s.lr * lr_scale;
  if (s.optimizer == S::Optimizer::adamw)
    return std::make_unique<AdamW>(std::move(groups), AdamWOptions{.lr = lr, .betas = s.betas, .eps = s.eps});
  return std::make_unique<Sgd>(std::move(groups),
                               SgdOptions{.lr = lr, .momentum = s.momentum, .nesterov = s.nesterov});
}

LrSchedule make_lr_schedule(const S& s, int64_t iters_per_epoch, double lr_scale) {
  return LrSchedule({.base_lr = s.lr * lr_scale,
                     .iters_per_epoch = iters_per_epoch,
                     .epochs = s.epochs,
                     .warmup_iters = s.warmup == S::Warmup::linear ? s.warmup_iters : 0,
                     .warmup_ratio = s.warmup_ratio,
                     .policy = s.policy == S::Policy::step ? LrScheduleOptions::Policy::step
                                                           : LrScheduleOptions::Policy::cosine,
                     .milestones = s.milestones,
                     .gamma = s.gamma,
                     .min_lr_ratio = s.min_lr_ratio});
}

} // namespace splat::train
