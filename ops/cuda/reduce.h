// CUDA reduction kernels (same contract as ops/cpu/reduce.h): `reduced[d]` marks the input dims
// folded together; `out` is contiguous with the kept dims in order; every kernel overwrites out;
// x may have any strides. Results equal the CPU's up to the order of floating-point additions
// (f32 sums and products accumulate in double on both) and never depend on the schedule.
#pragma once

#include "core/tensor.h"
#include "ops/cpu/reduce.h"

#include <vector>

namespace splat::ops::cuda {

// One enum for both devices, so ops/reduce.cpp passes the same value to either kernel.
using ReduceOp = cpu::ReduceOp;

void reduce(ReduceOp op, const Tensor& out, const Tensor& x, const std::vector<bool>& reduced);
void var(const Tensor& out, const Tensor& x, const std::vector<bool>& reduced, int64_t correction);
void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& x,
                int64_t dim);

} // namespace splat::ops::cuda
