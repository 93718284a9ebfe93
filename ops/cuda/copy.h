// CUDA kernels for copies, casts and fills (same contract as ops/cpu/copy.h). Tensors are on
// one CUDA device; copies between devices go through ops::to.
#pragma once

#include "core/tensor.h"

namespace splat::ops::cuda {

void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& t, double value);

} // namespace splat::ops::cuda
