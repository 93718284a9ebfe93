// CPU kernels for scans (ops/scan.h states the semantics). Arguments were checked by the caller:
// dim is wrapped, out has x's shape and dtype cumsum_dtype(x.dtype()). Overwrites out; x and out
// may have any strides (out must not overlap x).
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops::cpu {

void cumsum(const Tensor& out, const Tensor& x, int64_t dim);

} // namespace splat::ops::cpu
