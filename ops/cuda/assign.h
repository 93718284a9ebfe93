// CUDA kernel of the MaxIoU assigner: the contract of ops/cpu/assign.h (the CPU kernel is the
// oracle; both evaluate ops/box_fns.h, so assignments are identical).
#pragma once

#include "core/tensor.h"
#include "ops/assign.h"

namespace splat::ops::cuda {

void max_iou_assign(const Tensor& gt_inds, const Tensor& max_overlaps, const Tensor& labels,
                    const Tensor& overlaps, const Tensor& gt_max, const Tensor& gt_argmax,
                    const Tensor& gt_labels, const MaxIouAssigner& cfg);

} // namespace splat::ops::cuda
