// CPU kernels of the fused losses (ops/loss.h states the maths).
//
// Layout: cross_entropy's tensors are contiguous; the bce kernels take any strides and inputs
// that broadcast to the output (elementwise maps). Every kernel overwrites its outputs (= not +=).
// Dtypes: f32, f64 for values; target of cross_entropy is i64.
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops::cpu {

// logits: (N, C); target: (N) i64. Writes loss (N) = lse[n] - logits[n, target[n]] (0 where
// target[n] == ignore_index) and lse (N) = log(sum_c exp(logits[n, c])) for the backward.
// Returns the position of the first target that is neither ignore_index nor in [0, C), or -1;
// the outputs are meaningless when it is not -1 (the caller throws).
int64_t cross_entropy(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                      const Tensor& target, int64_t ignore_index);
// dlogits (N, C) = g[n] * (exp(logits[n, c] - lse[n]) - [c == target[n]]); rows whose target is
// ignore_index get 0. g: (N).
void cross_entropy_backward(const Tensor& dlogits, const Tensor& g, const Tensor& logits,
                            const Tensor& target, const Tensor& lse, int64_t ignore_index);

// x, t, loss: one shape. loss = max(x, 0) - x * t + log1p(exp(-|x|)).
void bce_with_logits(const Tensor& loss, const Tensor& x, const Tensor& t);
// dx = g * (sigmoid(x) - t); all of one shape.
void bce_with_logits_backward(const Tensor& dx, const Tensor& g, const Tensor& x, const Tensor& t);

} // namespace splat::ops::cpu
