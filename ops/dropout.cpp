// dropout as a composition: a keep mask drawn with ops::rand (Philox: the same numbers on every
// device for one generator state), scaled by 1 / (1 - p) and multiplied in; autograd comes from
// mul, whose gradient through x is dy * mask / (1 - p).
#include "ops/dropout.h"

#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/random.h"

#include <cmath>

namespace splat::ops {

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  check_same_device("dropout", {&x});
  SPLAT_CHECK(is_floating(x.dtype()), "dropout: unsupported dtype ", x.dtype(),
              " (needs f32 or f64)");
  SPLAT_CHECK(p >= 0 && p < 1, "dropout: p must lie in [0, 1), got ", p);
  if (!training || p == 0) return x;
  const Tensor keep = ge(rand(x.shape(), {.dtype = x.dtype(), .device = x.device()}, gen), p);
  return mul(x, mul(to(keep, x.dtype()), 1.0 / (1.0 - p)));
}

} // namespace splat::ops
