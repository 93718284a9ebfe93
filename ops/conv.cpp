// conv2d and conv_transpose2d: argument checks, the geometry handed to the kernels, device
// dispatch and the backward formulas. Both ops run on three kernels (ops/cpu/conv.h, ops/cuda/
// conv.h): forward, backward_input and backward_weight of a conv2d. conv_transpose2d is
// backward_input of the conv2d whose input has the transposed output's shape, so its backward is
// that conv2d's forward (for x) and backward_weight with the roles of x and dy swapped (for
// weight). Kernels see contiguous tensors: inputs are made dense here (a copy only when needed)
// and the dense copies are what backward keeps.
#include "ops/conv.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/conv.h"
#include "ops/cpu/reduce.h"
#include "ops/cuda/conv.h"
#include "ops/cuda/reduce.h"
#include "ops/device_dispatch.h"

namespace splat::ops {
namespace {

std::string pair_str(Size2 s) { return str(s.h, "x", s.w); }

// Checks shared by both ops: devices, dtypes, ranks, and the hyper-parameters' signs.
void check_common(std::string_view op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                  Size2 stride, Size2 padding, Size2 dilation, int64_t groups) {
  if (bias.defined())
    check_same_device(op, {&x, &weight, &bias});
  else
    check_same_device(op, {&x, &weight});
  SPLAT_CHECK(is_floating(x.dtype()), op, ": unsupported dtype ", x.dtype(),
              " (x must be f32 or f64)");
  check_same_dtype(op, x, weight);
  if (bias.defined()) check_same_dtype(op, x, bias);
  SPLAT_CHECK(x.dim() == 4, op, ": x must be 4-d (N, C, H, W), got shape ", shape_str(x.shape()));
  SPLAT_CHECK(weight.dim() == 4, op, ": weight must be 4-d, got shape ", shape_str(weight.shape()));
  SPLAT_CHECK(stride.h > 0 && stride.w > 0, op, ": stride must be positive, got ",
              pair_str(stride));
  SPLAT_CHECK(dilation.h > 0 && dilation.w > 0, op, ": dilation must be positive, got ",
              pair_str(dilation));
  SPLAT_CHECK(padding.h >= 0 && padding.w >= 0, op, ": padding must be non-negative, got ",
              pair_str(padding));
  SPLAT_CHECK(groups > 0, op, ": groups must be positive, got ", groups);
  SPLAT_CHECK(x.shape()[1] % groups == 0, op, ": groups=", groups,
              " does not divide the input channels (x shape ", shape_str(x.shape()), ")");
}

void check_bias(std::string_view op, const Tensor& bias, int64_t channels, const Tensor& weight) {
  SPLAT_CHECK(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == channels), op,
              ": bias must have shape [", channels, "] (the output channels of weight ",
              shape_str(weight.shape()), "), got ", shape_str(bias.shape()));
}

// Fills the kernel and hyper-parameter fields of a geometry.
ConvGeometry with_kernel(ConvGeometry g, const Tensor& weight, Size2 stride, Size2 padding,
                         Size2 dilation, int64_t groups) {
  g.kh = weight.shape()[2];
  g.kw = weight.shape()[3];
  g.sh = stride.h;
  g.sw = stride.w;
  g.ph = padding.h;
  g.pw = padding.w;
  g.dh = dilation.h;
  g.dw = dilation.w;
  g.groups = groups;
  return g;
}

Tensor dense(const Tensor& t) { return t.defined() ? contiguous(t.detach()) : t; }

Tensor empty_like_shape(const Shape& shape, const Tensor& like) {
  return Tensor::empty(shape, like.dtype(), like.device());
}

Shape input_shape(const ConvGeometry& g) { return {g.n, g.c_in, g.h, g.w}; }
Shape output_shape(const ConvGeometry& g) { return {g.n, g.c_out, g.ho, g.wo}; }
Shape weight_shape(const ConvGeometry& g) { return {g.c_out, g.cin_g(), g.kh, g.kw}; }

// The three kernels, each allocating its (dense) result.
Tensor run_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g) {
  Tensor y = empty_like_shape(output_shape(g), x);
  SPLAT_KERNEL(x.device(), conv2d_forward, y, x, w, bias, g);
  return y;
}
Tensor run_backward_input(const Tensor& dy, const Tensor& w, const Tensor& bias,
                          const ConvGeometry& g) {
  Tensor dx = empty_like_shape(input_shape(g), dy);
  SPLAT_KERNEL(dy.device(), conv2d_backward_input, dx, dy, w, bias, g);
  return dx;
}
Tensor run_backward_weight(const Tensor& dy, const Tensor& x, const ConvGeometry& g) {
  Tensor dw = empty_like_shape(weight_shape(g), dy);
  SPLAT_KERNEL(dy.device(), conv2d_backward_weight, dw, dy, x, g);
  return dw;
}
// The bias gradient: dy summed over every dim but the channels.
Tensor bias_grad(const Tensor& dy) {
  Tensor db = empty_like_shape({dy.shape()[1]}, dy);
  SPLAT_KERNEL(dy.device(), reduce, cpu::ReduceOp::sum, db, dy, {true, false, true, true});
  return db;
}

// Records the backward of y = op(x, weight) + bias, given the dense copies xd and wd the kernels
// read: dx = input_grad(dy, wd), dweight = weight_grad(dy, xd), dbias = dy summed per channel.
// Each copy is kept only when the other argument's gradient needs it.
template <class InputGrad, class WeightGrad>
void record_conv(std::string name, const Tensor& x, const Tensor& weight, const Tensor& bias,
                 const Tensor& y, const Tensor& xd, const Tensor& wd, InputGrad input_grad,
                 WeightGrad weight_grad) {
  if (!autograd::needs_grad({x, weight, bias})) return;
  record(std::move(name), {x, weight, bias}, {y},
         [input_grad, weight_grad, sx = SavedTensor(weight.requires_grad() ? xd : Tensor()),
          sw = SavedTensor(x.requires_grad() ? wd : Tensor())](const Grads& grads,
                                                               const Needs& needs) {
           const Tensor dy = contiguous(grads[0]);
           return Grads{needs[0] ? input_grad(dy, sw.get()) : Tensor(),
                        needs[1] ? weight_grad(dy, sx.get()) : Tensor(),
                        needs[2] ? bias_grad(dy) : Tensor()};
         });
}

} // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  constexpr std::string_view op = "conv2d";
  check_common(op, x, weight, bias, o.stride, o.padding, o.dilation, o.groups);
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  SPLAT_CHECK(ws[0] % o.groups == 0, op, ": groups=", o.groups,
              " does not divide the output channels (weight shape ", shape_str(ws), ")");
  SPLAT_CHECK(ws[1] * o.groups == xs[1], op, ": weight ", shape_str(ws), " with groups=", o.groups,
              " expects ", ws[1] * o.groups, " input channels, but x ", shape_str(xs), " has ",
              xs[1]);
  check_bias(op, bias, ws[0], weight);
  ConvGeometry g = with_kernel({.n = xs[0], .c_in = xs[1], .h = xs[2], .w = xs[3], .c_out = ws[0]},
                               weight, o.stride, o.padding, o.dilation, o.groups);
  const int64_t ext_h = g.dh * (g.kh - 1) + 1, ext_w = g.dw * (g.kw - 1) + 1;
  SPLAT_CHECK(ext_h <= g.h + 2 * g.ph && ext_w <= g.w + 2 * g.pw, op, ": kernel ", g.kh, "x", g.kw,
              " with dilation ", pair_str(o.dilation), " spans ", ext_h, "x", ext_w,
              ", larger than the padded input ", g.h + 2 * g.ph, "x", g.w + 2 * g.pw, " (x shape ",
              shape_str(xs), ", padding ", pair_str(o.padding), ")");
  g.ho = (g.h + 2 * g.ph - ext_h) / g.sh + 1;
  g.wo = (g.w + 2 * g.pw - ext_w) / g.sw + 1;

  const Tensor xd = dense(x), wd = dense(weight);
  Tensor y = run_forward(xd, wd, dense(bias), g);
  record_conv(
      "conv2d", x, weight, bias, y, xd, wd,
      [g](const Tensor& dy, const Tensor& wt) { return run_backward_input(dy, wt, Tensor(), g); },
      [g](const Tensor& dy, const Tensor& in) { return run_backward_weight(dy, in, g); });
  return y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& o) {
  constexpr std::string_view op = "conv_transpose2d";
  check_common(op, x, weight, bias, o.stride, o.padding, o.dilation, o.groups);
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  SPLAT_CHECK(ws[0] == xs[1], op, ": weight ", shape_str(ws),
              " (Cin, Cout / groups, kh, kw) expects ", ws[0], " input channels, but x ",
              shape_str(xs), " has ", xs[1]);
  const Size2 op_pad = o.output_padding;
  SPLAT_CHECK(op_pad.h >= 0 && op_pad.w >= 0 &&
                  (op_pad.h < o.stride.h || op_pad.h < o.dilation.h) &&
                  (op_pad.w < o.stride.w || op_pad.w < o.dilation.w),
              op, ": output_padding ", pair_str(op_pad),
              " must be non-negative and smaller than the stride ", pair_str(o.stride),
              " or the dilation ", pair_str(o.dilation));
  check_bias(op, bias, ws[1] * o.groups, weight);
  // The conv2d this op is the input gradient of: its input is our output, its output our input.
  ConvGeometry g = with_kernel({.n = xs[0], .c_out = xs[1], .ho = xs[2], .wo = xs[3]}, weight,
                               o.stride, o.padding, o.dilation, o.groups);
  g.c_in = ws[1] * o.groups;
  g.h = (g.ho - 1) * g.sh - 2 * g.ph + g.dh * (g.kh - 1) + op_pad.h + 1;
  g.w = (g.wo - 1) * g.sw - 2 * g.pw + g.dw * (g.kw - 1) + op_pad.w + 1;
  SPLAT_CHECK(g.h > 0 && g.w > 0, op, ": the output would be ", g.h, "x", g.w, " (x shape ",
              shape_str(xs), ", kernel ", g.kh, "x", g.kw, ", stride ", pair_str(o.stride),
              ", padding ", pair_str(o.padding), "); the padding is too large");

  const Tensor xd = dense(x), wd = dense(weight);
  Tensor y = run_backward_input(xd, wd, dense(bias), g);
  // The conv2d's output gradient is our input and its input our output gradient.
  record_conv(
      "conv_transpose2d", x, weight, bias, y, xd, wd,
      [g](const Tensor& dy, const Tensor& wt) { return run_forward(dy, wt, Tensor(), g); },
      [g](const Tensor& dy, const Tensor& in) { return run_backward_weight(in, dy, g); });
  return y;
}

} // namespace splat::ops
