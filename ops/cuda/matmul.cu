// Batched matrix products on a CUDA device: cuBLAS (or, emulated, the CPU GEMM) through
// core/cuda/blas.h; no kernel of our own. Each operand is passed as row-major or transposed,
// whichever matches its strides, so transposed views (weights in Linear backward) and expanded
// batches (stride 0) multiply without a copy. out (B, n, m) is contiguous and overwritten.
#include "ops/cuda/matmul.h"

#include "core/cuda/blas.h"
#include "core/cuda/device_guard.h"
#include "ops/copy.h"
#include "ops/cuda/copy.h"

#include <algorithm>

namespace splat::ops::cuda {
namespace {

using splat::cuda::Transpose;

// A (B, r, c) operand whose matrices have unit stride along rows or columns.
struct Operand {
  Tensor t;
  Transpose transposed; // stored as the row-major transpose (unit stride along rows)
  int64_t ld;           // the non-unit stride
};

Operand as_gemm_operand(const Tensor& x) {
  const int64_t rows = x.shape()[1], cols = x.shape()[2];
  const int64_t sr = x.strides()[1], sc = x.strides()[2];
  if (sc == 1 && sr >= std::max<int64_t>(cols, 1)) return {x, Transpose::no, sr};
  if (sr == 1 && sc >= std::max<int64_t>(rows, 1)) return {x, Transpose::yes, sc};
  // Degenerate strides (size-1 dims, expanded rows) or fully strided: make it dense.
  const Tensor c = contiguous(x.detach());
  return {c, Transpose::no, std::max<int64_t>(cols, 1)};
}

} // namespace

void bmm(const Tensor& out, const Tensor& a, const Tensor& b) {
  const int64_t batch = a.shape()[0], n = a.shape()[1], k = a.shape()[2], m = b.shape()[2];
  if (out.numel() == 0) return;
  if (k == 0) {
    fill(out, 0);
    return;
  }
  const Operand A = as_gemm_operand(a), B = as_gemm_operand(b);
  splat::cuda::DeviceGuard guard(out.device());
  dispatch<DTypeSet::floating>(a.dtype(), "matmul", [&]<class T>() {
    using splat::cuda::MatrixBatch;
    splat::cuda::gemm_strided_batched(
        A.transposed, B.transposed, n, m, k, T(1),
        MatrixBatch<const T>{A.t.template data<T>(), A.ld, A.t.strides()[0]},
        MatrixBatch<const T>{B.t.template data<T>(), B.ld, B.t.strides()[0]}, T(0),
        MatrixBatch<T>{out.data<T>(), m, n * m}, batch);
  });
}

} // namespace splat::ops::cuda
