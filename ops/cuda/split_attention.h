// CUDA split-attention kernels, same contracts as ops/cpu/split_attention.h (the oracle).
//
// Conventions: every tensor is contiguous, float32 or float64, on one CUDA device; radix-major
// layout of ops/split_attention.h (x: (N, R*C, H, W); attention a: (N, R*C) radix-major; logits z:
// (N, R*C) cardinality-major; size-1 trailing dims are allowed and ignored). Every kernel
// overwrites its outputs (=, never +=). Sums accumulate in double in a fixed tree per output (no
// atomics), so results are deterministic.
#pragma once

#include "core/tensor.h"

namespace splat::ops::cuda {

void split_attention_pool(const Tensor& out, const Tensor& x, int64_t radix);
void split_attention_pool_backward(const Tensor& dx, const Tensor& dout, int64_t radix);

void rsoftmax(const Tensor& a, const Tensor& z, int64_t radix, int64_t cardinality);
void rsoftmax_backward(const Tensor& dz, const Tensor& da, const Tensor& a, int64_t radix,
                       int64_t cardinality);

void split_attention_combine(const Tensor& out, const Tensor& x, const Tensor& a, int64_t radix);
void split_attention_combine_backward(const Tensor& dx, const Tensor& da, const Tensor& dout,
                                      const Tensor& x, const Tensor& a, int64_t radix);

} // namespace splat::ops::cuda
