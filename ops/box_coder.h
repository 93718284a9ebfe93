// MMDetection's DeltaXYWHBBoxCoder: boxes as deltas relative to reference boxes (anchors,
// proposals).
//
// With p the reference box and g the target (centres px = (x1 + x2) / 2, sizes pw = x2 - x1,
// no +1):
//   encode: d = ((gx - px) / pw, (gy - py) / ph, log(gw / pw), log(gh / ph)), then
//           (d - means) / stds
//   decode: d = deltas * stds + means; dw, dh clamped to [-m, m] with m = |log(wh_ratio_clip)|
//           (4.135 for 16/1000); gw = pw exp(dw), gx = px + pw dx (same for y); the box
//           (gx - gw / 2, gy - gh / 2, gx + gw / 2, gy + gh / 2), optionally clipped to an image.
// Floating dtypes (f32, f64); outputs are new contiguous tensors on the inputs' device. Neither
// function is differentiable (targets and decoded boxes are constants to the losses).
#pragma once

#include "core/tensor.h"
#include "ops/boxes.h"

#include <array>
#include <optional>

namespace splat::ops {

struct DeltaXYWHBBoxCoder {
  std::array<double, 4> means = {0, 0, 0, 0};
  std::array<double, 4> stds = {1, 1, 1, 1};
  double wh_ratio_clip = 16.0 / 1000.0;
};

// proposals: (N, 4), gt: (N, 4) -> deltas (N, 4).
Tensor bbox_encode(const Tensor& proposals, const Tensor& gt, const DeltaXYWHBBoxCoder& coder = {});

// rois: (N, 4), deltas: (N, 4 * C) (C classes, or 1 for class-agnostic regression) -> boxes
// (N, 4 * C): slot c of row n decodes deltas[n, 4c:4c+4] against rois[n]. With max_shape the
// boxes are clipped to [0, width] x [0, height] of that image.
Tensor bbox_decode(const Tensor& rois, const Tensor& deltas, const DeltaXYWHBBoxCoder& coder = {},
                   std::optional<SizeHW> max_shape = std::nullopt);

} // namespace splat::ops
