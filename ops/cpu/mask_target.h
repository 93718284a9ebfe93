// CPU kernel of paste_masks (ops/mask_target.h): the oracle for ops/cuda/mask_target.cu.
// masks (P, M, M) and boxes (P, 4) contiguous, one floating dtype; out (P, H, W) bool,
// contiguous, overwritten. The per-pixel formula is ops/mask_target_fns.h.
#pragma once

#include "core/tensor.h"

namespace splat::ops::cpu {

void paste_masks(const Tensor& out, const Tensor& masks, const Tensor& boxes, double threshold);

} // namespace splat::ops::cpu
