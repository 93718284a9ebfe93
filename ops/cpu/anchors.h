// CPU anchor kernel (ops/anchors.h states the layout). Conventions: base anchors are
// contiguous (A, 4); out is contiguous (H * W * A, 4) and overwritten; floating dtypes.
#pragma once

#include "core/tensor.h"
#include "ops/boxes.h"

namespace splat::ops::cpu {

// out[(y * W + x) * A + a] = base[a] + (x * stride, y * stride, x * stride, y * stride).
void grid_anchors(const Tensor& out, const Tensor& base, SizeHW feature, int64_t stride);

} // namespace splat::ops::cpu
