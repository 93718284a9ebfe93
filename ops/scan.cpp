#include "ops/scan.h"

#include "ops/checks.h"
#include "ops/cpu/scan.h"

namespace splat::ops {

Tensor cumsum(const Tensor& x, int64_t dim) {
  check_same_device("cumsum", {&x});
  const int64_t d = wrap_dim("cumsum", dim, x.dim());
  Tensor out = Tensor::empty(x.shape(), cumsum_dtype(x.dtype()), x.device());
  cpu::cumsum(out, x, d);
  return out;
}

} // namespace splat::ops
