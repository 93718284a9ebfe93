// CPU RoIAlign kernels: the oracle for ops/cuda/roi_align.cu.
//
// Conventions: features (N, C, H, W) and rois (K, 5) [batch_index, x1, y1, x2, y2] contiguous,
// one floating dtype (float32, float64); batch indices were checked to lie in [0, N). Sampling
// rules in ops/roi_align_fns.h. roi_align overwrites out (K, C, ph, pw); roi_align_backward
// overwrites dfeatures (N, C, H, W) with the sum of every RoI's contribution, added in RoI order
// per channel (deterministic).
#pragma once

#include "core/tensor.h"
#include "ops/roi_align_fns.h"

namespace splat::ops::cpu {

using RoiAlignGeometry = roi_align_fns::Geometry;

void roi_align(const Tensor& out, const Tensor& features, const Tensor& rois,
               const RoiAlignGeometry& g);
void roi_align_backward(const Tensor& dfeatures, const Tensor& dout, const Tensor& rois,
                        const RoiAlignGeometry& g);

} // namespace splat::ops::cpu
