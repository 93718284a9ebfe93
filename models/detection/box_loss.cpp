#include "models/detection/box_loss.h"

#include "ops/loss.h"
#include "ops/pointwise.h"

namespace splat::models {

Tensor BoxLoss::operator()(const Tensor& pred, const Tensor& target, const Tensor& weight,
                           double avg_factor) const {
  const ops::LossOptions opts{.reduction = ops::Reduction::mean, .weight = weight, .avg_factor = avg_factor};
  Tensor loss = kind == Kind::l1 ? ops::l1_loss(pred, target, opts) : ops::smooth_l1_loss(pred, target, beta, opts);
  return loss_weight == 1.0 ? loss : ops::mul(loss, loss_weight);
}

} // namespace splat::models
