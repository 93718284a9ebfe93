// Batched matrix products on a CUDA device: cuBLAS (or, emulated, the CPU GEMM) through
// core/cuda/blas.h; no kernel of our own. Each operand is passed as row-major or transposed,
// whichever matches its strides, so transposed views (weights in Linear backward) and expanded
// batches (stride 0) multiply without a copy. out (B, n, m) is contiguous and overwritten.
#include "ops/cuda/matmul.h"

#include "core/cuda/blas.h"
#include "core/cuda/device_guard.h"
#include "ops/gemm_operand.h"
#include "ops/cuda/copy.h"

#include <algorithm>

namespace splat::ops::cuda {
namespace {
splat::cuda::Transpose transpose_flag(const GemmOperand& op) {
  return op.transposed ? splat::cuda::Transpose::yes : splat::cuda::Transpose::no;
}
} // namespace

void bmm(const Tensor& out, const Tensor& a, const Tensor& b) {
  const int64_t batch = a.shape()[0], n = a.shape()[1], k = a.shape()[2], m = b.shape()[2];
  if (out.numel() == 0) return;
  if (k == 0) {
    fill(out, 0);
    return;
  }
  const GemmOperand A = as_gemm_operand(a), B = as_gemm_operand(b);
  splat::cuda::DeviceGuard guard(out.device());
  dispatch<DTypeSet::floating>(a.dtype(), "matmul", [&]<class T>() {
    using splat::cuda::MatrixBatch;
    splat::cuda::gemm_strided_batched(
        transpose_flag(A), transpose_flag(B), n, m, k, T(1),
        MatrixBatch<const T>{A.t.template data<T>(), A.ld, A.t.strides()[0]},
        MatrixBatch<const T>{B.t.template data<T>(), B.ld, B.t.strides()[0]}, T(0),
        MatrixBatch<T>{out.data<T>(), m, n * m}, batch);
  });
}

} // namespace splat::ops::cuda
