// CUDA softmax / log-softmax, the counterparts of ops/cpu/softmax.cpp (contract in
// ops/cuda/softmax.h). One block slot per row (layout in ops/cuda/row_reduce.cuh):
//  forward:  one pass folds the row into its online normaliser (max, sum exp(x - max)), a second
//            writes exp(x - max) / sum or x - max - log(sum);
//  backward: one pass sums dy * y (softmax) or dy (log_softmax), a second writes dx.
// Dtypes f32, f64; accumulation in T (as PyTorch's CUDA kernels do for float). Outputs are
// overwritten; no atomics.
#include "ops/cuda/softmax.h"

#include "core/cuda/device_guard.h"
#include "ops/cuda/row_reduce.cuh"

namespace splat::ops::cuda {
namespace {

// Calls body(row) for the rows of this thread's slot, in grid-stride groups; every thread runs
// the same number of iterations (rows past the end included), so all reach the barriers that
// body holds.
template <class Body>
__device__ void for_each_row_group(int64_t row_count, const RowThread& t, Body&& body) {
  for (int64_t first = static_cast<int64_t>(blockIdx.x) * t.slots; first < row_count;
       first += static_cast<int64_t>(gridDim.x) * t.slots)
    body(first + t.slot);
}

template <class T>
__global__ void softmax_kernel(cpu::SoftmaxRows r, SoftmaxKind kind, bool lanes_on_x, const T* x,
                               T* y) {
  SPLAT_SHARED(MaxSum<T>, smem, kRowBlock);
  const RowThread t = row_thread(lanes_on_x);
  const int64_t rows = r.outer * r.inner;
  for_each_row_group(rows, t, [&](int64_t row) {
    const MaxSum<T> ms = row_max_sum(r, x, row, rows, t, smem, lanes_on_x);
    if (row >= rows) return;
    const int64_t base = row_base(r, row);
    if (kind == SoftmaxKind::softmax) {
      const T inv = T(1) / ms.s;
      for (int64_t i = t.lane; i < r.n; i += t.lanes) {
        const int64_t at = base + i * r.inner;
        y[at] = std::exp(x[at] - ms.m) * inv;
      }
    } else {
      const T shift = ms.m + std::log(ms.s);
      for (int64_t i = t.lane; i < r.n; i += t.lanes) {
        const int64_t at = base + i * r.inner;
        y[at] = x[at] - shift;
      }
    }
  });
}

template <class T>
__global__ void softmax_backward_kernel(cpu::SoftmaxRows r, SoftmaxKind kind, bool lanes_on_x,
                                        const T* dy, const T* y, T* dx) {
  SPLAT_SHARED(Sum<T>, smem, kRowBlock);
  const RowThread t = row_thread(lanes_on_x);
  const int64_t rows = r.outer * r.inner;
  const bool soft = kind == SoftmaxKind::softmax;
  for_each_row_group(rows, t, [&](int64_t row) {
    const int64_t base = row < rows ? row_base(r, row) : 0;
    Sum<T> a = Sum<T>::identity();
    if (row < rows)
      for (int64_t i = t.lane; i < r.n; i += t.lanes) {
        const int64_t at = base + i * r.inner;
        a.v += soft ? dy[at] * y[at] : dy[at];
      }
    const T dot = combine_lanes(a, smem, lanes_on_x).v;
    if (row >= rows) return;
    for (int64_t i = t.lane; i < r.n; i += t.lanes) {
      const int64_t at = base + i * r.inner;
      dx[at] = soft ? y[at] * (dy[at] - dot) : dy[at] - std::exp(y[at]) * dot;
    }
  });
}

} // namespace

void softmax(SoftmaxKind kind, const Tensor& y, const Tensor& x, int64_t dim) {
  const RowPlan p = make_row_plan(cpu::softmax_rows(x.shape(), dim));
  if (x.numel() == 0) return;
  splat::cuda::DeviceGuard guard(x.device());
  dispatch<DTypeSet::floating>(x.dtype(), "softmax", [&]<class T>() {
    splat::cuda::launch(softmax_kernel<T>, {p.blocks, p.block()}, p.rows, kind, p.lanes_on_x,
                        x.data<T>(), y.data<T>());
  });
}

void softmax_backward(SoftmaxKind kind, const Tensor& dx, const Tensor& dy, const Tensor& y,
                      int64_t dim) {
  const RowPlan p = make_row_plan(cpu::softmax_rows(y.shape(), dim));
  if (y.numel() == 0) return;
  splat::cuda::DeviceGuard guard(y.device());
  dispatch<DTypeSet::floating>(y.dtype(), "softmax backward", [&]<class T>() {
    splat::cuda::launch(softmax_backward_kernel<T>, {p.blocks, p.block()}, p.rows, kind,
                        p.lanes_on_x, dy.data<T>(), y.data<T>(), dx.data<T>());
  });
}

} // namespace splat::ops::cuda
