// CPU pooling: the (n, c) planes are split over threads; within a plane each output (forward) or
// input (backward) element is computed by the shared body in ops/pool_windows.h.
#include "ops/cpu/pool.h"

#include "ops/cpu/parallel.h"

namespace splat::ops::cpu {
namespace {

// Calls body(plane, r, c) for every (r, c) of a rows x cols grid in every plane of t.
template <class Body>
void for_each_plane_cell(const Tensor& t, int64_t rows, int64_t cols, int64_t work, Body&& body) {
  const int64_t planes = rows * cols == 0 ? 0 : t.numel() / (rows * cols);
  parallel_for(planes, rows * cols * work, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) body(plane, r, c);
  });
}

} // namespace

void max_pool2d(const Tensor& y, const Tensor& index, const Tensor& x,
                const PoolPlanes<SlidingAxis>& p) {
  dispatch<DTypeSet::floating>(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    int64_t* pi = index.data<int64_t>();
    for_each_plane_cell(y, p.h.out, p.w.out, p.window_cells(),
                        [&](int64_t plane, int64_t oh, int64_t ow) {
                          max_pool_output(p, px + plane * p.in_plane(), oh, ow,
                                          py + plane * p.out_plane(), pi + plane * p.out_plane());
                        });
  });
}

void max_pool2d_backward(const Tensor& gx, const Tensor& gy, const Tensor& index,
                         const PoolPlanes<SlidingAxis>& p) {
  dispatch<DTypeSet::floating>(gx.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* pgy = gy.data<T>();
    const int64_t* pi = index.data<int64_t>();
    T* pgx = gx.data<T>();
    for_each_plane_cell(
        gx, p.h.in, p.w.in, p.window_cells(), [&](int64_t plane, int64_t ih, int64_t iw) {
          const int64_t o = plane * p.out_plane();
          max_pool_grad_input(p, pgy + o, pi + o, ih, iw, pgx + plane * p.in_plane());
        });
  });
}

template <class Axis, class Divisor>
void mean_pool2d(const Tensor& y, const Tensor& x, const PoolPlanes<Axis>& p, Divisor divisor) {
  dispatch<DTypeSet::floating>(x.dtype(), "mean_pool2d", [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for_each_plane_cell(y, p.h.out, p.w.out, p.window_cells(),
                        [&](int64_t plane, int64_t oh, int64_t ow) {
                          mean_pool_output(p, divisor, px + plane * p.in_plane(), oh, ow,
                                           py + plane * p.out_plane());
                        });
  });
}

template <class Axis, class Divisor>
void mean_pool2d_backward(const Tensor& gx, const Tensor& gy, const PoolPlanes<Axis>& p,
                          Divisor divisor) {
  dispatch<DTypeSet::floating>(gx.dtype(), "mean_pool2d_backward", [&]<class T>() {
    const T* pgy = gy.data<T>();
    T* pgx = gx.data<T>();
    for_each_plane_cell(gx, p.h.in, p.w.in, p.window_cells(),
                        [&](int64_t plane, int64_t ih, int64_t iw) {
                          mean_pool_grad_input(p, divisor, pgy + plane * p.out_plane(), ih, iw,
                                               pgx + plane * p.in_plane());
                        });
  });
}

template void mean_pool2d(const Tensor&, const Tensor&, const PoolPlanes<SlidingAxis>&, AvgDivisor);
template void mean_pool2d(const Tensor&, const Tensor&, const PoolPlanes<AdaptiveAxis>&,
                          AdaptiveDivisor);
template void mean_pool2d_backward(const Tensor&, const Tensor&, const PoolPlanes<SlidingAxis>&,
                                   AvgDivisor);
template void mean_pool2d_backward(const Tensor&, const Tensor&, const PoolPlanes<AdaptiveAxis>&,
                                   AdaptiveDivisor);

} // namespace splat::ops::cpu
