#include "ops/pointwise.h"

#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/copy.h"
#include "ops/cpu/pointwise.h"

#include <cmath>

namespace splat::ops {
namespace {

DType result_dtype(const PointwiseInfo& in, DType input) { return in.bool_result ? DType::b8 : input; }

void check_dtype(const PointwiseInfo& in, DType t) {
  SPLAT_CHECK(contains(in.dtypes, t), in.name, ": unsupported dtype ", t);
}

// An integral tensor combined with a fractional scalar would silently truncate it.
void check_scalar(const PointwiseInfo& in, const Tensor& a, double s) {
  SPLAT_CHECK(is_floating(a.dtype()) || std::nearbyint(s) == s, in.name, ": scalar ", s,
              " is not representable in the ", a.dtype(), " tensor; convert it with to(f32) first");
}

// In-place results must keep the destination's shape.
void check_inplace_shape(const PointwiseInfo& in, const Tensor& a, const Tensor& b) {
  const Shape s = broadcast_shapes(in.name, a.shape(), b.shape());
  SPLAT_CHECK(s == a.shape(), in.name, "_: result shape ", shape_str(s),
              " does not match the in-place destination's shape ", shape_str(a.shape()));
}

} // namespace

Tensor unary(UnaryOp op, const Tensor& x) {
  const PointwiseInfo in = info(op);
  check_same_device(in.name, {&x});
  check_dtype(in, x.dtype());
  Tensor out = Tensor::empty(x.shape(), result_dtype(in, x.dtype()), x.device());
  cpu::unary(op, out, x);
  return out;
}

Tensor& unary_(UnaryOp op, Tensor& x) {
  const PointwiseInfo in = info(op);
  SPLAT_CHECK(!in.bool_result, in.name, "_: no in-place form (the result is bool)");
  check_same_device(in.name, {&x});
  check_dtype(in, x.dtype());
  check_writable(in.name, x);
  cpu::unary(op, x, x);
  x.storage()->bump_version();
  return x;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const PointwiseInfo in = info(op);
  check_same_device(in.name, {&a, &b});
  check_same_dtype(in.name, a, b);
  check_dtype(in, a.dtype());
  Tensor out = Tensor::empty(broadcast_shapes(in.name, a.shape(), b.shape()),
                             result_dtype(in, a.dtype()), a.device());
  cpu::binary(op, out, a, b);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, double s) {
  const PointwiseInfo in = info(op);
  check_same_device(in.name, {&a});
  check_dtype(in, a.dtype());
  check_scalar(in, a, s);
  Tensor out = Tensor::empty(a.shape(), result_dtype(in, a.dtype()), a.device());
  cpu::binary_scalar(op, out, a, s);
  return out;
}

Tensor& binary_(BinaryOp op, Tensor& a, const Tensor& b) {
  const PointwiseInfo in = info(op);
  SPLAT_CHECK(!in.bool_result, in.name, "_: no in-place form (the result is bool)");
  check_same_device(in.name, {&a, &b});
  check_same_dtype(in.name, a, b);
  check_dtype(in, a.dtype());
  check_inplace_shape(in, a, b);
  check_writable(in.name, a);
  cpu::binary(op, a, a, b);
  a.storage()->bump_version();
  return a;
}

Tensor& binary_(BinaryOp op, Tensor& a, double s) {
  const PointwiseInfo in = info(op);
  SPLAT_CHECK(!in.bool_result, in.name, "_: no in-place form (the result is bool)");
  check_same_device(in.name, {&a});
  check_dtype(in, a.dtype());
  check_scalar(in, a, s);
  check_writable(in.name, a);
  cpu::binary_scalar(op, a, a, s);
  a.storage()->bump_version();
  return a;
}

namespace {
void check_clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  check_same_device("clamp", {&x});
  SPLAT_CHECK(contains(DTypeSet::numeric, x.dtype()), "clamp: unsupported dtype ", x.dtype());
  SPLAT_CHECK(!lo || !hi || *lo <= *hi, "clamp: min ", *lo, " is greater than max ", *hi);
}
} // namespace

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  check_clamp(x, lo, hi);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  cpu::clamp(out, x, lo, hi);
  return out;
}

Tensor& clamp_(Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  check_clamp(x, lo, hi);
  check_writable("clamp_", x);
  cpu::clamp(x, x, lo, hi);
  x.storage()->bump_version();
  return x;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_device("where", {&cond, &a, &b});
  SPLAT_CHECK(cond.dtype() == DType::b8, "where: condition must be bool, got ", cond.dtype());
  check_same_dtype("where", a, b);
  const Shape s = broadcast_shapes("where", broadcast_shapes("where", cond.shape(), a.shape()), b.shape());
  Tensor out = Tensor::empty(s, a.dtype(), a.device());
  cpu::where(out, cond, a, b);
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  Tensor out = clone(x);
  return masked_fill_(out, mask, value);
}

Tensor& masked_fill_(Tensor& x, const Tensor& mask, double value) {
  check_same_device("masked_fill", {&x, &mask});
  SPLAT_CHECK(mask.dtype() == DType::b8, "masked_fill: mask must be bool, got ", mask.dtype());
  const PointwiseInfo in{"masked_fill", DTypeSet::all, false};
  check_inplace_shape(in, x, mask);
  check_scalar(in, x, value);
  check_writable("masked_fill_", x);
  const Tensor v = Tensor::empty({}, x.dtype(), x.device());
  cpu::fill(v, value);
  cpu::where(x, mask, v, x);
  x.storage()->bump_version();
  return x;
}

} // namespace splat::ops
