// CUDA kernels for scans: the contract of ops/cpu/scan.h (dim is wrapped, out has x's shape and
// dtype cumsum_dtype(x.dtype()), out does not overlap x). Overwrites out; any strides.
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops::cuda {

void cumsum(const Tensor& out, const Tensor& x, int64_t dim);

} // namespace splat::ops::cuda
