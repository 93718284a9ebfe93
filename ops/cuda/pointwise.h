// CUDA kernels for pointwise ops (same contract as ops/cpu/pointwise.h).
#pragma once

#include "core/tensor.h"
#include "ops/pointwise_fns.h"

#include <optional>

namespace splat::ops::cuda {

void unary(UnaryOp op, const Tensor& out, const Tensor& x);
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void binary_scalar(BinaryOp op, const Tensor& out, const Tensor& a, double s);
void clamp(const Tensor& out, const Tensor& x, std::optional<double> lo, std::optional<double> hi);
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);

} // namespace splat::ops::cuda
