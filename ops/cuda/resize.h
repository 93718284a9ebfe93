// CUDA resampling kernels, same contract as ops/cpu/resize.h (contiguous NCHW tensors, outputs
// overwritten, gather-form backward without atomics). They evaluate the same per-pixel formulas
// (ops/resize_geometry.h) in the same order as the CPU kernels (nearest: identical results).
#pragma once

#include "core/tensor.h"

namespace splat::ops::cuda {

void upsample_nearest2d(const Tensor& y, const Tensor& x);
void upsample_nearest2d_backward(const Tensor& dx, const Tensor& dy);
void interpolate_bilinear2d(const Tensor& y, const Tensor& x, bool align_corners);
void interpolate_bilinear2d_backward(const Tensor& dx, const Tensor& dy, bool align_corners);

} // namespace splat::ops::cuda
