// CUDA RoIAlign kernels, same contract as ops/cpu/roi_align.h (the oracle). The backward is
// deterministic (64-bit fixed-point accumulation, see the .cu): the same inputs give the same
// dfeatures bit for bit on every run, within rounding of the oracle's sums.
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
