// Mask R-CNN mask targets and the inverse paste (shared/spec/resnest-detectors.md sections 3.3
// and 3.4), with mmdet's semantics.
#pragma once

#include "core/tensor.h"

namespace splat::ops {

// mmdet's BitmapMasks.crop_and_resize with binarize: each RoI cut out of its assigned ground-truth
// bitmap by RoIAlign (aligned, adaptive sampling, scale 1, average) to out_size x out_size, then
// >= 0.5. gt_masks: (G, H, W) u8 or bool bitmaps; rois: (P, 4) [x1, y1, x2, y2] float32/float64
// in the masks' pixel coordinates; assigned: (P) i64/i32 index into G per RoI. Returns (P,
// out_size, out_size) of rois' dtype holding 0 and 1. Not differentiable (targets).
Tensor mask_target(const Tensor& gt_masks, const Tensor& rois, const Tensor& assigned,
                   int64_t out_size = 28);

// mmdet's _do_paste_mask over the whole image, then >= threshold: mask p (a probability map over
// box p) is resampled bilinearly (F.grid_sample, align_corners=False, zero padding) at the centre
// of every image pixel, pixel (y, x) reading mask coordinates
//   u = (x + 0.5 - x1) / (x2 - x1) * M - 0.5,  v = (y + 0.5 - y1) / (y2 - y1) * M - 0.5
// for an M x M mask. mask_probs: (P, M, M) float32/float64; boxes: (P, 4) [x1, y1, x2, y2] of the
// same dtype in image pixels. Returns bool (P, image_h, image_w). Not differentiable.
Tensor paste_masks(const Tensor& mask_probs, const Tensor& boxes, int64_t image_h, int64_t image_w,
                   double threshold = 0.5);

} // namespace splat::ops
