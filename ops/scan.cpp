#include "ops/scan.h"

#include "ops/autograd_support.h"
#include "ops/checks.h"
#include "ops/cpu/scan.h"
#include "ops/cuda/scan.h"
#include "ops/device_dispatch.h"
#include "ops/flip.h"

namespace splat::ops {

Tensor cumsum(const Tensor& x, int64_t dim) {
  check_same_device("cumsum", {&x});
  const int64_t d = wrap_dim("cumsum", dim, x.dim());
  Tensor out = Tensor::empty(x.shape(), cumsum_dtype(x.dtype()), x.device());
  SPLAT_KERNEL(x.device(), cumsum, out, x, d);
  if (autograd::needs_grad({x})) {
    // out_i = sum_{j <= i} x_j, so dx_j = sum_{i >= j} g_i: a reversed cumulative sum.
    record("cumsum", {x}, {out}, [d](const Grads& g, const Needs&) {
      return Grads{flip(cumsum(flip(g[0], {d}), d), {d})};
    });
  }
  return out;
}

} // namespace splat::ops
