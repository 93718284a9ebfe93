// Fully connected layer: y = x @ weight^T + bias.
//
// x (..., in), weight (out, in), bias (out) or undefined -> y (..., out). float32 or float64, one
// device. One GEMM over the flattened leading dims, reading weight through a transposed view
// (no copy). Differentiable in x, weight and bias.
#pragma once

#include "core/tensor.h"

namespace splat::ops {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

} // namespace splat::ops
