// Inverted dropout: in training, each element is kept with probability 1 - p and scaled by
// 1 / (1 - p), otherwise zeroed; the identity when !training or p == 0. p must lie in [0, 1).
//
// The keep mask comes from ops::rand (Philox, ops/random.h): element i of x (row-major) is kept
// when the i-th uniform draw is >= p, so the same generator state gives the same mask on the CPU
// and on a CUDA device. gen == nullptr uses default_generator(). x: any shape, float32/float64.
// Differentiable in x (dx = dy * mask / (1 - p)).
#pragma once

#include "core/philox.h"
#include "core/tensor.h"

namespace splat::ops {

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

} // namespace splat::ops
