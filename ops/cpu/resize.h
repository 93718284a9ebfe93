// CPU resampling kernels (ops/resize.h states the index rules; ops/resize_geometry.h holds the
// per-pixel formulas shared with the CUDA kernels).
//
// Layout: x / dx (N, C, H, W) and y / dy (N, C, OH, OW), all contiguous; sizes are read from the
// shapes. Every kernel overwrites its output (= not +=). Backward kernels gather: each input
// pixel sums the output pixels that read it in a fixed order, so they are deterministic.
// Dtypes: f32, f64.
#pragma once

#include "core/tensor.h"

namespace splat::ops::cpu {

void upsample_nearest2d(const Tensor& y, const Tensor& x);
void upsample_nearest2d_backward(const Tensor& dx, const Tensor& dy);
void interpolate_bilinear2d(const Tensor& y, const Tensor& x, bool align_corners);
void interpolate_bilinear2d_backward(const Tensor& dx, const Tensor& dy, bool align_corners);

} // namespace splat::ops::cpu
