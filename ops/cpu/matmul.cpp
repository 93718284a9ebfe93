// GEMM goes to OpenBLAS (Debian's OpenMP build, so it follows splat's thread count and runs
// single-threaded inside our own parallel regions). Measured on the 2-core build machine, f32
// n=1024: OpenBLAS about 170 GFLOP/s, Eigen 3.4 about 116. Each operand is passed as row-major
// or transposed, whichever matches its strides, so transposed views (weights in Linear backward)
// multiply without a copy.
#include "ops/cpu/matmul.h"

#include "ops/gemm_operand.h"
#include "ops/cpu/copy.h"
#include "ops/cpu/parallel.h"

#include <cblas.h>

namespace splat::ops::cpu {

void gemm(bool ta, bool tb, int64_t n, int64_t m, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, n, m,
              k, 1.f, a, lda, b, ldb, beta, c, ldc);
}
void gemm(bool ta, bool tb, int64_t n, int64_t m, int64_t k, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, n, m,
              k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

void bmm(const Tensor& out, const Tensor& a, const Tensor& b) {
  const int64_t batch = a.shape()[0], n = a.shape()[1], k = a.shape()[2], m = b.shape()[2];
  if (out.numel() == 0) return;
  if (k == 0) {
    fill(out, 0);
    return;
  }
  const GemmOperand A = as_gemm_operand(a), B = as_gemm_operand(b);
  dispatch<DTypeSet::floating>(a.dtype(), "matmul", [&]<class T>() {
    const T* pa = A.t.template data<T>();
    const T* pb = B.t.template data<T>();
    T* po = out.data<T>();
    const int64_t sa = A.t.strides()[0], sb = B.t.strides()[0];
    auto one = [&](int64_t i) {
      gemm(A.transposed, B.transposed, n, m, k, pa + i * sa, A.ld, pb + i * sb, B.ld, T(0),
           po + i * n * m, m);
    };
    // Many small products parallelise over the batch; one large product lets OpenBLAS thread it.
    if (batch >= omp_get_max_threads()) {
      parallel_for(batch, n * k * m, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) one(i);
      });
    } else {
      for (int64_t i = 0; i < batch; ++i) one(i);
    }
  });
}

} // namespace splat::ops::cpu
