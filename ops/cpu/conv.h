// CPU convolution kernels (im2col + OpenBLAS GEMM), the oracle of ops/cuda/conv.h.
//
// Conventions: every tensor is contiguous NCHW of one floating dtype (f32 or f64); the geometry
// (ops/conv_geometry.h) gives the shapes: x (n, c_in, h, w), weight (c_out, c_in / groups, kh, kw),
// y (n, c_out, ho, wo). Every kernel overwrites its output (=, never +=). bias is (channels of the
// output) or undefined.
#pragma once

#include "core/tensor.h"
#include "ops/conv_geometry.h"

namespace splat::ops::cpu {

// y = conv2d(x, weight) + bias.
void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const ConvGeometry& g);
// dx = the gradient of conv2d with respect to x given dy, plus bias per channel of dx (which is
// conv_transpose2d of dy when bias is defined).
void conv2d_backward_input(const Tensor& dx, const Tensor& dy, const Tensor& weight,
                           const Tensor& bias, const ConvGeometry& g);
// dweight = the gradient of conv2d with respect to weight given dy and x.
void conv2d_backward_weight(const Tensor& dweight, const Tensor& dy, const Tensor& x,
                            const ConvGeometry& g);

} // namespace splat::ops::cpu
