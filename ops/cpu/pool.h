// CPU pooling kernels over contiguous (N, C, H, W) inputs; one (n, c) plane per parallel item.
// Every kernel overwrites its output. The backward kernels scatter each output's gradient in
// output order, which sums the same terms in the same order as the gathers of
// ops/pool_windows.h that the CUDA kernels run.
// Dtypes: f32, f64.
#pragma once

#include "core/tensor.h"
#include "ops/pool_windows.h"

namespace splat::ops::cpu {

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

} // namespace splat::ops::cpu
