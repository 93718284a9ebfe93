// CPU batch-norm kernels. Layout: x, y, dy, dx contiguous, viewed as (N, C, L) with L the
// product of the dims after the channel; per-channel tensors contiguous (C,) (or (S, C) for the
// merge). Every kernel overwrites its outputs. Dtypes: f32, f64, accumulating in double.
// Optional per-channel tensors (weight, bias) may be undefined.
#pragma once

#include "core/tensor.h"
#include "ops/norm.h"

namespace splat::ops::cpu {

// stats: (C,) each, from x (N, C, ...).
void batch_norm_stats(const BatchStats& stats, const Tensor& x);
// out (C,) each = the (S, C) sets merged in order along S.
void batch_norm_merge_stats(const BatchStats& out, const BatchStats& sets);
void batch_norm_elemt(const Tensor& y, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                      const Tensor& weight, const Tensor& bias, Activation act);
void batch_norm_backward_reduce(const BatchNormGradSums& sums, const Tensor& dy, const Tensor& x,
                                const Tensor& mean);
void batch_norm_backward_elemt(const Tensor& dx, const Tensor& dy, const Tensor& x,
                               const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                               const BatchNormGradSums& sums, double count);

} // namespace splat::ops::cpu
