#include "ops/matmul.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/cpu/matmul.h"
#include "ops/cuda/matmul.h"
#include "ops/device_dispatch.h"
#include "ops/view.h"

namespace splat::ops {
namespace {

void check_operands(std::string_view op, const Tensor& a, const Tensor& b) {
  check_same_device(op, {&a, &b});
  check_same_dtype(op, a, b);
  SPLAT_CHECK(is_floating(a.dtype()), op, ": unsupported dtype ", a.dtype(), " (f32 or f64 only)");
}

void check_inner(std::string_view op, const Tensor& a, const Tensor& b) {
  SPLAT_CHECK(a.size(-1) == b.size(-2), op, ": shapes ", shape_str(a.shape()), " and ",
              shape_str(b.shape()), " cannot be multiplied (", a.size(-1), " vs ", b.size(-2), ")");
}

} // namespace

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_operands("bmm", a, b);
  SPLAT_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expected 3-d operands, got shapes ",
              shape_str(a.shape()), " and ", shape_str(b.shape()));
  SPLAT_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: ", shape_str(a.shape()), " and ",
              shape_str(b.shape()));
  check_inner("bmm", a, b);
  Tensor out = Tensor::empty({a.size(0), a.size(1), b.size(2)}, a.dtype(), a.device());
  SPLAT_KERNEL(out.device(), bmm, out, a, b);
  if (autograd::needs_grad({a, b})) {
    // dA = dC B^T, dB = A^T dC; the transposes are views the GEMM reads without copying.
    record("bmm", {a, b}, {out}, [sa = SavedTensor(a), sb = SavedTensor(b)](const Grads& g, const Needs& needs) {
      return Grads{needs[0] ? bmm(g[0], transpose(sb.get(), 1, 2)) : Tensor(),
                   needs[1] ? bmm(transpose(sa.get(), 1, 2), g[0]) : Tensor()};
    });
  }
  return out;
}

Tensor mm(const Tensor& a, const Tensor& b) {
  check_operands("mm", a, b);
  SPLAT_CHECK(a.dim() == 2 && b.dim() == 2, "mm: expected 2-d operands, got shapes ",
              shape_str(a.shape()), " and ", shape_str(b.shape()));
  check_inner("mm", a, b);
  return squeeze(bmm(unsqueeze(a, 0), unsqueeze(b, 0)), 0);
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", a, b);
  SPLAT_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: 0-d operand (shapes ", shape_str(a.shape()),
              " and ", shape_str(b.shape()), "); use mul for scalars");
  // Promote vectors to matrices, remembering which dims to drop from the result.
  const Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
  const Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  check_inner("matmul", a2, b2);
  const Shape a_batch(a2.shape().begin(), a2.shape().end() - 2);
  const Shape b_batch(b2.shape().begin(), b2.shape().end() - 2);
  const Shape batch = broadcast_shapes("matmul", a_batch, b_batch);
  const int64_t n = a2.size(-2), k = a2.size(-1), m = b2.size(-1);
  auto batched = [&](const Tensor& t, int64_t r, int64_t c) {
    Shape s = batch;
    s.push_back(r);
    s.push_back(c);
    return reshape(expand(t, s), {-1, r, c});  // a view unless the batch dims need a copy
  };
  Tensor out = bmm(batched(a2, n, k), batched(b2, k, m));
  Shape out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(n);
  if (b.dim() > 1) out_shape.push_back(m);
  return view(out, out_shape);
}

} // namespace splat::ops
