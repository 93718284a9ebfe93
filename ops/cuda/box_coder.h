// CUDA kernels of the DeltaXYWH box coder: the contracts of ops/cpu/box_coder.h (the CPU
// kernels are the oracle; both evaluate ops/box_fns.h).
#pragma once

#include "core/tensor.h"
#include "ops/box_coder.h"

#include <optional>

namespace splat::ops::cuda {

void bbox_encode(const Tensor& out, const Tensor& proposals, const Tensor& gt,
                 const DeltaXYWHBBoxCoder& coder);
void bbox_decode(const Tensor& out, const Tensor& rois, const Tensor& deltas,
                 const DeltaXYWHBBoxCoder& coder, std::optional<SizeHW> max_shape);

} // namespace splat::ops::cuda
