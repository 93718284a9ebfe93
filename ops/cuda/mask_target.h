// CUDA kernel of paste_masks, same contract as ops/cpu/mask_target.h (the oracle).
// masks (P, M, M) and boxes (P, 4) contiguous, one floating dtype; out (P, H, W) bool,
// contiguous, overwritten. The per-pixel formula is ops/mask_target_fns.h.
#pragma once

#include "core/tensor.h"

namespace splat::ops::cuda {

void paste_masks(const Tensor& out, const Tensor& masks, const Tensor& boxes, double threshold);

} // namespace splat::ops::cuda
