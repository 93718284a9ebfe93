// Batch normalisation over the channel dim of (N, C) and (N, C, H, W) tensors (any x of 2 or more
// dims: dim 1 is the channel, the dims after it are folded into one spatial extent L), and the
// per-channel building blocks SyncBatchNorm composes (design.md section 6).
//
// Conventions:
// - Per-channel tensors (weight, bias, running stats, statistics, sums) are (C,) in x's dtype
//   (f32 or f64); kernels accumulate in double on both devices and never use float atomics, so
//   results are deterministic. An undefined Tensor() stands for an absent optional argument.
// - "count" is a per-channel element count stored in x's dtype, exact up to 2^24 in f32.
// - The building blocks below are not differentiable (they run with or without grad mode and
//   record nothing); batch_norm is, with respect to x, weight and bias.
#pragma once

#include "core/tensor.h"

namespace splat::ops {

// Welford statistics of a set of values per channel: count, mean and M2 = sum (x - mean)^2.
// Biased variance is m2 / count, unbiased m2 / (count - 1).
struct BatchStats {
  Tensor count; // (C,) or, stacked for merging, (S, C)
  Tensor mean;  // same shape as count
  Tensor m2;    // same shape as count
};

// (1) Statistics of x per channel in one pass (Welford per thread, Chan's merge between threads).
// x: (N, C, ...). Returns (C,) tensors; count = N * L for every channel.
BatchStats batch_norm_stats(const Tensor& x);

// (2) Merges S sets of statistics, stacked along dim 0 ((S, C) each, as an all_gather returns
// them), in order s = 0, 1, ... with Chan's formula, in double. Sets with count 0 are skipped
// (an empty rank); a channel whose total count is 0 gets mean 0 and m2 0. Returns (C,) tensors.
// Merging the per-chunk statistics of any split of a batch equals the statistics of the whole.
BatchStats batch_norm_merge_stats(const BatchStats& sets);

// 1 / sqrt(m2 / count + eps) per channel: the inverse of the biased standard deviation.
Tensor batch_norm_invstd(const BatchStats& stats, double eps);

// In place, as PyTorch does in training: running_mean = (1 - momentum) * running_mean +
// momentum * mean, running_var likewise with the unbiased variance m2 / (count - 1). Either
// running tensor may be undefined (skipped). Requires count > 1 (checked by the callers that
// know the shape; a count of 1 gives an infinite unbiased variance here).
void batch_norm_update_running_stats(const Tensor& running_mean, const Tensor& running_var,
                                     const BatchStats& stats, double momentum);

enum class Activation { none, relu };

// (3) y = act((x - mean) * invstd * weight + bias) elementwise; weight and bias optional (1 and
// 0). x: (N, C, ...); mean, invstd, weight, bias: (C,). Returns y shaped like x, contiguous.
Tensor batch_norm_elemt(const Tensor& x, const Tensor& mean, const Tensor& invstd,
                        const Tensor& weight, const Tensor& bias,
                        Activation act = Activation::none);

// (4) Per-channel sums of the backward in one pass: sum_dy = sum dy, sum_dy_xmu =
// sum dy * (x - mean). dy, x: (N, C, ...) of one shape; mean: (C,).
struct BatchNormGradSums {
  Tensor sum_dy;     // (C,)
  Tensor sum_dy_xmu; // (C,)
};
BatchNormGradSums batch_norm_backward_reduce(const Tensor& dy, const Tensor& x, const Tensor& mean);

// (5) The input gradient of training-mode batch norm from the (possibly all-reduced) sums, with
// count the total number of elements per channel the statistics were taken over:
//   dx = (dy - sum_dy / count - (x - mean) * invstd^2 * sum_dy_xmu / count) * invstd * weight.
// weight optional (1). Returns dx shaped like x, contiguous.
Tensor batch_norm_backward_elemt(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                 const Tensor& invstd, const Tensor& weight,
                                 const BatchNormGradSums& sums, double count);

// Batch normalisation, PyTorch's F.batch_norm. x: (N, C, ...); running_mean, running_var,
// weight, bias: (C,) or undefined.
// - training: normalises with the batch mean and biased variance; updates the running stats in
//   place (when given) with the momentum and the unbiased variance. Errors when a channel has a
//   single value (N * L == 1), where the unbiased variance does not exist.
// - eval: normalises with the running stats (required). Frozen BN is eval mode.
// Differentiable in x, weight and bias (in eval mode the statistics are constants).
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);

// relu(batch_norm(x, running stats, eval mode)) in one pass, for inference; not differentiable:
// an error when grad mode is on and x, weight or bias requires grad.
Tensor batch_norm_relu_inference(const Tensor& x, const Tensor& running_mean,
                                 const Tensor& running_var, const Tensor& weight,
                                 const Tensor& bias, double eps = 1e-5);

} // namespace splat::ops
