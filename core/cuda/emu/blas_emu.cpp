// core/cuda/blas.h for the emulated device: the CPU GEMM (OpenBLAS cblas, as ops/cpu/matmul.cpp
// uses). Emulated device memory is host memory, so this wrapper is the one place that hands
// device pointers to a host library; everything else reaches device memory through kernels and
// the runtime. Streams run synchronously in the emulator, so the product is done on return.
#include "core/cuda/blas.h"

#include <cblas.h>

#include <type_traits>

namespace splat::cuda {
namespace {

template <class T>
void gemm(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, T alpha,
          MatrixBatch<const T> a, MatrixBatch<const T> b, T beta, MatrixBatch<T> c, int64_t batch,
          const std::source_location& where) {
  detail::check_gemm_args(ta, tb, m, n, k, a.ld, b.ld, c.ld, batch, where);
  if (m == 0 || n == 0) return;
  const auto opa = ta == Transpose::yes ? CblasTrans : CblasNoTrans;
  const auto opb = tb == Transpose::yes ? CblasTrans : CblasNoTrans;
  for (int64_t i = 0; i < batch; ++i) {
    const T* pa = a.data + i * a.batch_stride;
    const T* pb = b.data + i * b.batch_stride;
    T* pc = c.data + i * c.batch_stride;
    if (k == 0) {
      // BLAS leaves C alone for k == 0 only when beta == 1; spell out C = beta * C (beta == 0
      // must not propagate NaNs from an uninitialised C).
      for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < n; ++j)
          pc[r * c.ld + j] = beta == T(0) ? T(0) : beta * pc[r * c.ld + j];
    } else if constexpr (std::is_same_v<T, float>) {
      cblas_sgemm(CblasRowMajor, opa, opb, m, n, k, alpha, pa, a.ld, pb, b.ld, beta, pc, c.ld);
    } else {
      cblas_dgemm(CblasRowMajor, opa, opb, m, n, k, alpha, pa, a.ld, pb, b.ld, beta, pc, c.ld);
    }
  }
}

} // namespace

void gemm_strided_batched(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, float alpha,
                          MatrixBatch<const float> a, MatrixBatch<const float> b, float beta,
                          MatrixBatch<float> c, int64_t batch, Stream, std::source_location where) {
  gemm<float>(ta, tb, m, n, k, alpha, a, b, beta, c, batch, where);
}

void gemm_strided_batched(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, double alpha,
                          MatrixBatch<const double> a, MatrixBatch<const double> b, double beta,
                          MatrixBatch<double> c, int64_t batch, Stream,
                          std::source_location where) {
  gemm<double>(ta, tb, m, n, k, alpha, a, b, beta, c, batch, where);
}

} // namespace splat::cuda
