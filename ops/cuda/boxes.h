// CUDA box kernels: the contracts of ops/cpu/boxes.h (the CPU kernels are the oracle; both
// evaluate ops/box_fns.h, so results are bit-identical).
#pragma once

#include "core/tensor.h"
#include "ops/boxes.h"

namespace splat::ops::cuda {

void box_iou(const Tensor& out, const Tensor& a, const Tensor& b, IouMode mode, double eps);

} // namespace splat::ops::cuda
