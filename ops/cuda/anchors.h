// CUDA anchor kernel: the contract of ops/cpu/anchors.h (the CPU kernel is the oracle; the
// values are identical, an exact integer shift added to each base anchor).
#pragma once

#include "core/tensor.h"
#include "ops/boxes.h"

namespace splat::ops::cuda {

void grid_anchors(const Tensor& out, const Tensor& base, SizeHW feature, int64_t stride);

} // namespace splat::ops::cuda
