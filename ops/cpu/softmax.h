// CPU softmax / log-softmax kernels (ops/softmax.h states the maths).
//
// Layout: every tensor is contiguous with x's shape, viewed as (outer, n, inner) around the
// softmax dim: row (o, k) holds the n elements at o * n * inner + i * inner + k. Each row is
// handled by one iteration of a parallel loop, so results do not depend on the thread count.
// Both kernels overwrite their output (= not +=). Dtypes: f32, f64; sums accumulate in T.
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops::cpu {

enum class SoftmaxKind : uint8_t { softmax, log_softmax };

// The (outer, n, inner) split of a contiguous shape around dim (already wrapped; a 0-d shape is
// one row of one element).
struct SoftmaxRows {
  int64_t outer = 1, n = 1, inner = 1;
};
SoftmaxRows softmax_rows(const Shape& shape, int64_t dim);

// y = softmax or log_softmax of x along dim.
void softmax(SoftmaxKind kind, const Tensor& y, const Tensor& x, int64_t dim);
// dx from dy and the forward output y:
//   softmax:     dx = y * (dy - sum(dy * y))
//   log_softmax: dx = dy - exp(y) * sum(dy)
void softmax_backward(SoftmaxKind kind, const Tensor& dx, const Tensor& dy, const Tensor& y,
                      int64_t dim);

} // namespace splat::ops::cpu
