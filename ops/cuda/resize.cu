// CUDA resampling kernels, the counterparts of ops/cpu/resize.cpp (contract in
// ops/cuda/resize.h): one thread per pixel written, grid-stride, each evaluating the same
// per-pixel functor of ops/resize_geometry.h as the CPU. Backward kernels gather, so every
// gradient element is written by one thread and no atomics are needed.
#include "ops/cuda/resize.h"

#include "core/cuda/device_guard.h"
#include "ops/cuda/loop.cuh"
#include "ops/resize_geometry.h"

namespace splat::ops::cuda {
namespace {

// dst[i] for i over (planes, rows, cols) = pixel(src plane, row, col).
template <class T, class Pixel>
__global__ void pixel_kernel(int64_t n, int64_t rows, int64_t cols, int64_t src_plane, const T* src,
                             T* dst, Pixel pixel) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const int64_t c = i % cols, r = (i / cols) % rows, plane = i / (cols * rows);
    dst[i] = pixel.template operator()<T>(src + plane * src_plane, r, c);
  }
}

resize::Planes planes_of(const Tensor& x, const Tensor& y) {
  return {x.size(2), x.size(3), y.size(2), y.size(3)};
}

template <class Pixel>
void launch_pixels(std::string_view op, const Tensor& dst, const Tensor& src, const Pixel& pixel) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  splat::cuda::DeviceGuard guard(dst.device());
  dispatch<DTypeSet::floating>(dst.dtype(), op, [&]<class T>() {
    splat::cuda::launch(pixel_kernel<T, Pixel>, {blocks_for(n), kThreads}, n, dst.size(2),
                        dst.size(3), src.size(2) * src.size(3), src.data<T>(), dst.data<T>(),
                        pixel);
  });
}

} // namespace

void upsample_nearest2d(const Tensor& y, const Tensor& x) {
  launch_pixels("upsample_nearest2d", y, x, resize::NearestForward{planes_of(x, y)});
}

void upsample_nearest2d_backward(const Tensor& dx, const Tensor& dy) {
  launch_pixels("upsample_nearest2d backward", dx, dy, resize::NearestBackward{planes_of(dx, dy)});
}

void interpolate_bilinear2d(const Tensor& y, const Tensor& x, bool align_corners) {
  launch_pixels("interpolate_bilinear2d", y, x,
                resize::BilinearForward{planes_of(x, y), align_corners});
}

void interpolate_bilinear2d_backward(const Tensor& dx, const Tensor& dy, bool align_corners) {
  launch_pixels("interpolate_bilinear2d backward", dx, dy,
                resize::BilinearBackward{planes_of(dx, dy), align_corners});
}

} // namespace splat::ops::cuda
