// CPU split-attention kernels: the oracle for ops/cuda/split_attention.cu.
//
// Conventions: every tensor is contiguous, float32 or float64, on the CPU; radix-major layout of
// ops/split_attention.h (x: (N, R*C, H, W); attention a: (N, R*C) radix-major; logits z: (N, R*C)
// cardinality-major; size-1 trailing dims are allowed and ignored). Every kernel overwrites its
// outputs (=, never +=). Sums accumulate in double.
#pragma once

#include "core/tensor.h"

namespace splat::ops::cpu {

// out: (N, C) = mean over HW of the radix sum of x.
void split_attention_pool(const Tensor& out, const Tensor& x, int64_t radix);
// dx: (N, R*C, H, W) = dout[n, c] / (H*W) for every r, h, w. dout: (N, C).
void split_attention_pool_backward(const Tensor& dx, const Tensor& dout, int64_t radix);

// a: (N, R*C) radix-major from z: (N, R*C) cardinality-major (sigmoid when radix == 1).
void rsoftmax(const Tensor& a, const Tensor& z, int64_t radix, int64_t cardinality);
// dz from the forward output a and its gradient da (both radix-major).
void rsoftmax_backward(const Tensor& dz, const Tensor& da, const Tensor& a, int64_t radix,
                       int64_t cardinality);

// out: (N, C, H, W) = sum over r of a[n, r*C + c] * x[n, r*C + c, h, w].
void split_attention_combine(const Tensor& out, const Tensor& x, const Tensor& a, int64_t radix);
// dx = dout * a (broadcast over HW) and da[n, r*C + c] = sum over HW of dout * x, in one pass
// reading dout and x once. Either output may be undefined (not needed).
void split_attention_combine_backward(const Tensor& dx, const Tensor& da, const Tensor& dout,
                                      const Tensor& x, const Tensor& a, int64_t radix);

} // namespace splat::ops::cpu
