// 2-D convolution and transposed convolution over NCHW tensors, PyTorch's semantics
// (cross-correlation, zero padding), f32 and f64, on the CPU and CUDA devices.
//
// conv2d: x (N, Cin, H, W), weight (Cout, Cin / groups, kh, kw), bias (Cout) or undefined
//   -> (N, Cout, Ho, Wo) with Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1 (floor), Wo likewise.
//   Output channel o of group g = o / (Cout / groups) reads input channels
//   [g Cin / groups, (g + 1) Cin / groups). groups may be anything dividing Cin and Cout,
//   including Cin (depthwise).
// conv_transpose2d: the gradient of conv2d with respect to its input, as an op.
//   x (N, Cin, H, W), weight (Cin, Cout / groups, kh, kw), bias (Cout) or undefined
//   -> (N, Cout, Ho, Wo) with Ho = (H - 1) sh - 2 ph + dh (kh - 1) + output_padding_h + 1.
//   output_padding must be smaller than the stride or the dilation (it only picks among the
//   output sizes that conv2d maps to the same H).
//
// Both are differentiable in x, weight and bias; inputs may have any strides. Errors name the op,
// the argument and the shapes (channel mismatch, groups not dividing the channels, a kernel
// larger than the padded input, non-positive stride or dilation, negative padding, mismatched
// devices or dtypes).
//
// CPU: im2col + OpenBLAS GEMM per (image, group) (1x1 stride-1 unpadded convolutions skip the
// im2col). CUDA: cuDNN in the real build when it supports the case (unless SPLAT_DISABLE_CUDNN=1),
// else, and always in the emulated build, im2col/col2im kernels + the core/cuda/blas.h GEMM.
#pragma once

#include "core/tensor.h"
#include "ops/pool.h" // Size2

#include <cstdint>

namespace splat::ops {

struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0; // zeros on both sides
  Size2 dilation = 1;
  int64_t groups = 1;
};

// e.g. a ResNeSt 3x3: conv2d(x, w, {}, {.stride = 2, .padding = 1}); its radix conv:
// conv2d(x, w, {}, {.padding = 1, .groups = cardinality * radix}); a 1x1 with bias: conv2d(x, w,
// b).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv2dOptions& opts = {});

struct ConvTranspose2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;        // removed from both sides of the full output
  Size2 output_padding = 0; // added to the bottom / right of the output
  int64_t groups = 1;
  Size2 dilation = 1;
};

// e.g. the mask head's upsampler: conv_transpose2d(x, w, b, {.stride = 2}) with a 2x2 kernel.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        const ConvTranspose2dOptions& opts = {});

} // namespace splat::ops
