// Non-maximum suppression and the score pre-selection around it.
//
// nms: boxes are visited in order of decreasing score, ties broken by the lower index (a
// stable sort); a box is kept unless a kept box before it overlaps it with IoU strictly above
// iou_threshold (IoU = inter / (area_a + area_b - inter) as torchvision, no eps: two zero-area
// boxes overlap with NaN and never suppress each other). The result lists the kept indices
// (i64) in that visiting order. CPU and CUDA give the same indices in the same order.
// CUDA: one kernel builds the overlap bitmask in blocks of 64 boxes; one single-block kernel
// sweeps it on the device; the number kept is read back to size the result (one
// device-to-host copy of one integer).
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops {

// boxes: (N, 4) x1y1x2y2, scores: (N), one floating dtype -> kept indices (K) i64. max_kept
// >= 0 stops after that many boxes (the first max_kept of the full result).
Tensor nms(const Tensor& boxes, const Tensor& scores, double iou_threshold, int64_t max_kept = -1);

// NMS within groups: boxes only suppress boxes with the same idxs value (a class or FPN level
// id, (N) i64 or i32). The result is ordered as nms's. Equal to torchvision's batched_nms
// (exactly to its per-class path; its coordinate-offset path moves the boxes before computing
// IoUs, which can change an IoU by a rounding error).
Tensor batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& idxs,
                   double iou_threshold, int64_t max_kept = -1);

// scores: (N) -> the indices (i64, ascending) of the scores strictly above threshold.
Tensor score_above(const Tensor& scores, double threshold);

// scores: (N) -> the indices (i64) of the k highest scores in decreasing order, ties by lower
// index. k <= 0 or k >= N keeps all N (MMDetection's nms_pre rule "0 < nms_pre < N").
Tensor top_k_scores(const Tensor& scores, int64_t k);

} // namespace splat::ops
