// CUDA RoIAlign kernels, same contract as ops/cpu/roi_align.h (the oracle), except that the
// backward adds the contributions with atomicAdd (as torchvision and mmcv do on the GPU), so
// float rounding of dfeatures can differ between runs in the last bits.
#pragma once

#include "core/tensor.h"
#include "ops/cpu/roi_align.h"

namespace splat::ops::cuda {

using cpu::RoiAlignGeometry;

void roi_align(const Tensor& out, const Tensor& features, const Tensor& rois,
               const RoiAlignGeometry& g);
void roi_align_backward(const Tensor& dfeatures, const Tensor& dout, const Tensor& rois,
                        const RoiAlignGeometry& g);

} // namespace splat::ops::cuda
