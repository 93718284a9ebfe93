// CPU GEMM through OpenBLAS (threaded with OpenMP).
#pragma once

#include "core/tensor.h"

namespace splat::ops::cpu {

// out[b] = a[b] @ b[b] for every batch index: a (B, n, k), b (B, k, m), out (B, n, m) contiguous.
// a and b may have any strides; a matrix whose rows or columns are not unit-stride is copied
// first. Overwrites out.
void bmm(const Tensor& out, const Tensor& a, const Tensor& b);

// One row-major GEMM on raw pointers: c (n, m; row stride ldc) = op(a) @ op(b) + beta * c, where
// op(a) (n, k) is a with row stride lda, or when ta the transpose of a stored (k, n); likewise b.
// OpenBLAS threads it, except inside a parallel region, where it runs on the calling thread.
void gemm(bool ta, bool tb, int64_t n, int64_t m, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool ta, bool tb, int64_t n, int64_t m, int64_t k, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

} // namespace splat::ops::cpu
