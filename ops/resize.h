// Spatial resampling of NCHW tensors (float32, float64; any strides), as FPN and the mask head
// use them, following PyTorch's F.interpolate rules.
//
// upsample_nearest2d: mode='nearest' (not 'nearest-exact'): output pixel (oy, ox) reads input
//   pixel (floor(oy * H / OH), floor(ox * W / OW)), computed with PyTorch's float scale
//   (in / out) so results match its index choice exactly. With an integer scale s the output is
//   (H * s, W * s).
// interpolate_bilinear2d: mode='bilinear'. align_corners=false: source coordinate
//   (o + 0.5) * in / out - 0.5 clamped below at 0 (half-pixel centres); align_corners=true:
//   o * (in - 1) / (out - 1) (0 when out == 1). The upper neighbour is clamped to the last pixel.
// x: (N, C, H, W) -> (N, C, OH, OW). Output sizes must be positive. Both are differentiable in x;
// the backward kernels gather (each input pixel sums the output pixels that read it, in a fixed
// order), so they are deterministic on both devices and use no atomics.
#pragma once

#include "core/tensor.h"

#include <array>

namespace splat::ops {

Tensor upsample_nearest2d(const Tensor& x, int64_t scale);
Tensor upsample_nearest2d(const Tensor& x, std::array<int64_t, 2> size);
Tensor interpolate_bilinear2d(const Tensor& x, std::array<int64_t, 2> size,
                              bool align_corners = false);

} // namespace splat::ops
