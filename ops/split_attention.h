// Split-attention (ResNeSt's SplAt conv) as fused ops over the radix-major layout of the spec
// (shared/spec/resnest-detectors.md section 1.1).
//
// Layout. The grouped conv (+ bn0 + ReLU) output x is (N, R*C, H, W), R = radix: split r is
// channels [r*C, (r+1)*C). The fc2 logits z are (N, R*C) or (N, R*C, 1, 1), grouped
// cardinality-major: channel (k*R + r)*(C/K) + j is cardinal group k, radix r, channel j
// (K = cardinality). The attention a = rsoftmax(z) is radix-major like x: a[r*C + k*C/K + j].
//
// The block is
//   s = split_attention_pool(x, R)                 // fc1 input, (N, C, 1, 1)
//   z = fc2(relu(bn1(fc1(s))))                     // not here: conv2d / batch_norm
//   v = split_attention(x, z, R, K)                // = split_attention_combine(x, rsoftmax(z), R)
// Every op is differentiable (float32, float64) on the CPU and the CUDA device.
#pragma once

#include "core/tensor.h"

namespace splat::ops {

// s[n, c] = mean over (h, w) of sum over r of x[n, r*C + c, h, w], in one pass over x.
// x: (N, R*C, H, W), radix-major; returns (N, C, 1, 1) (the 1x1-conv fc1 input).
Tensor split_attention_pool(const Tensor& x, int64_t radix);

// The r-softmax. logits: (N, R*C) or (N, R*C, 1, 1), cardinality-major (see above). R > 1:
// softmax over the R logits of each (k, j), written radix-major; R == 1: sigmoid. Returns a
// tensor of logits' shape. C must be divisible by cardinality.
Tensor rsoftmax(const Tensor& logits, int64_t radix, int64_t cardinality);

// v[n, c, h, w] = sum over r of attention[n, r*C + c] * x[n, r*C + c, h, w], in one pass.
// x: (N, R*C, H, W) radix-major; attention: (N, R*C) or (N, R*C, 1, 1) radix-major (rsoftmax's
// output). Returns (N, C, H, W).
Tensor split_attention_combine(const Tensor& x, const Tensor& attention, int64_t radix);

// The block output from the grouped-conv output and the fc2 logits:
// split_attention_combine(x, rsoftmax(logits, radix, cardinality), radix). The attention has
// N*R*C values against N*R*C*H*W for x, so running the r-softmax as its own small kernel costs
// nothing measurable next to the combine pass and the two stay separately testable.
// x: (N, R*C, H, W); logits: (N, R*C) or (N, R*C, 1, 1); returns (N, C, H, W).
Tensor split_attention(const Tensor& x, const Tensor& logits, int64_t radix, int64_t cardinality);

} // namespace splat::ops
