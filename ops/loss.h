// Loss functions with PyTorch's reductions and MMDetection's weighting
// (mmdet.models.losses.utils.weight_reduce_loss), as every detector loss uses them
// (spec/resnest-detectors.md section 3.4).
//
// Each loss first computes an element loss L of the shape stated below, then:
//   1. multiplies by `weight` when given (weight broadcasts to L's shape; any float tensor of
//      L's dtype and device);
//   2. reduces: none -> L (shape kept); sum -> sum(L); mean -> sum(L) / denominator, where the
//      denominator is the element count (cross_entropy: the number of non-ignored targets, as
//      PyTorch) or, when `avg_factor` is given, avg_factor + eps (eps = float32 epsilon, as
//      mmdet adds). avg_factor is ignored with none and an error with sum (as in mmdet).
// Results of sum/mean are 0-d tensors of the input's dtype.
//
// Inputs are float32 or float64, on one device. Gradients flow to the input / logits (and not to
// targets or weights: passing a target or weight that requires grad is an error naming it).
#pragma once

#include "core/tensor.h"

#include <optional>

namespace splat::ops {

enum class Reduction : uint8_t { none, mean, sum };

struct LossOptions {
  Reduction reduction = Reduction::mean;
  Tensor weight;                    // optional (undefined = no weight)
  std::optional<double> avg_factor; // optional, Reduction::mean only
};

// logits (N, C), target (N) i64 with values in [0, C) or == ignore_index. Element loss (N):
//   -log_softmax(logits)[n, target[n]], and 0 where target[n] == ignore_index.
// mean without avg_factor divides by the number of non-ignored targets (NaN if there are none,
// as PyTorch). A target outside [0, C) that is not ignore_index is an error naming its position
// and value. Fused log-softmax + NLL kernel, forward and backward.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index = -100,
                     const LossOptions& opts = {});

// logits and target of one shape (target float, same dtype; values in [0, 1] as probabilities).
// Element loss: max(x, 0) - x * t + log(1 + exp(-|x|)), the stable form of
// -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))). Fused kernel, forward and backward.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const LossOptions& opts = {});

// input and target of one shape. Element losses:
//   l1:        |x - t|
//   smooth_l1: 0.5 (x - t)^2 / beta where |x - t| < beta, else |x - t| - 0.5 beta; beta >= 0,
//              beta == 0 is l1 (as PyTorch)
//   mse:       (x - t)^2
Tensor l1_loss(const Tensor& input, const Tensor& target, const LossOptions& opts = {});
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta = 1.0,
                      const LossOptions& opts = {});
Tensor mse_loss(const Tensor& input, const Tensor& target, const LossOptions& opts = {});

} // namespace splat::ops
