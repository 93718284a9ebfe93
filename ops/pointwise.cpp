#include "ops/pointwise.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/device_dispatch.h"
#include "ops/copy.h"
#include "ops/cpu/copy.h"
#include "ops/cuda/copy.h"
#include "ops/cpu/pointwise.h"
#include "ops/cuda/pointwise.h"

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

Tensor scalar_like(const Tensor& g, double v) { return full({}, v, {g.dtype(), g.device()}); }

// Which saved values a unary op's derivative reads: its input, its output, or neither.
bool grad_reads_input(UnaryOp op) {
  return op == UnaryOp::abs || op == UnaryOp::log || op == UnaryOp::square;
}
bool grad_reads_output(UnaryOp op) {
  return op == UnaryOp::exp || op == UnaryOp::sqrt || op == UnaryOp::rsqrt || op == UnaryOp::relu ||
         op == UnaryOp::sigmoid || op == UnaryOp::tanh;
}

// d/dx of y = op(x), applied to the output gradient g.
Tensor unary_grad(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& y) {
  switch (op) {
  case UnaryOp::neg: return neg(g);
  case UnaryOp::abs: return where(gt(x, 0.0), g, where(lt(x, 0.0), neg(g), scalar_like(g, 0)));
  case UnaryOp::exp: return mul(g, y);
  case UnaryOp::log: return div(g, x);
  case UnaryOp::sqrt: return div(g, mul(y, 2.0));
  case UnaryOp::rsqrt: return mul(g, mul(pow(y, 3.0), -0.5));
  case UnaryOp::square: return mul(g, mul(x, 2.0));
  case UnaryOp::relu: return binary(BinaryOp::relu_backward, g, y);
  case UnaryOp::sigmoid: return mul(g, mul(y, sub(scalar_like(y, 1), y)));
  case UnaryOp::tanh: return mul(g, sub(scalar_like(y, 1), square(y)));
  case UnaryOp::logical_not: break;
  }
  throw Error(str(info(op).name, ": not differentiable"));
}

// Gradient share of `mine` in maximum/minimum(mine, other): all of g where mine wins, half on
// ties (as PyTorch), none where it loses.
Tensor extremum_grad(bool is_max, const Tensor& g, const Tensor& mine, const Tensor& other) {
  const Tensor wins = is_max ? gt(mine, other) : lt(mine, other);
  return where(wins, g, where(eq(mine, other), div(g, 2.0), scalar_like(g, 0)));
}

// Gradients of a op b for both inputs (before reduction to their shapes).
Grads binary_grad(BinaryOp op, const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& y,
                  const Needs& needs) {
  switch (op) {
  case BinaryOp::add: return {g, g};
  case BinaryOp::sub: return {g, needs[1] ? neg(g) : Tensor()};
  case BinaryOp::mul: return {needs[0] ? mul(g, b) : Tensor(), needs[1] ? mul(g, a) : Tensor()};
  case BinaryOp::div:
    return {needs[0] ? div(g, b) : Tensor(), needs[1] ? neg(div(mul(g, y), b)) : Tensor()};
  case BinaryOp::pow:
    // d/db a^b = a^b log a, taken as 0 at a = 0 (the limit for b > 0, as PyTorch does).
    return {needs[0] ? mul(g, mul(b, pow(a, sub(b, 1.0)))) : Tensor(),
            needs[1] ? masked_fill(mul(g, mul(y, log(a))), eq(a, 0.0), 0) : Tensor()};
  case BinaryOp::maximum:
  case BinaryOp::minimum: {
    const bool is_max = op == BinaryOp::maximum;
    return {needs[0] ? extremum_grad(is_max, g, a, b) : Tensor(),
            needs[1] ? extremum_grad(is_max, g, b, a) : Tensor()};
  }
  default: break;
  }
  throw Error(str(info(op).name, ": not differentiable"));
}

// Gradient of a op s for a scalar s.
Tensor binary_scalar_grad(BinaryOp op, const Tensor& g, const Tensor& a, double s) {
  switch (op) {
  case BinaryOp::add:
  case BinaryOp::sub: return g;
  case BinaryOp::mul: return mul(g, s);
  case BinaryOp::div: return div(g, s);
  case BinaryOp::pow: return s == 0 ? zeros_like(g) : mul(g, mul(pow(a, s - 1), s));
  case BinaryOp::maximum:
  case BinaryOp::minimum: return extremum_grad(op == BinaryOp::maximum, g, a, scalar_like(a, s));
  default: break;
  }
  throw Error(str(info(op).name, ": not differentiable"));
}

// Records y = op(x); x and y are one tensor when an in-place op overwrote x (its history is
// still x's old one while the edges are made).
void record_unary(UnaryOp op, const Tensor& x, const Tensor& y) {
  record(std::string(info(op).name), {x}, {y},
         [op, sx = SavedTensor(grad_reads_input(op) ? x : Tensor()),
          sy = SavedTensor(grad_reads_output(op) ? y : Tensor())](const Grads& g, const Needs&) {
           return Grads{unary_grad(op, g[0], sx.get(), sy.get())};
         });
}

} // namespace

Tensor unary(UnaryOp op, const Tensor& x) {
  const PointwiseInfo in = info(op);
  check_same_device(in.name, {&x});
  check_dtype(in, x.dtype());
  Tensor out = Tensor::empty(x.shape(), result_dtype(in, x.dtype()), x.device());
  SPLAT_KERNEL(out.device(), unary, op, out, x);
  if (!in.bool_result && autograd::needs_grad({x})) {
    record_unary(op, x, out);
  }
  return out;
}

Tensor& unary_(UnaryOp op, Tensor& x) {
  const PointwiseInfo in = info(op);
  SPLAT_CHECK(!in.bool_result, in.name, "_: no in-place form (the result is bool)");
  check_same_device(in.name, {&x});
  check_dtype(in, x.dtype());
  check_writable(in.name, x);
  const bool grad = autograd::needs_grad({x});
  if (grad) {
    autograd::check_inplace(in.name, x);
    if (grad_reads_input(op)) return assign_inplace(x, unary(op, clone(x)));
  }
  // Without grad, or when the gradient needs only the output (relu_, exp_, ...), x is
  // overwritten with no copy; a node that saved x's old value refuses to run backward, through
  // the version counter.
  SPLAT_KERNEL(x.device(), unary, op, x, x);
  x.storage()->bump_version();
  if (grad) record_unary(op, x, x);
  return x;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const PointwiseInfo in = info(op);
  check_same_device(in.name, {&a, &b});
  check_same_dtype(in.name, a, b);
  check_dtype(in, a.dtype());
  Tensor out = Tensor::empty(broadcast_shapes(in.name, a.shape(), b.shape()),
                             result_dtype(in, a.dtype()), a.device());
  SPLAT_KERNEL(out.device(), binary, op, out, a, b);
  if (!in.bool_result && autograd::needs_grad({a, b})) {
    const bool reads_y = op == BinaryOp::div || op == BinaryOp::pow;
    record(std::string(in.name), {a, b}, {out},
           [op, sa = SavedTensor(a), sb = SavedTensor(b), sy = SavedTensor(reads_y ? out : Tensor()),
            sha = a.shape(), shb = b.shape()](const Grads& g, const Needs& needs) {
             Grads r = binary_grad(op, g[0], sa.get(), sb.get(), sy.get(), needs);
             return Grads{needs[0] ? sum_to(r[0], sha) : Tensor(), needs[1] ? sum_to(r[1], shb) : Tensor()};
           });
  }
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, double s) {
  const PointwiseInfo in = info(op);
  check_same_device(in.name, {&a});
  check_dtype(in, a.dtype());
  check_scalar(in, a, s);
  Tensor out = Tensor::empty(a.shape(), result_dtype(in, a.dtype()), a.device());
  SPLAT_KERNEL(out.device(), binary_scalar, op, out, a, s);
  if (!in.bool_result && autograd::needs_grad({a})) {
    record(std::string(in.name), {a}, {out}, [op, sa = SavedTensor(a), s](const Grads& g, const Needs&) {
      return Grads{binary_scalar_grad(op, g[0], sa.get(), s)};
    });
  }
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
  if (autograd::needs_grad({a, b})) {
    autograd::check_inplace(in.name, a);
    return assign_inplace(a, binary(op, clone(a), b));
  }
  SPLAT_KERNEL(a.device(), binary, op, a, a, b);
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
  if (autograd::needs_grad({a})) {
    autograd::check_inplace(in.name, a);
    return assign_inplace(a, binary(op, clone(a), s));
  }
  SPLAT_KERNEL(a.device(), binary_scalar, op, a, a, s);
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
  SPLAT_KERNEL(out.device(), clamp, out, x, lo, hi);
  if (autograd::needs_grad({x})) {
    // The gradient passes where x lies inside [lo, hi], bounds included (as PyTorch).
    record("clamp", {x}, {out}, [sx = SavedTensor(x), lo, hi](const Grads& g, const Needs&) {
      const Tensor& v = sx.get();
      Tensor outside = zeros(v.shape(), {DType::b8, v.device()});
      if (lo) outside = logical_or(outside, lt(v, *lo));
      if (hi) outside = logical_or(outside, gt(v, *hi));
      return Grads{masked_fill(g[0], outside, 0)};
    });
  }
  return out;
}

Tensor& clamp_(Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  check_clamp(x, lo, hi);
  check_writable("clamp_", x);
  if (autograd::needs_grad({x})) {
    autograd::check_inplace("clamp_", x);
    return assign_inplace(x, clamp(clone(x), lo, hi));
  }
  SPLAT_KERNEL(x.device(), clamp, x, x, lo, hi);
  x.storage()->bump_version();
  return x;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_device("where", {&cond, &a, &b});
  SPLAT_CHECK(cond.dtype() == DType::b8, "where: condition must be bool, got ", cond.dtype());
  check_same_dtype("where", a, b);
  const Shape s = broadcast_shapes("where", broadcast_shapes("where", cond.shape(), a.shape()), b.shape());
  Tensor out = Tensor::empty(s, a.dtype(), a.device());
  SPLAT_KERNEL(out.device(), where, out, cond, a, b);
  if (autograd::needs_grad({a, b})) {
    record("where", {a, b}, {out}, [sc = SavedTensor(cond), sha = a.shape(), shb = b.shape()](
                                       const Grads& g, const Needs& needs) {
      const Tensor zero = scalar_like(g[0], 0);
      return Grads{needs[0] ? sum_to(where(sc.get(), g[0], zero), sha) : Tensor(),
                   needs[1] ? sum_to(where(sc.get(), zero, g[0]), shb) : Tensor()};
    });
  }
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
  const bool grad = autograd::needs_grad({x});
  if (grad) autograd::check_inplace("masked_fill_", x);
  const Tensor v = Tensor::empty({}, x.dtype(), x.device());
  SPLAT_KERNEL(v.device(), fill, v, value);
  SPLAT_KERNEL(x.device(), where, x, mask, v, x);
  x.storage()->bump_version();
  if (grad) {
    record("masked_fill_", {x}, {x}, [sm = SavedTensor(mask)](const Grads& g, const Needs&) {
      return Grads{masked_fill(g[0], sm.get(), 0)};
    });
  }
  return x;
}

} // namespace splat::ops
