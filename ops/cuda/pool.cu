// CUDA pooling (contract in ops/cuda/pool.h). Layout: contiguous (N, C, H, W) planes; a
// grid-stride loop gives each thread one cell (plane, row, col) of the output (forward) or of
// the input (backward), whose value the shared bodies of ops/pool_windows.h compute. Backward
// gathers over the windows that contain the input cell, so there are no atomics and results do
// not depend on the schedule. Dtypes: f32, f64.
#include "ops/cuda/pool.h"

#include "ops/cuda/loop.cuh"

namespace splat::ops::cuda {
namespace {

// f(plane, r, c) for every cell of the rows x cols grids of `planes` planes.
template <class F> __global__ void cells_kernel(int64_t planes, int64_t rows, int64_t cols, F f) {
  const int64_t n = planes * rows * cols;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const int64_t c = i % cols, r = (i / cols) % rows, plane = i / (cols * rows);
    f(plane, r, c);
  }
}

template <class F> void for_each_cell(const Tensor& t, int64_t rows, int64_t cols, const F& f) {
  const int64_t n = t.numel();
  if (n == 0) return;
  splat::cuda::DeviceGuard guard(t.device());
  splat::cuda::launch(cells_kernel<F>, {blocks_for(n), kThreads}, n / (rows * cols), rows, cols, f);
}

template <class T> struct MaxForward {
  PoolPlanes<SlidingAxis> p;
  const T* x;
  T* y;
  int64_t* index;
  __device__ void operator()(int64_t plane, int64_t oh, int64_t ow) const {
    max_pool_output(p, x + plane * p.in_plane(), oh, ow, y + plane * p.out_plane(),
                    index + plane * p.out_plane());
  }
};

template <class T> struct MaxBackward {
  PoolPlanes<SlidingAxis> p;
  const T* gy;
  const int64_t* index;
  T* gx;
  __device__ void operator()(int64_t plane, int64_t ih, int64_t iw) const {
    const int64_t o = plane * p.out_plane();
    max_pool_grad_input(p, gy + o, index + o, ih, iw, gx + plane * p.in_plane());
  }
};

template <class T, class Axis, class Divisor> struct MeanForward {
  PoolPlanes<Axis> p;
  Divisor divisor;
  const T* x;
  T* y;
  __device__ void operator()(int64_t plane, int64_t oh, int64_t ow) const {
    mean_pool_output(p, divisor, x + plane * p.in_plane(), oh, ow, y + plane * p.out_plane());
  }
};

template <class T, class Axis, class Divisor> struct MeanBackward {
  PoolPlanes<Axis> p;
  Divisor divisor;
  const T* gy;
  T* gx;
  __device__ void operator()(int64_t plane, int64_t ih, int64_t iw) const {
    mean_pool_grad_input(p, divisor, gy + plane * p.out_plane(), ih, iw, gx + plane * p.in_plane());
  }
};

} // namespace

template <class Axis, class Divisor>
void mean_pool2d(const Tensor& y, const Tensor& x, const PoolPlanes<Axis>& p, Divisor divisor) {
  dispatch<DTypeSet::floating>(x.dtype(), "mean_pool2d", [&]<class T>() {
    for_each_cell(y, p.h.out, p.w.out,
                  MeanForward<T, Axis, Divisor>{p, divisor, x.data<T>(), y.data<T>()});
  });
}

template <class Axis, class Divisor>
void mean_pool2d_backward(const Tensor& gx, const Tensor& gy, const PoolPlanes<Axis>& p,
                          Divisor divisor) {
  dispatch<DTypeSet::floating>(gx.dtype(), "mean_pool2d_backward", [&]<class T>() {
    for_each_cell(gx, p.h.in, p.w.in,
                  MeanBackward<T, Axis, Divisor>{p, divisor, gy.data<T>(), gx.data<T>()});
  });
}

void max_pool2d(const Tensor& y, const Tensor& index, const Tensor& x,
                const PoolPlanes<SlidingAxis>& p) {
  dispatch<DTypeSet::floating>(x.dtype(), "max_pool2d", [&]<class T>() {
    for_each_cell(y, p.h.out, p.w.out,
                  MaxForward<T>{p, x.data<T>(), y.data<T>(), index.data<int64_t>()});
  });
}

void max_pool2d_backward(const Tensor& gx, const Tensor& gy, const Tensor& index,
                         const PoolPlanes<SlidingAxis>& p) {
  dispatch<DTypeSet::floating>(gx.dtype(), "max_pool2d_backward", [&]<class T>() {
    for_each_cell(gx, p.h.in, p.w.in,
                  MaxBackward<T>{p, gy.data<T>(), index.data<int64_t>(), gx.data<T>()});
  });
}

template void mean_pool2d(const Tensor&, const Tensor&, const PoolPlanes<SlidingAxis>&, AvgDivisor);
template void mean_pool2d(const Tensor&, const Tensor&, const PoolPlanes<AdaptiveAxis>&,
                          AdaptiveDivisor);
template void mean_pool2d_backward(const Tensor&, const Tensor&, const PoolPlanes<SlidingAxis>&,
                                   AvgDivisor);
template void mean_pool2d_backward(const Tensor&, const Tensor&, const PoolPlanes<AdaptiveAxis>&,
                                   AdaptiveDivisor);

} // namespace splat::ops::cuda
