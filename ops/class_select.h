// Per-class selection for the class-specific outputs of the R-CNN heads (spec sections 2.5,
// 3.4): the box head predicts 4 deltas per class and the mask head one mask per class; the loss
// and the inference read only the row of each RoI's class. Compositions of ops::gather, so they
// are differentiable in the predictions on every device (the gradient of the unselected classes
// is zero).
#pragma once

#include "core/tensor.h"

namespace splat::ops {

// deltas (N, 4 * C), labels (N) i64 in [0, C) -> (N, 4): deltas[i, 4 * labels[i] + k].
Tensor select_class_deltas(const Tensor& deltas, const Tensor& labels);

// logits (N, C, H, W), labels (N) i64 in [0, C) -> (N, H, W): logits[i, labels[i]].
Tensor select_class_masks(const Tensor& logits, const Tensor& labels);

} // namespace splat::ops
