// Every kernel runs one row of the pixels it writes per iteration of a parallel loop over the
// N * C * rows of the plane stack, and evaluates the per-pixel functors of
// ops/resize_geometry.h.
#include "ops/cpu/resize.h"

#include "ops/cpu/parallel.h"
#include "ops/resize_geometry.h"

namespace splat::ops::cpu {
namespace {

// planes_of(x, y): the plane sizes of input x and output y.
resize::Planes planes_of(const Tensor& x, const Tensor& y) {
  return {x.size(2), x.size(3), y.size(2), y.size(3)};
}

// dst[plane, row, col] = pixel(src plane, row, col) for every pixel of dst (N, C, rows, cols).
template <class Pixel>
void for_each_pixel(std::string_view op, const Tensor& dst, const Tensor& src,
                    int64_t work_per_pixel, const Pixel& pixel) {
  dispatch<DTypeSet::floating>(dst.dtype(), op, [&]<class T>() {
    const int64_t rows = dst.size(2), cols = dst.size(3);
    const int64_t src_plane = src.size(2) * src.size(3);
    const T* ps = src.data<T>();
    T* pd = dst.data<T>();
    parallel_for(dst.size(0) * dst.size(1) * rows, cols * work_per_pixel,
                 [&](int64_t begin, int64_t end) {
                   for (int64_t r = begin; r < end; ++r) {
                     const T* plane = ps + (r / rows) * src_plane;
                     for (int64_t c = 0; c < cols; ++c)
                       pd[r * cols + c] = pixel.template operator()<T>(plane, r % rows, c);
                   }
                 });
  });
}

} // namespace

void upsample_nearest2d(const Tensor& y, const Tensor& x) {
  for_each_pixel("upsample_nearest2d", y, x, 1, resize::NearestForward{planes_of(x, y)});
}

void upsample_nearest2d_backward(const Tensor& dx, const Tensor& dy) {
  const resize::Planes p = planes_of(dx, dy);
  const int64_t reads = (p.oh / p.h + 1) * (p.ow / p.w + 1);
  for_each_pixel("upsample_nearest2d backward", dx, dy, reads, resize::NearestBackward{p});
}

void interpolate_bilinear2d(const Tensor& y, const Tensor& x, bool align_corners) {
  for_each_pixel("interpolate_bilinear2d", y, x, 4,
                 resize::BilinearForward{planes_of(x, y), align_corners});
}

void interpolate_bilinear2d_backward(const Tensor& dx, const Tensor& dy, bool align_corners) {
  const resize::Planes p = planes_of(dx, dy);
  const int64_t reads = (p.oh / p.h + 2) * (p.ow / p.w + 2);
  for_each_pixel("interpolate_bilinear2d backward", dx, dy, reads,
                 resize::BilinearBackward{p, align_corners});
}

} // namespace splat::ops::cpu
