// Each operand is handed to Eigen as a row-major or column-major map, whichever matches its
// strides, so transposed views (weights in Linear backward) multiply without a copy.
#include "ops/cpu/matmul.h"

#include "ops/copy.h"
#include "ops/cpu/copy.h"
#include "ops/cpu/parallel.h"

#include <Eigen/Core>

namespace splat::ops::cpu {
namespace {

template <class T, int Order>
using MatMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, 0, Eigen::OuterStride<>>;
template <class T>
using OutMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// A (B, r, c) operand whose matrices have unit stride along rows or columns.
struct Operand {
  Tensor t;
  bool row_major;
  int64_t ld;  // the non-unit stride
};

Operand as_gemm_operand(const Tensor& x) {
  const int64_t rows = x.shape()[1], cols = x.shape()[2];
  const int64_t sr = x.strides()[1], sc = x.strides()[2];
  if (sc == 1 && (sr >= cols || rows == 1)) return {x, true, std::max<int64_t>(sr, cols)};
  if (sr == 1 && (sc >= rows || cols == 1)) return {x, false, std::max<int64_t>(sc, rows)};
  return {contiguous(x), true, cols};
}

template <class T, int OA, int OB>
void gemm(T* out, const T* a, const T* b, int64_t n, int64_t k, int64_t m, int64_t lda, int64_t ldb) {
  OutMap<T> o(out, n, m);
  o.noalias() = MatMap<T, OA>(a, n, k, Eigen::OuterStride<>(lda)) *
                MatMap<T, OB>(b, k, m, Eigen::OuterStride<>(ldb));
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
  dispatch<DTypeSet::floating>(a.dtype(), "matmul", [&]<class T>() {
    using GemmFn = void (*)(T*, const T*, const T*, int64_t, int64_t, int64_t, int64_t, int64_t);
    constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
    const GemmFn f = A.row_major ? (B.row_major ? gemm<T, R, R> : gemm<T, R, C>)
                                 : (B.row_major ? gemm<T, C, R> : gemm<T, C, C>);
    const T* pa = A.t.template data<T>();
    const T* pb = B.t.template data<T>();
    T* po = out.data<T>();
    const int64_t sa = A.t.strides()[0], sb = B.t.strides()[0];
    auto one = [&](int64_t i) { f(po + i * n * m, pa + i * sa, pb + i * sb, n, k, m, A.ld, B.ld); };
    // Many small products parallelise over the batch; one large product lets Eigen thread it.
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
