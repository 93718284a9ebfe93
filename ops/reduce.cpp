#include "ops/reduce.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/pointwise.h"
#include "ops/cpu/reduce.h"
#include "ops/cuda/reduce.h"
#include "ops/device_dispatch.h"
#include "ops/view.h"

namespace splat::ops {

ReducedShape reduced_shape(std::string_view op, const Tensor& x, const Dims& dims, bool keepdim) {
  ReducedShape r;
  r.reduced.assign(x.dim(), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(op, d, x.dim());
    if (x.dim() == 0) continue;  // a 0-d tensor reduces over its single implicit dim
    SPLAT_CHECK(!r.reduced[w], op, ": dim ", w, " appears more than once in ", shape_str(dims));
    r.reduced[w] = true;
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!r.reduced[d]) r.out_shape.push_back(x.shape()[d]);
    else if (keepdim) r.out_shape.push_back(1);
  }
  return r;
}

namespace {

DType result_dtype(cpu::ReduceOp op, DType in) {
  switch (op) {
  case cpu::ReduceOp::sum:
  case cpu::ReduceOp::prod: return is_floating(in) ? in : DType::i64;
  case cpu::ReduceOp::all:
  case cpu::ReduceOp::any: return DType::b8;
  default: return in;
  }
}

void check_nonempty(std::string_view op, const Tensor& x, const std::vector<bool>& reduced) {
  for (int64_t d = 0; d < x.dim(); ++d)
    SPLAT_CHECK(!reduced[d] || x.shape()[d] > 0, op, ": cannot reduce over dim ", d,
                " of size 0 (shape ", shape_str(x.shape()), "): the result has no identity");
}

// A gradient of the reduced shape brought back to x's shape: reduced dims re-inserted as size 1
// (when keepdim dropped them), then expanded.
Tensor expand_back(const Tensor& g, const Shape& x_shape, const std::vector<bool>& reduced) {
  Shape kept(x_shape.size());
  for (size_t d = 0; d < kept.size(); ++d) kept[d] = reduced[d] ? 1 : x_shape[d];
  return expand(reshape(g, kept), x_shape);
}

Dims reduced_dims(const std::vector<bool>& reduced) {
  Dims dims;
  for (size_t d = 0; d < reduced.size(); ++d)
    if (reduced[d]) dims.push_back(static_cast<int64_t>(d));
  return dims;
}

int64_t reduced_numel(const Shape& x_shape, const std::vector<bool>& reduced) {
  int64_t n = 1;
  for (size_t d = 0; d < x_shape.size(); ++d)
    if (reduced[d]) n *= x_shape[d];
  return n;
}

// d prod / d x_i = product of the other elements, exact also where x has zeros: with no zero in
// the slice it is prod / x_i; with exactly one, only that zero gets the product of the rest.
Tensor prod_grad(const Tensor& g, const Tensor& x, const Tensor& y, const std::vector<bool>& reduced) {
  const Tensor is_zero = eq(x, 0.0);
  const Dims dims = reduced_dims(reduced);
  const Tensor zeros_in_slice = expand_back(sum(is_zero, dims, true), x.shape(), reduced);
  const Tensor prod_nonzero = expand_back(prod(masked_fill(x, is_zero, 1), dims, true), x.shape(), reduced);
  const Tensor gb = expand_back(g, x.shape(), reduced);
  const Tensor no_zero = div(expand_back(y, x.shape(), reduced), masked_fill(x, is_zero, 1));
  const Tensor only_zero = masked_fill(prod_nonzero, logical_not(logical_and(is_zero, eq(zeros_in_slice, 1))), 0);
  return mul(gb, where(eq(zeros_in_slice, 0), no_zero, only_zero));
}

// amax/amin spread the gradient evenly over the elements that attain the extremum.
Tensor extremum_grad(const Tensor& g, const Tensor& x, const Tensor& y, const std::vector<bool>& reduced) {
  const Tensor hit = to(eq(x, expand_back(y, x.shape(), reduced)), x.dtype());
  const Dims dims = reduced_dims(reduced);
  const Tensor count = expand_back(sum(hit, dims, true), x.shape(), reduced);
  return div(mul(expand_back(g, x.shape(), reduced), hit), count);
}

Tensor reduce(std::string_view op, cpu::ReduceOp kind, const Tensor& x, const Dims& dims, bool keepdim) {
  check_same_device(op, {&x});
  const ReducedShape r = reduced_shape(op, x, dims, keepdim);
  if (kind == cpu::ReduceOp::mean)
    SPLAT_CHECK(is_floating(x.dtype()), op, ": unsupported dtype ", x.dtype(),
                " (mean needs a floating tensor; convert with to(f32))");
  if (kind == cpu::ReduceOp::max || kind == cpu::ReduceOp::min) check_nonempty(op, x, r.reduced);
  Tensor out = Tensor::empty(r.out_shape, result_dtype(kind, x.dtype()), x.device());
  SPLAT_KERNEL(x.device(), reduce, kind, out, x, r.reduced);
  if (is_floating(out.dtype()) && autograd::needs_grad({x})) {
    const bool reads_x = kind == cpu::ReduceOp::prod || kind == cpu::ReduceOp::max || kind == cpu::ReduceOp::min;
    record(std::string(op), {x}, {out},
           [kind, reduced = r.reduced, shape = x.shape(), sx = SavedTensor(reads_x ? x : Tensor()),
            sy = SavedTensor(reads_x ? out : Tensor())](const Grads& g, const Needs&) {
             switch (kind) {
             case cpu::ReduceOp::sum: return Grads{contiguous(expand_back(g[0], shape, reduced))};
             case cpu::ReduceOp::mean:
               return Grads{div(expand_back(g[0], shape, reduced), double(reduced_numel(shape, reduced)))};
             case cpu::ReduceOp::prod: return Grads{prod_grad(g[0], sx.get(), sy.get(), reduced)};
             default: return Grads{extremum_grad(g[0], sx.get(), sy.get(), reduced)};
             }
           });
  }
  return out;
}

ValuesIndices arg_reduce(std::string_view op, bool is_max, const Tensor& x, int64_t dim, bool keepdim) {
  check_same_device(op, {&x});
  SPLAT_CHECK(x.dtype() != DType::b8, op, ": unsupported dtype bool");
  const ReducedShape r = reduced_shape(op, x, {dim}, keepdim);
  check_nonempty(op, x, r.reduced);
  ValuesIndices out{Tensor::empty(r.out_shape, x.dtype(), x.device()),
                    Tensor::empty(r.out_shape, DType::i64, x.device())};
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(op, dim, x.dim());
  SPLAT_KERNEL(x.device(), arg_reduce, is_max, out.values, out.indices, x, d);
  if (autograd::needs_grad({x})) {
    // The gradient goes to the selected element only (the first one on ties).
    record(std::string(op), {x}, {out.values, out.indices},
           [d, keepdim, shape = x.shape(), si = SavedTensor(out.indices)](const Grads& g, const Needs&) {
             if (shape.empty()) return Grads{g[0]};
             const Tensor gi = keepdim ? g[0] : unsqueeze(g[0], d);
             const Tensor idx = keepdim ? si.get() : unsqueeze(si.get(), d);
             return Grads{scatter_add(zeros(shape, {gi.dtype(), gi.device()}), d, idx, gi)};
           });
  }
  return out;
}

} // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce("sum", cpu::ReduceOp::sum, x, dims, keepdim);
}
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce("mean", cpu::ReduceOp::mean, x, dims, keepdim);
}
Tensor prod(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce("prod", cpu::ReduceOp::prod, x, dims, keepdim);
}
Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce("amax", cpu::ReduceOp::max, x, dims, keepdim);
}
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce("amin", cpu::ReduceOp::min, x, dims, keepdim);
}
Tensor all(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce("all", cpu::ReduceOp::all, x, dims, keepdim);
}
Tensor any(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce("any", cpu::ReduceOp::any, x, dims, keepdim);
}

Tensor var(const Tensor& x, const Dims& dims, bool unbiased, bool keepdim) {
  check_same_device("var", {&x});
  SPLAT_CHECK(is_floating(x.dtype()), "var: unsupported dtype ", x.dtype(),
              " (var needs a floating tensor; convert with to(f32))");
  const ReducedShape r = reduced_shape("var", x, dims, keepdim);
  Tensor out = Tensor::empty(r.out_shape, x.dtype(), x.device());
  const int64_t correction = unbiased ? 1 : 0;
  SPLAT_KERNEL(x.device(), var, out, x, r.reduced, correction);
  if (autograd::needs_grad({x})) {
    // d var / d x_i = 2 (x_i - mean) / (n - correction)
    record("var", {x}, {out}, [sx = SavedTensor(x), reduced = r.reduced, correction](const Grads& g, const Needs&) {
      const Tensor& v = sx.get();
      const Dims dims = reduced_dims(reduced);
      const double denom = double(reduced_numel(v.shape(), reduced) - correction);
      const Tensor centered = sub(v, mean(v, dims, true));
      return Grads{mul(expand_back(g[0], v.shape(), reduced), mul(centered, 2.0 / denom))};
    });
  }
  return out;
}

ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce("max", true, x, dim, keepdim);
}
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce("min", false, x, dim, keepdim);
}

namespace {
// Indices along dim, or into the flattened tensor when dim is absent.
Tensor arg_index(std::string_view op, bool is_max, const Tensor& x, std::optional<int64_t> dim,
                 bool keepdim) {
  if (dim) return arg_reduce(op, is_max, x, *dim, keepdim).indices;
  Tensor idx = arg_reduce(op, is_max, reshape(x, {-1}), 0, false).indices;
  return keepdim ? reshape(idx, Shape(x.dim(), 1)) : idx;
}
} // namespace

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_index("argmax", true, x, dim, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_index("argmin", false, x, dim, keepdim);
}

} // namespace splat::ops
