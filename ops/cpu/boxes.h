// CPU box kernels (ops/boxes.h states the semantics; the formulas are in ops/box_fns.h).
// Conventions: box tensors are contiguous (N, 4) rows x1, y1, x2, y2 of one floating dtype
// (f32, f64); outputs are contiguous and overwritten (=).
#pragma once

#include "core/tensor.h"
#include "ops/boxes.h"

namespace splat::ops::cpu {

// out: (N, M) = overlap of a[i] (N, 4) and b[j] (M, 4).
void box_iou(const Tensor& out, const Tensor& a, const Tensor& b, IouMode mode, double eps);

} // namespace splat::ops::cpu
