// core/cuda/blas.h on cuBLAS. cuBLAS is column-major; a row-major matrix is the column-major
// view of its transpose, so C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T: the operands
// swap places and m and n swap, while each keeps its transpose flag and leading dimension.
#include "core/cuda/blas.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <mutex>
#include <vector>

namespace splat::cuda {
namespace {

void check(cublasStatus_t status, const char* call, const std::source_location& where) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(str(call, " failed at ", where.file_name(), ":", where.line(), ": ",
                  cublasGetStatusName(status), ": ", cublasGetStatusString(status)));
}

// One handle per device, created on first use with the device current (a handle belongs to the
// device current at its creation). Handles live until the process exits: destroying them from
// static destructors could run after the CUDA runtime has been torn down.
cublasHandle_t handle_for_current_device(const std::source_location& where) {
  static std::mutex mu;
  static std::vector<cublasHandle_t> handles;
  const int device = current_device();
  std::lock_guard lock(mu);
  if (handles.size() <= static_cast<size_t>(device))
    handles.resize(static_cast<size_t>(device) + 1, nullptr);
  cublasHandle_t& h = handles[static_cast<size_t>(device)];
  if (h == nullptr) {
    cublasHandle_t created = nullptr;
    check(cublasCreate(&created), "cublasCreate", where);
    // TF32 tensor cores for f32 GEMMs (design.md section 9); f64 is unaffected.
    check(cublasSetMathMode(created, CUBLAS_TF32_TENSOR_OP_MATH), "cublasSetMathMode", where);
    h = created;
  }
  return h;
}

cublasOperation_t op(Transpose t) { return t == Transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N; }

template <class T, class Gemm>
void gemm(Gemm call, const char* name, Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k,
          T alpha, MatrixBatch<const T> a, MatrixBatch<const T> b, T beta, MatrixBatch<T> c,
          int64_t batch, Stream stream, const std::source_location& where) {
  detail::check_gemm_args(ta, tb, m, n, k, a.ld, b.ld, c.ld, batch, where);
  if (m == 0 || n == 0 || batch == 0) return;
  cublasHandle_t h = handle_for_current_device(where);
  check(cublasSetStream(h, static_cast<cudaStream_t>(stream.handle)), "cublasSetStream", where);
  check(call(h, op(tb), op(ta), n, m, k, &alpha, b.data, b.ld, b.batch_stride, a.data, a.ld,
             a.batch_stride, &beta, c.data, c.ld, c.batch_stride, batch),
        name, where);
}

} // namespace

void gemm_strided_batched(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, float alpha,
                          MatrixBatch<const float> a, MatrixBatch<const float> b, float beta,
                          MatrixBatch<float> c, int64_t batch, Stream stream,
                          std::source_location where) {
  gemm<float>(cublasSgemmStridedBatched_64, "cublasSgemmStridedBatched", ta, tb, m, n, k, alpha, a,
              b, beta, c, batch, stream, where);
}

void gemm_strided_batched(Transpose ta, Transpose tb, int64_t m, int64_t n, int64_t k, double alpha,
                          MatrixBatch<const double> a, MatrixBatch<const double> b, double beta,
                          MatrixBatch<double> c, int64_t batch, Stream stream,
                          std::source_location where) {
  gemm<double>(cublasDgemmStridedBatched_64, "cublasDgemmStridedBatched", ta, tb, m, n, k, alpha, a,
               b, beta, c, batch, stream, where);
}

} // namespace splat::cuda
