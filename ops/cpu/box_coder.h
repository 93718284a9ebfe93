// CPU kernels of the DeltaXYWH box coder (ops/box_coder.h; formulas in ops/box_fns.h).
// Conventions: inputs contiguous, floating (f32, f64); outputs contiguous and overwritten (=).
#pragma once

#include "core/tensor.h"
#include "ops/box_coder.h"

#include <optional>

namespace splat::ops::cpu {

// out: (N, 4) = deltas of gt (N, 4) relative to proposals (N, 4).
void bbox_encode(const Tensor& out, const Tensor& proposals, const Tensor& gt,
                 const DeltaXYWHBBoxCoder& coder);
// out: (N, 4C) = boxes decoded from deltas (N, 4C) relative to rois (N, 4).
void bbox_decode(const Tensor& out, const Tensor& rois, const Tensor& deltas,
                 const DeltaXYWHBBoxCoder& coder, std::optional<SizeHW> max_shape);

} // namespace splat::ops::cpu
