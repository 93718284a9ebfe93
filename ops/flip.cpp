#include "ops/flip.h"

#include "ops/autograd_support.h"
#include "ops/cpu/copy.h"
#include "ops/cuda/copy.h"
#include "ops/device_dispatch.h"

#include <algorithm>

namespace splat::ops {

// A flipped dim is the same memory walked backwards: start at its last element and negate its
// stride. The copy kernel then materialises that view, so flip needs no kernel of its own.
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  SPLAT_CHECK(x.defined(), "flip: undefined tensor");
  Strides strides = x.strides();
  int64_t offset = x.offset();
  std::vector<bool> seen(std::max<int64_t>(x.dim(), 1), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim("flip", d, x.dim());
    SPLAT_CHECK(!seen[w], "flip: dim ", w, " appears more than once in dims ", shape_str(dims));
    seen[w] = true;
    // A 0-d tensor has nothing to reverse; an empty dim has no last element to start from.
    if (x.dim() == 0 || x.shape()[w] == 0) continue;
    offset += (x.shape()[w] - 1) * strides[w];
    strides[w] = -strides[w];
  }
  const Tensor reversed = x.as_strided(x.shape(), std::move(strides), offset);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  SPLAT_KERNEL(out.device(), copy, out, reversed);
  if (autograd::needs_grad({x}))
    record("flip", {x}, {out}, [dims](const Grads& g, const Needs&) { return Grads{flip(g[0], dims)}; });
  return out;
}

} // namespace splat::ops
