// Batched GEMM on a CUDA device, with two implementations behind one header (design.md section
// 5): blas_real.cpp calls cuBLAS (meson -Dcuda=enabled) and emu/blas_emu.cpp runs the CPU GEMM
// on the emulated device's memory.
//
// Row-major throughout, as splat's tensors are: for every i < batch,
//   C_i = alpha * op(A_i) @ op(B_i) + beta * C_i,   op(A_i): (m, k), op(B_i): (k, n), C_i: (m, n)
// where A_i = a + i * stride_a is stored row-major with leading dimension lda (the distance
// between rows), as the (m, k) matrix itself (Transpose::no) or as its (k, m) transpose
// (Transpose::yes); likewise B_i and C_i (never transposed). A batch stride of 0 reuses one
// matrix for every product. k == 0 gives C_i = beta * C_i. Pointers are device memory of the
// current device; the work is queued on `stream`. f32 products may use TF32 tensor cores on a
// real GPU (about 10 mantissa bits per product, accumulation in f32).
// Every failure throws splat::Error naming the call, the caller's file and line and the status.
#pragma once

#include "core/cuda/runtime.h"
#include "core/error.h"

#include <algorithm>
#include <cstdint>
#include <source_location>

namespace splat::cuda {

enum class Transpose : bool { no, yes };

// One matrix operand of a batch: base pointer, leading dimension, batch stride (elements).
template <class T> struct MatrixBatch {
  T* data;
  int64_t ld;
  int64_t batch_stride;
};

void gemm_strided_batched(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, float alpha,
                          MatrixBatch<const float> a, MatrixBatch<const float> b, float beta,
                          MatrixBatch<float> c, int64_t batch, Stream stream = {},
                          std::source_location where = std::source_location::current());
void gemm_strided_batched(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, double alpha,
                          MatrixBatch<const double> a, MatrixBatch<const double> b, double beta,
                          MatrixBatch<double> c, int64_t batch, Stream stream = {},
                          std::source_location where = std::source_location::current());

namespace detail {
// The checks both implementations make before calling the library, which would otherwise print
// its own complaint (or abort) instead of throwing.
inline void check_gemm_args(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k,
                            int64_t lda, int64_t ldb, int64_t ldc, int64_t batch,
                            const std::source_location& where) {
  const auto at = [&] {
    return str(" (gemm_strided_batched called at ", where.file_name(), ":", where.line(), ")");
  };
  SPLAT_CHECK(m >= 0 && n >= 0 && k >= 0 && batch >= 0, "gemm: negative size m=", m, " n=", n,
              " k=", k, " batch=", batch, at());
  const int64_t min_lda = std::max<int64_t>(1, ta == Transpose::no ? k : m);
  const int64_t min_ldb = std::max<int64_t>(1, tb == Transpose::no ? n : k);
  SPLAT_CHECK(lda >= min_lda && ldb >= min_ldb && ldc >= std::max<int64_t>(1, n),
              "gemm: leading dimensions lda=", lda, " ldb=", ldb, " ldc=", ldc,
              " below the minimum ", min_lda, ", ", min_ldb, ", ", std::max<int64_t>(1, n),
              " for m=", m, " n=", n, " k=", k, at());
}
} // namespace detail

} // namespace splat::cuda
