// CUDA convolution kernels, same contract as ops/cpu/conv.h (contiguous NCHW f32/f64 tensors,
// outputs overwritten, bias per channel of the output or undefined). The real build tries cuDNN
// first (core/cuda/dnn.h); the im2col/col2im kernels + blas GEMM run otherwise and always in the
// emulated build.
#pragma once

#include "core/tensor.h"
#include "ops/conv_geometry.h"

namespace splat::ops::cuda {

void conv2d_forward(const Tensor& y, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const ConvGeometry& g);
void conv2d_backward_input(const Tensor& dx, const Tensor& dy, const Tensor& weight,
                           const Tensor& bias, const ConvGeometry& g);
void conv2d_backward_weight(const Tensor& dweight, const Tensor& dy, const Tensor& x,
                            const ConvGeometry& g);

// Test hook: caps the column-matrix workspace of the hand-written path at `elements` (at least one
// image's worth is always used), so small tests take the chunked loops; 0 restores the default.
void set_max_column_elements_for_testing(int64_t elements);

} // namespace splat::ops::cuda
