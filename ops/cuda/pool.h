// CUDA pooling kernels, the counterparts of ops/cpu/pool.h with the same contract: one thread
// per output element in forward and per input element in backward (gathering, so no atomics).
// Every kernel overwrites its output.
// Dtypes: f32, f64.
#pragma once

#include "core/tensor.h"
#include "ops/pool_windows.h"

namespace splat::ops::cuda {

// y, index: (N, C, OH, OW) of x's dtype and i64.
void max_pool2d(const Tensor& y, const Tensor& index, const Tensor& x,
                const PoolPlanes<SlidingAxis>& p);
// gx: (N, C, H, W) from gy and index (N, C, OH, OW).
void max_pool2d_backward(const Tensor& gx, const Tensor& gy, const Tensor& index,
                         const PoolPlanes<SlidingAxis>& p);
// Avg pool (SlidingAxis, AvgDivisor) and adaptive avg pool (AdaptiveAxis, AdaptiveDivisor);
// instantiated for those two pairs.
template <class Axis, class Divisor>
void mean_pool2d(const Tensor& y, const Tensor& x, const PoolPlanes<Axis>& p, Divisor divisor);
template <class Axis, class Divisor>
void mean_pool2d_backward(const Tensor& gx, const Tensor& gy, const PoolPlanes<Axis>& p,
                          Divisor divisor);

} // namespace splat::ops::cuda
