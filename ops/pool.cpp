// Pooling ops: argument checks and output sizes (PyTorch's rules), device dispatch, and the
// backward formulas, each one gather kernel over the input.
#include "ops/pool.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/pool.h"
#include "ops/cuda/pool.h"
#include "ops/device_dispatch.h"

namespace splat::ops {
namespace {

void check_input(std::string_view op, const Tensor& x) {
  check_same_device(op, {&x});
  SPLAT_CHECK(x.dim() == 4, op, ": expected x of shape (N, C, H, W), got ", shape_str(x.shape()));
  SPLAT_CHECK(is_floating(x.dtype()), op, ": unsupported dtype ", x.dtype(),
              " (pooling needs f32 or f64)");
}

// One spatial dim of a sliding-window pool: checks the parameters and computes the output size
// as PyTorch's pooling_output_shape does.
SlidingAxis sliding_axis(std::string_view op, const char* dim, int64_t in, int64_t kernel,
                         int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode) {
  SPLAT_CHECK(kernel > 0 && stride > 0 && dilation > 0 && pad >= 0, op, ": kernel (", kernel,
              "), stride (", stride, ") and dilation (", dilation,
              ") must be positive and padding (", pad, ") non-negative along ", dim);
  SPLAT_CHECK(pad <= kernel / 2, op, ": padding ", pad, " along ", dim,
              " must be at most half the kernel size ", kernel);
  const int64_t span = dilation * (kernel - 1) + 1;
  int64_t out = floor_div(in + 2 * pad - span + (ceil_mode ? stride - 1 : 0), stride) + 1;
  // The last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  SPLAT_CHECK(out >= 1, op, ": the window (kernel ", kernel, ", dilation ", dilation,
              ") is larger than the padded input along ", dim, " (size ", in, " + 2 * padding ",
              pad, "): the output would be empty");
  return {in, out, kernel, stride, pad, dilation};
}

PoolPlanes<SlidingAxis> sliding_planes(std::string_view op, const Tensor& x, Size2 kernel,
                                       std::optional<Size2> stride, Size2 pad, Size2 dilation,
                                       bool ceil_mode) {
  const Size2 s = stride.value_or(kernel);
  return {sliding_axis(op, "height", x.size(2), kernel.h, s.h, pad.h, dilation.h, ceil_mode),
          sliding_axis(op, "width", x.size(3), kernel.w, s.w, pad.w, dilation.w, ceil_mode)};
}

template <class Axis> Shape out_shape(const Tensor& x, const PoolPlanes<Axis>& p) {
  return {x.size(0), x.size(1), p.h.out, p.w.out};
}

} // namespace

ValuesIndices max_pool2d(const Tensor& x_in, const MaxPool2dOptions& o) {
  check_input("max_pool2d", x_in);
  const auto p =
      sliding_planes("max_pool2d", x_in, o.kernel, o.stride, o.padding, o.dilation, o.ceil_mode);
  const Tensor x = contiguous(x_in);
  ValuesIndices out{Tensor::empty(out_shape(x, p), x.dtype(), x.device()),
                    Tensor::empty(out_shape(x, p), DType::i64, x.device())};
  SPLAT_KERNEL(x.device(), max_pool2d, out.values, out.indices, x, p);
  if (autograd::needs_grad({x_in})) {
    record("max_pool2d", {x_in}, {out.values, out.indices},
           [p, shape = x.shape(), si = SavedTensor(out.indices)](const Grads& g, const Needs&) {
             const Tensor gy = contiguous(g[0]);
             Tensor gx = Tensor::empty(shape, gy.dtype(), gy.device());
             SPLAT_KERNEL(gy.device(), max_pool2d_backward, gx, gy, si.get(), p);
             return Grads{gx};
           });
  }
  return out;
}

Tensor avg_pool2d(const Tensor& x_in, const AvgPool2dOptions& o) {
  check_input("avg_pool2d", x_in);
  const auto p =
      sliding_planes("avg_pool2d", x_in, o.kernel, o.stride, o.padding, Size2(1), o.ceil_mode);
  const AvgDivisor divisor{o.count_include_pad};
  const Tensor x = contiguous(x_in);
  Tensor y = Tensor::empty(out_shape(x, p), x.dtype(), x.device());
  SPLAT_KERNEL(x.device(), mean_pool2d, y, x, p, divisor);
  if (autograd::needs_grad({x_in})) {
    record("avg_pool2d", {x_in}, {y},
           [p, divisor, shape = x.shape()](const Grads& g, const Needs&) {
             const Tensor gy = contiguous(g[0]);
             Tensor gx = Tensor::empty(shape, gy.dtype(), gy.device());
             SPLAT_KERNEL(gy.device(), mean_pool2d_backward, gx, gy, p, divisor);
             return Grads{gx};
           });
  }
  return y;
}

Tensor adaptive_avg_pool2d(const Tensor& x_in, Size2 output) {
  check_input("adaptive_avg_pool2d", x_in);
  SPLAT_CHECK(output.h >= 1 && output.w >= 1, "adaptive_avg_pool2d: output size (", output.h, ", ",
              output.w, ") must be positive");
  SPLAT_CHECK(x_in.size(2) >= 1 && x_in.size(3) >= 1, "adaptive_avg_pool2d: empty input plane ",
              shape_str(x_in.shape()));
  const PoolPlanes<AdaptiveAxis> p{{x_in.size(2), output.h}, {x_in.size(3), output.w}};
  const Tensor x = contiguous(x_in);
  Tensor y = Tensor::empty(out_shape(x, p), x.dtype(), x.device());
  SPLAT_KERNEL(x.device(), mean_pool2d, y, x, p, AdaptiveDivisor{});
  if (autograd::needs_grad({x_in})) {
    record("adaptive_avg_pool2d", {x_in}, {y},
           [p, shape = x.shape()](const Grads& g, const Needs&) {
             const Tensor gy = contiguous(g[0]);
             Tensor gx = Tensor::empty(shape, gy.dtype(), gy.device());
             SPLAT_KERNEL(gy.device(), mean_pool2d_backward, gx, gy, p, AdaptiveDivisor{});
             return Grads{gx};
           });
  }
  return y;
}

Tensor global_avg_pool2d(const Tensor& x) {
  check_input("global_avg_pool2d", x);
  SPLAT_CHECK(x.size(2) >= 1 && x.size(3) >= 1, "global_avg_pool2d: empty input plane ",
              shape_str(x.shape()));
  // The reduction kernels already average many elements per output in one pass on both devices.
  return mean(x, {2, 3}, true);
}

} // namespace splat::ops
