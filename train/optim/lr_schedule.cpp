#include "train/optim/lr_schedule.h"

#include "core/error.h"

#include <cmath>
#include <numbers>

namespace splat::train {

LrSchedule::LrSchedule(LrScheduleOptions options) : o_(std::move(options)) {
  SPLAT_CHECK(o_.base_lr >= 0 && o_.iters_per_epoch >= 1 && o_.epochs >= 1,
              "LrSchedule: needs base_lr >= 0, iters_per_epoch >= 1 and epochs >= 1 (got ",
              o_.base_lr, ", ", o_.iters_per_epoch, ", ", o_.epochs, ")");
  SPLAT_CHECK(o_.warmup_iters == 0 || (o_.warmup_iters >= 2 && o_.warmup_ratio > 0 && o_.warmup_ratio <= 1),
              "LrSchedule: a warm-up needs warmup_iters >= 2 and warmup_ratio in (0, 1] (got ",
              o_.warmup_iters, ", ", o_.warmup_ratio, ")");
  SPLAT_CHECK(o_.min_lr_ratio >= 0 && o_.min_lr_ratio <= 1, "LrSchedule: min_lr_ratio ",
              o_.min_lr_ratio, " is not in [0, 1]");
}

double LrSchedule::lr(int64_t i) const {
  SPLAT_CHECK(i >= 0, "LrSchedule: iteration ", i, " is negative");
  double factor = 1;
  if (i < o_.warmup_iters)
    factor = o_.warmup_ratio + (1 - o_.warmup_ratio) * static_cast<double>(i) /
                                   static_cast<double>(o_.warmup_iters - 1);
  if (o_.policy == LrScheduleOptions::Policy::step) {
    const int64_t epoch = i / o_.iters_per_epoch;
    for (const int64_t m : o_.milestones)
      if (m <= epoch) factor *= o_.gamma;
  } else {
    const double t = std::min(1.0, static_cast<double>(i) / static_cast<double>(total_iters()));
    factor *= o_.min_lr_ratio + (1 - o_.min_lr_ratio) * (1 + std::cos(std::numbers::pi * t)) / 2;
  }
  return o_.base_lr * factor;
}

} // namespace splat::train
