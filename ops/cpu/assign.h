// CPU kernel of the MaxIoU assigner (ops/assign.h states the rules; ops/box_fns.h holds the
// per-box rule). Conventions: overlaps contiguous (G, N) with G >= 1, floating; gt_max (G) and
// gt_argmax (G) i64 are the row maxima of overlaps and their first positions; gt_labels (G)
// i64 or undefined. Outputs contiguous and overwritten (=): gt_inds (N) i64, max_overlaps (N)
// in overlaps' dtype, labels (N) i64 (skipped when undefined).
#pragma once

#include "core/tensor.h"
#include "ops/assign.h"

namespace splat::ops::cpu {

void max_iou_assign(const Tensor& gt_inds, const Tensor& max_overlaps, const Tensor& labels,
                    const Tensor& overlaps, const Tensor& gt_max, const Tensor& gt_argmax,
                    const Tensor& gt_labels, const MaxIouAssigner& cfg);

} // namespace splat::ops::cpu
