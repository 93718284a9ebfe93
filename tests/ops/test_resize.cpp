// Nearest upsampling and bilinear interpolation on the CPU: against plain-loop oracles written
// from PyTorch's rules (double arithmetic), the backward against the forward's adjoint
// (<resize(x), g> = <x, resize'(g)>), float64 gradcheck (by 2, to odd sizes, bilinear up and
// down, both align_corners), strided inputs, and bad input.
#include "autograd/engine.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/resize.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"

#include <algorithm>
#include <cmath>

using namespace splat;
using namespace splat::ops;
using splat::test::check_close;
using splat::test::leaf;
using splat::test::strided_leaf;
using splat::test::to_vector;
using In = std::vector<Tensor>;

namespace {

// (N, C, H, W) f64 -> (N, C, oh, ow), per output pixel from src(o) along each axis.
template <class Pixel> Tensor resample_loop(const Tensor& x, int64_t oh, int64_t ow, Pixel pixel) {
  const auto v = to_vector<double>(x);
  const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
  std::vector<double> out(planes * oh * ow);
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        out[(p * oh + oy) * ow + ox] = pixel(&v[p * h * w], h, w, oh, ow, oy, ox);
  return from_vector<double>(out, {x.size(0), x.size(1), oh, ow});
}

Tensor nearest_loop(const Tensor& x, int64_t oh, int64_t ow) {
  return resample_loop(
      x, oh, ow,
      [](const double* p, int64_t h, int64_t w, int64_t oh, int64_t ow, int64_t oy, int64_t ox) {
        const auto sy =
            std::min<int64_t>(static_cast<int64_t>(std::floor(oy * double(h) / oh)), h - 1);
        const auto sx =
            std::min<int64_t>(static_cast<int64_t>(std::floor(ox * double(w) / ow)), w - 1);
        return p[sy * w + sx];
      });
}

// Source coordinate along one axis: half-pixel centres clamped at 0, or align_corners.
double source(int64_t o, int64_t in, int64_t out, bool align) {
  if (align) return out > 1 ? o * double(in - 1) / double(out - 1) : 0.0;
  return std::max(0.0, (o + 0.5) * double(in) / double(out) - 0.5);
}

Tensor bilinear_loop(const Tensor& x, int64_t oh, int64_t ow, bool align) {
  return resample_loop(x, oh, ow,
                       [align](const double* p, int64_t h, int64_t w, int64_t oh, int64_t ow,
                               int64_t oy, int64_t ox) {
                         const double sy = source(oy, h, oh, align), sx = source(ox, w, ow, align);
                         const auto y0 = static_cast<int64_t>(sy), x0 = static_cast<int64_t>(sx);
                         const int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
                         const double ly = sy - y0, lx = sx - x0;
                         return (1 - ly) * ((1 - lx) * p[y0 * w + x0] + lx * p[y0 * w + x1]) +
                                ly * ((1 - lx) * p[y1 * w + x0] + lx * p[y1 * w + x1]);
                       });
}

// <f(x), g> == <x, J^T g>: the backward kernel is the adjoint of the forward.
void check_adjoint(const std::function<Tensor(const Tensor&)>& f, Shape in_shape) {
  const Tensor x = randn(in_shape, {.dtype = DType::f64}).requires_grad_();
  const Tensor y = f(x);
  const Tensor g = randn(y.shape(), {.dtype = DType::f64});
  autograd::backward(y, g);
  const double lhs = sum(mul(y.detach(), g)).item<double>();
  const double rhs = sum(mul(x.detach(), x.grad())).item<double>();
  CHECK(lhs == doctest::Approx(rhs).epsilon(1e-10));
}

} // namespace

TEST_CASE("upsample_nearest2d: scale 2 repeats pixels, sizes follow floor(dst * in / out)") {
  const Tensor x = randn({2, 3, 4, 5}, {.dtype = DType::f64});
  const Tensor y = upsample_nearest2d(x, 2);
  CHECK(y.shape() == Shape{2, 3, 8, 10});
  check_close(y, nearest_loop(x, 8, 10), 0, 0);
  check_close(upsample_nearest2d(x, 3), nearest_loop(x, 12, 15), 0, 0);
  for (auto size : {std::array<int64_t, 2>{7, 13}, {3, 2}, {4, 5}, {1, 1}, {9, 4}}) {
    CAPTURE(size[0]);
    CAPTURE(size[1]);
    check_close(upsample_nearest2d(x, size), nearest_loop(x, size[0], size[1]), 0, 0);
  }
  // float32 and a strided input.
  const Tensor xs = splat::test::noncontiguous(to(x, DType::f32));
  check_close(upsample_nearest2d(xs, {7, 6}), to(nearest_loop(x, 7, 6), DType::f32), 0, 0);
}

TEST_CASE("interpolate_bilinear2d: half-pixel and align_corners rules, up and down") {
  const Tensor x = randn({2, 2, 5, 6}, {.dtype = DType::f64});
  for (bool align : {false, true}) {
    for (auto size : {std::array<int64_t, 2>{9, 11}, {3, 4}, {5, 6}, {1, 1}, {2, 13}, {10, 12}}) {
      CAPTURE(align);
      CAPTURE(size[0]);
      CAPTURE(size[1]);
      check_close(interpolate_bilinear2d(x, size, align), bilinear_loop(x, size[0], size[1], align),
                  1e-12, 1e-12);
    }
  }
  const Tensor xs = splat::test::noncontiguous(to(x, DType::f32));
  check_close(interpolate_bilinear2d(xs, {8, 3}), to(bilinear_loop(x, 8, 3, false), DType::f32),
              1e-5, 1e-6);
}

TEST_CASE("resampling backward is the adjoint of the forward") {
  check_adjoint([](const Tensor& x) { return upsample_nearest2d(x, 2); }, {2, 3, 9, 7});
  check_adjoint([](const Tensor& x) { return upsample_nearest2d(x, {31, 5}); }, {2, 3, 9, 7});
  check_adjoint([](const Tensor& x) { return upsample_nearest2d(x, {4, 3}); }, {2, 3, 9, 7});
  for (bool align : {false, true}) {
    CAPTURE(align);
    check_adjoint(
        [align](const Tensor& x) {
          return interpolate_bilinear2d(x, {23, 17}, align);
        },
        {2, 3, 9, 7});
    check_adjoint(
        [align](const Tensor& x) {
          return interpolate_bilinear2d(x, {4, 2}, align);
        },
        {2, 3, 9, 7});
    check_adjoint(
        [align](const Tensor& x) {
          return interpolate_bilinear2d(x, {1, 30}, align);
        },
        {1, 2, 13, 5});
  }
}

TEST_CASE("gradcheck: nearest by 2 and to odd sizes, bilinear up and down") {
  CHECK_GRADCHECK([](const In& in) { return upsample_nearest2d(in[0], 2); }, {leaf({1, 2, 3, 2})});
  CHECK_GRADCHECK(
      [](const In& in) {
        return upsample_nearest2d(in[0], {5, 7});
      },
      {leaf({1, 2, 3, 4})});
  CHECK_GRADCHECK(
      [](const In& in) {
        return upsample_nearest2d(in[0], {3, 2});
      },
      {strided_leaf({2, 1, 5, 4})});
  for (bool align : {false, true}) {
    CAPTURE(align);
    CHECK_GRADCHECK(
        [align](const In& in) {
          return interpolate_bilinear2d(in[0], {7, 5}, align);
        },
        {leaf({1, 2, 3, 4})});
    CHECK_GRADCHECK(
        [align](const In& in) {
          return interpolate_bilinear2d(in[0], {3, 2}, align);
        },
        {strided_leaf({2, 1, 6, 5})});
  }
}

TEST_CASE("resampling: bad input is a clear error") {
  CHECK_THROWS_WITH_ALL(upsample_nearest2d(zeros({2, 3, 4}), 2), "upsample_nearest2d",
                        "(N, C, H, W)", "[2, 3, 4]");
  CHECK_THROWS_WITH_ALL(upsample_nearest2d(zeros({1, 1, 2, 2}), 0), "upsample_nearest2d", "scale",
                        "0");
  CHECK_THROWS_WITH_ALL(upsample_nearest2d(zeros({1, 1, 2, 2}), {0, 3}), "output size", "[0, 3]");
  CHECK_THROWS_WITH_ALL(interpolate_bilinear2d(zeros({1, 1, 2, 2}, {.dtype = DType::i64}), {4, 4}),
                        "interpolate_bilinear2d", "i64");
  CHECK_THROWS_WITH_ALL(interpolate_bilinear2d(zeros({1, 1, 0, 2}), {4, 4}),
                        "interpolate_bilinear2d", "empty");
}
