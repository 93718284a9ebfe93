// CPU kernels for copies, casts and fills.
#pragma once

#include "core/tensor.h"

namespace splat::ops::cpu {

// dst[i] = cast(src[i]); src broadcasts to dst.shape(); any strides, any dtype pair.
void copy(const Tensor& dst, const Tensor& src);
// t[i] = cast(value)
void fill(const Tensor& t, double value);

} // namespace splat::ops::cpu
