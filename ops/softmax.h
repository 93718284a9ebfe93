// Softmax and log-softmax along one dim.
//
//   softmax(x, dim)[..., i, ...]     = exp(x_i - m) / sum_j exp(x_j - m),  m = max_j x_j
//   log_softmax(x, dim)[..., i, ...] = x_i - m - log(sum_j exp(x_j - m))
//
// x: any shape and strides, float32 or float64; dim may be negative (PyTorch's wrapping). The
// result has x's shape (contiguous). Subtracting the row maximum keeps both finite for any finite
// input; a row of -inf gives NaN, as in PyTorch. A 0-d x is a single row of one element.
// Differentiable in x; the backward runs its own kernel (no composition of ops):
//   softmax:     dx_i = y_i * (dy_i - sum_j dy_j y_j)
//   log_softmax: dx_i = dy_i - exp(y_i) * sum_j dy_j
#pragma once

#include "core/tensor.h"

namespace splat::ops {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

} // namespace splat::ops
