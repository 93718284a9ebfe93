// CPU NMS kernel, the oracle of the CUDA bitmask kernel (ops/nms.h states the semantics).
// Conventions: boxes contiguous (N, 4), floating, already sorted by decreasing score; groups
// contiguous (N) i64 in the same order, or undefined (one group). keep: (N) i64, its first K
// entries overwritten with the kept positions (into the sorted order), ascending.
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops::cpu {

// Returns K, the number kept (at most max_kept when max_kept >= 0).
int64_t nms_sorted(const Tensor& keep, const Tensor& boxes, const Tensor& groups,
                   double iou_threshold, int64_t max_kept);

} // namespace splat::ops::cpu
