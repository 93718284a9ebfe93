// linear as one GEMM: the weight enters through a transposed view, which the GEMM operand
// layout (ops/gemm_operand.h) reads without a copy; the bias is a broadcast add. Autograd comes
// from mm and add.
#include "ops/linear.h"

#include "ops/checks.h"
#include "ops/matmul.h"
#include "ops/pointwise.h"
#include "ops/view.h"

namespace splat::ops {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (bias.defined())
    check_same_device("linear", {&x, &weight, &bias});
  else
    check_same_device("linear", {&x, &weight});
  SPLAT_CHECK(is_floating(x.dtype()), "linear: unsupported dtype ", x.dtype(),
              " (needs f32 or f64)");
  check_same_dtype("linear", x, weight);
  SPLAT_CHECK(weight.dim() == 2, "linear: weight must be (out, in), got shape ",
              shape_str(weight.shape()));
  SPLAT_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input of shape ",
              shape_str(x.shape()), " does not match weight of shape ", shape_str(weight.shape()),
              " (expected last dim ", weight.size(1), ")");
  const int64_t out_features = weight.size(0);
  if (bias.defined()) {
    check_same_dtype("linear", x, bias);
    SPLAT_CHECK(bias.dim() == 1 && bias.size(0) == out_features, "linear: bias of shape ",
                shape_str(bias.shape()), " does not match weight of shape ",
                shape_str(weight.shape()), " (expected (", out_features, "))");
  }
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  Tensor y = mm(reshape(x, {-1, weight.size(1)}), transpose(weight, 0, 1));
  if (bias.defined()) y = add(y, bias);
  return reshape(y, out_shape);
}

} // namespace splat::ops
