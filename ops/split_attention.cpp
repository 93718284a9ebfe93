// Split-attention ops: argument checks, device dispatch and the backward formulas (each calls the
// backward kernels of ops/{cpu,cuda}/split_attention). Inputs are made contiguous once here, so
// the kernels see one layout; outputs are contiguous.
#include "ops/split_attention.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/split_attention.h"
#include "ops/cuda/split_attention.h"
#include "ops/device_dispatch.h"

namespace splat::ops {
namespace {

void check_floating(std::string_view op, const Tensor& t, std::string_view name) {
  SPLAT_CHECK(is_floating(t.dtype()), op, ": ", name, " must be float32 or float64, got ",
              t.dtype());
}

// x: (N, R*C, H, W) with R = radix >= 1 dividing the channels. Returns C.
int64_t check_splits(std::string_view op, const Tensor& x, int64_t radix) {
  SPLAT_CHECK(radix >= 1, op, ": radix must be at least 1, got ", radix);
  SPLAT_CHECK(x.dim() == 4, op, ": x must be (N, radix*C, H, W), got shape ", shape_str(x.shape()));
  check_floating(op, x, "x");
  SPLAT_CHECK(x.shape()[1] % radix == 0, op, ": the ", x.shape()[1], " channels of x (shape ",
              shape_str(x.shape()), ") are not divisible by radix ", radix);
  return x.shape()[1] / radix;
}

// logits / attention: (N, R*C) or (N, R*C, 1, 1) with N and R*C given.
void check_attention(std::string_view op, const Tensor& a, std::string_view name, int64_t n,
                     int64_t rc) {
  const bool ok = (a.dim() == 2 || (a.dim() == 4 && a.shape()[2] == 1 && a.shape()[3] == 1)) &&
                  a.shape()[0] == n && a.shape()[1] == rc;
  SPLAT_CHECK(ok, op, ": ", name, " must be (", n, ", ", rc, ") or (", n, ", ", rc,
              ", 1, 1), got shape ", shape_str(a.shape()));
  check_floating(op, a, name);
}

} // namespace

Tensor split_attention_pool(const Tensor& x, int64_t radix) {
  constexpr std::string_view op = "split_attention_pool";
  check_same_device(op, {&x});
  const int64_t c = check_splits(op, x, radix);
  const Tensor xc = contiguous(x);
  Tensor out = Tensor::empty({x.shape()[0], c, 1, 1}, x.dtype(), x.device());
  SPLAT_KERNEL(x.device(), split_attention_pool, out, xc, radix);
  if (autograd::needs_grad({x})) {
    record(std::string(op), {x}, {out}, [shape = x.shape(), radix](const Grads& g, const Needs&) {
      Tensor dx = Tensor::empty(shape, g[0].dtype(), g[0].device());
      SPLAT_KERNEL(dx.device(), split_attention_pool_backward, dx, contiguous(g[0]), radix);
      return Grads{dx};
    });
  }
  return out;
}

Tensor rsoftmax(const Tensor& logits, int64_t radix, int64_t cardinality) {
  constexpr std::string_view op = "rsoftmax";
  check_same_device(op, {&logits});
  SPLAT_CHECK(radix >= 1, op, ": radix must be at least 1, got ", radix);
  SPLAT_CHECK(cardinality >= 1, op, ": cardinality must be at least 1, got ", cardinality);
  SPLAT_CHECK(logits.dim() >= 2, op,
              ": logits must be (N, radix*C) or (N, radix*C, 1, 1), got shape ",
              shape_str(logits.shape()));
  const int64_t rc = logits.shape()[1];
  check_attention(op, logits, "logits", logits.shape()[0], rc);
  SPLAT_CHECK(rc % (radix * cardinality) == 0, op, ": the ", rc, " logits per sample (shape ",
              shape_str(logits.shape()), ") are not divisible by radix * cardinality = ", radix,
              " * ", cardinality);
  const Tensor z = contiguous(logits);
  Tensor a = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  SPLAT_KERNEL(a.device(), rsoftmax, a, z, radix, cardinality);
  if (autograd::needs_grad({logits})) {
    record(std::string(op), {logits}, {a},
           [sa = SavedTensor(a), radix, cardinality](const Grads& g, const Needs&) {
             const Tensor& a = sa.get();
             Tensor dz = Tensor::empty(a.shape(), a.dtype(), a.device());
             SPLAT_KERNEL(dz.device(), rsoftmax_backward, dz, contiguous(g[0]), a, radix,
                          cardinality);
             return Grads{dz};
           });
  }
  return a;
}

Tensor split_attention_combine(const Tensor& x, const Tensor& attention, int64_t radix) {
  constexpr std::string_view op = "split_attention_combine";
  check_same_device(op, {&x, &attention});
  const int64_t c = check_splits(op, x, radix);
  check_attention(op, attention, "attention", x.shape()[0], x.shape()[1]);
  check_same_dtype(op, x, attention);
  const Tensor xc = contiguous(x), ac = contiguous(attention);
  Tensor out = Tensor::empty({x.shape()[0], c, x.shape()[2], x.shape()[3]}, x.dtype(), x.device());
  SPLAT_KERNEL(x.device(), split_attention_combine, out, xc, ac, radix);
  if (autograd::needs_grad({x, attention})) {
    record(std::string(op), {x, attention}, {out},
           [sx = SavedTensor(xc), sa = SavedTensor(ac), radix](const Grads& g, const Needs& needs) {
             const Tensor &x = sx.get(), &a = sa.get();
             const Tensor dx =
                 needs[0] ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
             const Tensor da =
                 needs[1] ? Tensor::empty(a.shape(), a.dtype(), a.device()) : Tensor();
             SPLAT_KERNEL(x.device(), split_attention_combine_backward, dx, da, contiguous(g[0]), x,
                          a, radix);
             return Grads{dx, da};
           });
  }
  return out;
}

Tensor split_attention(const Tensor& x, const Tensor& logits, int64_t radix, int64_t cardinality) {
  check_splits("split_attention", x, radix);
  return split_attention_combine(x, rsoftmax(logits, radix, cardinality), radix);
}

} // namespace splat::ops
