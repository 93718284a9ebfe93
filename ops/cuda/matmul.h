// CUDA GEMM (same contract as ops/cpu/matmul.h), through core/cuda/blas.h.
#pragma once

#include "core/tensor.h"

namespace splat::ops::cuda {

// out[b] = a[b] @ b[b] for every batch index: a (B, n, k), b (B, k, m), out (B, n, m) contiguous.
// a and b may have any strides; a matrix whose rows or columns are not unit-stride is copied
// first. Overwrites out.
void bmm(const Tensor& out, const Tensor& a, const Tensor& b);

} // namespace splat::ops::cuda
