// CUDA NMS kernels: the contract of ops/cpu/nms.h (the CPU greedy loop is the oracle; both
// test overlaps with ops/box_fns.h, so they keep the same boxes in the same order).
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops::cuda {

// Returns K, read back from the device (the only host synchronisation).
int64_t nms_sorted(const Tensor& keep, const Tensor& boxes, const Tensor& groups,
                   double iou_threshold, int64_t max_kept);

} // namespace splat::ops::cuda
