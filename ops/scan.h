// Scans (prefix operations) along one dim.
//
// cumsum: out[..., i, ...] = x[..., 0, ...] + ... + x[..., i, ...] along dim; out has x's shape
// and is contiguous; x may have any strides. Floating inputs keep their dtype; integral and bool
// inputs give i64, as in PyTorch, so prefix sums of small integer types cannot overflow them.
// Sums accumulate in acc_t<T> (core/dtype.h): double for f32, so long f32 prefixes stay accurate.
// A 0-d x is one slice of length 1 along dim 0 / -1.
#pragma once

#include "core/tensor.h"

#include <cstdint>

namespace splat::ops {

Tensor cumsum(const Tensor& x, int64_t dim);

// The dtype cumsum returns for an input of dtype t.
constexpr DType cumsum_dtype(DType t) { return is_floating(t) ? t : DType::i64; }

} // namespace splat::ops
