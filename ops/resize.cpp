#include "ops/resize.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/resize.h"
#include "ops/cuda/resize.h"
#include "ops/device_dispatch.h"

#include <string_view>

namespace splat::ops {
namespace {

enum class Mode : uint8_t { nearest, bilinear, bilinear_align_corners };

void check_input(std::string_view op, const Tensor& x, std::array<int64_t, 2> size) {
  check_same_device(op, {&x});
  SPLAT_CHECK(is_floating(x.dtype()), op, ": unsupported dtype ", x.dtype(), " (needs f32 or f64)");
  SPLAT_CHECK(x.dim() == 4, op, ": input must be (N, C, H, W), got shape ", shape_str(x.shape()));
  SPLAT_CHECK(x.size(2) > 0 && x.size(3) > 0, op, ": input of shape ", shape_str(x.shape()),
              " has an empty spatial dim");
  SPLAT_CHECK(size[0] > 0 && size[1] > 0, op, ": output size must be positive, got [", size[0],
              ", ", size[1], "]");
}

Tensor resample(std::string_view op, Mode mode, const Tensor& x, std::array<int64_t, 2> size) {
  check_input(op, x, size);
  const Tensor xc = contiguous(x.detach());
  Tensor y = Tensor::empty({x.size(0), x.size(1), size[0], size[1]}, x.dtype(), x.device());
  const bool align = mode == Mode::bilinear_align_corners;
  if (mode == Mode::nearest)
    SPLAT_KERNEL(x.device(), upsample_nearest2d, y, xc);
  else
    SPLAT_KERNEL(x.device(), interpolate_bilinear2d, y, xc, align);
  if (autograd::needs_grad({x})) {
    record(std::string(op), {x}, {y},
           [mode, align, shape = x.shape(),
            opts = TensorOptions{x.dtype(), x.device()}](const Grads& g, const Needs&) {
             const Tensor dy = contiguous(g[0]);
             Tensor dx = Tensor::empty(shape, opts.dtype, opts.device);
             if (mode == Mode::nearest)
               SPLAT_KERNEL(opts.device, upsample_nearest2d_backward, dx, dy);
             else
               SPLAT_KERNEL(opts.device, interpolate_bilinear2d_backward, dx, dy, align);
             return Grads{dx};
           });
  }
  return y;
}

} // namespace

Tensor upsample_nearest2d(const Tensor& x, int64_t scale) {
  SPLAT_CHECK(scale > 0, "upsample_nearest2d: scale must be positive, got ", scale);
  SPLAT_CHECK(x.dim() == 4, "upsample_nearest2d: input must be (N, C, H, W), got shape ",
              shape_str(x.shape()));
  return resample("upsample_nearest2d", Mode::nearest, x, {x.size(2) * scale, x.size(3) * scale});
}

Tensor upsample_nearest2d(const Tensor& x, std::array<int64_t, 2> size) {
  return resample("upsample_nearest2d", Mode::nearest, x, size);
}

Tensor interpolate_bilinear2d(const Tensor& x, std::array<int64_t, 2> size, bool align_corners) {
  return resample("interpolate_bilinear2d",
                  align_corners ? Mode::bilinear_align_corners : Mode::bilinear, x, size);
}

} // namespace splat::ops
