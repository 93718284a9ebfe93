// The box-regression loss of a head (spec section 3.4): L1 for Faster / Mask R-CNN, SmoothL1
// (beta 1/9 in the RPN, 1.0 in the R-CNN stages) for the cascades; summed over the 4 deltas of
// the weighted rows and divided by the head's avg_factor (mmdet's weight_reduce_loss).
#pragma once

#include "core/tensor.h"

namespace splat::models {

struct BoxLoss {
  enum class Kind { l1, smooth_l1 };
  Kind kind = Kind::l1;
  double beta = 1.0;        // smooth_l1 only
  double loss_weight = 1.0;
  // pred, target, weight: (N, 4); sum(weight * loss) / (avg_factor + eps) * loss_weight.
  Tensor operator()(const Tensor& pred, const Tensor& target, const Tensor& weight,
                    double avg_factor) const;
};

} // namespace splat::models
