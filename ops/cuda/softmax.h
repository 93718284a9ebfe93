// CUDA softmax / log-softmax kernels, same contract as ops/cpu/softmax.h (contiguous tensors
// viewed as (outer, n, inner); both kernels overwrite). Results equal the CPU's up to the order
// of floating-point additions and never depend on the schedule.
#pragma once

#include "core/tensor.h"
#include "ops/cpu/softmax.h"

namespace splat::ops::cuda {

using SoftmaxKind = cpu::SoftmaxKind;

void softmax(SoftmaxKind kind, const Tensor& y, const Tensor& x, int64_t dim);
void softmax_backward(SoftmaxKind kind, const Tensor& dx, const Tensor& dy, const Tensor& y,
                      int64_t dim);

} // namespace splat::ops::cuda
