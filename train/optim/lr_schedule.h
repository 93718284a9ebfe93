// The learning rate of every iteration (spec section 5; MMDetection 3's param_scheduler):
//   lr(i) = base * warmup(i) * decay(i)
// i counts iterations from 0 over the whole run, epoch(i) = i / iters_per_epoch.
//   warmup   mmengine's LinearLR(start_factor = ratio, by_epoch=False, begin=0, end=iters):
//            ratio + (1 - ratio) * i / (iters - 1) for i < iters (mmengine's total_iters is
//            end - begin - 1), then 1
//   step     MultiStepLR(by_epoch=True, milestones, gamma): gamma ^ (milestones <= epoch(i))
//   cosine   CosineAnnealingLR by iteration over the whole run down to min_lr_ratio * base:
//            m + (1 - m) * (1 + cos(pi * i / total)) / 2 with m = min_lr_ratio
// The product is exactly mmengine's chained schedulers for warmup + step, and for warmup +
// cosine when min_lr_ratio is 0; with min_lr_ratio > 0 mmengine's recursive cosine update
// applied on top of the warmup differs slightly during the warm-up iterations only.
#pragma once

#include <cstdint>
#include <vector>

namespace splat::train {

struct LrScheduleOptions {
  double base_lr = 0.02;
  int64_t iters_per_epoch = 1;
  int64_t epochs = 12;
  int64_t warmup_iters = 0; // 0: no warm-up
  double warmup_ratio = 0.001;
  enum class Policy { step, cosine } policy = Policy::step;
  std::vector<int64_t> milestones; // epochs, step policy
  double gamma = 0.1;              // step policy
  double min_lr_ratio = 0;         // cosine policy
};

class LrSchedule {
public:
  explicit LrSchedule(LrScheduleOptions options);
  double lr(int64_t iteration) const;
  int64_t total_iters() const { return o_.iters_per_epoch * o_.epochs; }
  const LrScheduleOptions& options() const { return o_; }

private:
  LrScheduleOptions o_;
};

} // namespace splat::train
