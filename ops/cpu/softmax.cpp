// One row per iteration of the parallel loop; a row with inner > 1 is strided, which the loops
// below walk directly rather than transposing.
#include "ops/cpu/softmax.h"

#include "ops/cpu/parallel.h"

#include <cmath>
#include <limits>

namespace splat::ops::cpu {

SoftmaxRows softmax_rows(const Shape& shape, int64_t dim) {
  SoftmaxRows r;
  if (shape.empty()) return r;
  for (int64_t d = 0; d < dim; ++d) r.outer *= shape[d];
  r.n = shape[dim];
  for (size_t d = dim + 1; d < shape.size(); ++d) r.inner *= shape[d];
  return r;
}

namespace {

// Calls fn(base) for the first element of every row; the row's elements are base + i * inner.
template <class F> void for_each_row(const SoftmaxRows& r, F&& fn) {
  parallel_for(r.outer * r.inner, r.n, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t o = row / r.inner, k = row % r.inner;
      fn(o * r.n * r.inner + k);
    }
  });
}

} // namespace

void softmax(SoftmaxKind kind, const Tensor& y, const Tensor& x, int64_t dim) {
  const SoftmaxRows r = softmax_rows(x.shape(), dim);
  dispatch<DTypeSet::floating>(x.dtype(), "softmax", [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const int64_t s = r.inner;
    for_each_row(r, [&](int64_t base) {
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < r.n; ++i) m = std::max(m, px[base + i * s]);
      T sum = 0;
      for (int64_t i = 0; i < r.n; ++i) {
        const T e = std::exp(px[base + i * s] - m);
        if (kind == SoftmaxKind::softmax) py[base + i * s] = e;
        sum += e;
      }
      if (kind == SoftmaxKind::softmax) {
        const T inv = T(1) / sum;
        for (int64_t i = 0; i < r.n; ++i) py[base + i * s] *= inv;
      } else {
        const T shift = m + std::log(sum);
        for (int64_t i = 0; i < r.n; ++i) py[base + i * s] = px[base + i * s] - shift;
      }
    });
  });
}

void softmax_backward(SoftmaxKind kind, const Tensor& dx, const Tensor& dy, const Tensor& y,
                      int64_t dim) {
  const SoftmaxRows r = softmax_rows(y.shape(), dim);
  dispatch<DTypeSet::floating>(y.dtype(), "softmax backward", [&]<class T>() {
    const T* pdy = dy.data<T>();
    const T* py = y.data<T>();
    T* pdx = dx.data<T>();
    const int64_t s = r.inner;
    for_each_row(r, [&](int64_t base) {
      T dot = 0;
      if (kind == SoftmaxKind::softmax) {
        for (int64_t i = 0; i < r.n; ++i) dot += pdy[base + i * s] * py[base + i * s];
        for (int64_t i = 0; i < r.n; ++i)
          pdx[base + i * s] = py[base + i * s] * (pdy[base + i * s] - dot);
      } else {
        for (int64_t i = 0; i < r.n; ++i) dot += pdy[base + i * s];
        for (int64_t i = 0; i < r.n; ++i)
          pdx[base + i * s] = pdy[base + i * s] - std::exp(py[base + i * s]) * dot;
      }
    });
  });
}

} // namespace splat::ops::cpu
