// CPU pooling: the (n, c) planes are split over threads; within a plane each output element of
// a forward is computed by the shared body in ops/pool_windows.h, and the backward kernels
// scatter one output at a time (see each).
#include "ops/cpu/pool.h"

#include "ops/cpu/parallel.h"

#include <algorithm>
#include <vector>

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

// Scatters each output's gradient to the input its index names, in output order. Every input
// element thus sums the same gradients in the same order as the gather of
// max_pool_grad_input (the CUDA kernel, which needs no atomics that way), so the two agree
// exactly; on the CPU one pass over the outputs is cheaper than finding, for every input, the
// outputs whose windows hold it.
void max_pool2d_backward(const Tensor& gx, const Tensor& gy, const Tensor& index,
                         const PoolPlanes<SlidingAxis>& p) {
  dispatch<DTypeSet::floating>(gx.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* pgy = gy.data<T>();
    const int64_t* pi = index.data<int64_t>();
    T* pgx = gx.data<T>();
    const int64_t planes = p.in_plane() == 0 ? 0 : gx.numel() / p.in_plane();
    parallel_for(planes, p.in_plane() + p.out_plane(), [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        T* gx_plane = pgx + plane * p.in_plane();
        const T* gy_plane = pgy + plane * p.out_plane();
        const int64_t* i_plane = pi + plane * p.out_plane();
        std::fill(gx_plane, gx_plane + p.in_plane(), T(0));
        for (int64_t o = 0; o < p.out_plane(); ++o) gx_plane[i_plane[o]] += gy_plane[o];
      }
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

// Scatters each output's gradient over its divisor into the inputs of its window, summing in a
// double plane in output order: every input gets the same terms in the same order as the
// gather of mean_pool_grad_input (the CUDA kernel), so the two agree exactly, at one divisor
// per output instead of a search for the windows of every input.
template <class Axis, class Divisor>
void mean_pool2d_backward(const Tensor& gx, const Tensor& gy, const PoolPlanes<Axis>& p,
                          Divisor divisor) {
  dispatch<DTypeSet::floating>(gx.dtype(), "mean_pool2d_backward", [&]<class T>() {
    const T* pgy = gy.data<T>();
    T* pgx = gx.data<T>();
    const int64_t planes = p.in_plane() == 0 ? 0 : gx.numel() / p.in_plane();
    parallel_for(planes, p.in_plane() + p.out_plane() * p.window_cells(),
                 [&](int64_t begin, int64_t end) {
                   std::vector<double> acc(static_cast<size_t>(p.in_plane()));
                   for (int64_t plane = begin; plane < end; ++plane) {
                     std::fill(acc.begin(), acc.end(), 0.0);
                     const T* g = pgy + plane * p.out_plane();
                     for (int64_t oh = 0; oh < p.h.out; ++oh)
                       for (int64_t ow = 0; ow < p.w.out; ++ow) {
                         const IndexRange rh = p.h.window(oh), rw = p.w.window(ow);
                         const double v = static_cast<double>(g[oh * p.w.out + ow]) /
                                          static_cast<double>(divisor(p, oh, ow));
                         for (int64_t ih = rh.begin; ih < rh.end; ++ih)
                           for (int64_t iw = rw.begin; iw < rw.end; ++iw) acc[ih * p.w.in + iw] += v;
                       }
                     std::transform(acc.begin(), acc.end(), pgx + plane * p.in_plane(),
                                    [](double a) { return static_cast<T>(a); });
                   }
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
