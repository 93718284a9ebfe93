// Matrix products (f32, f64). Float32 products accumulate in float32, as GEMM libraries do.
#pragma once

#include "core/tensor.h"

namespace splat::ops {

// (n, k) @ (k, m) -> (n, m)
Tensor mm(const Tensor& a, const Tensor& b);
// (B, n, k) @ (B, k, m) -> (B, n, m)
Tensor bmm(const Tensor& a, const Tensor& b);
// NumPy/PyTorch matmul: 1-d @ 1-d is a dot product (0-d result); a 1-d left operand is a row
// vector and a 1-d right operand a column vector, their added dim removed afterwards; leading
// batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);

} // namespace splat::ops
