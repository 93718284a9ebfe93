// RoIAlign (torchvision.ops.roi_align / mmcv RoIAlign, average pooling) and the multi-level RoI
// extractor of mmdet's SingleRoIExtractor (shared/spec/resnest-detectors.md section 2.5).
//
// Semantics (torchvision's, which mmcv's avg mode equals): a RoI (b, x1, y1, x2, y2) in image
// coordinates is scaled by spatial_scale and, when aligned, shifted by -0.5 (pixel centres at
// integer + 0.5). Without `aligned` the RoI is at least 1x1. Each of the (ph, pw) bins averages
// gh x gw bilinear samples at the centres of a regular grid over the bin, gh = sampling_ratio or,
// when sampling_ratio is 0, ceil(roi_height / ph) (gw likewise). A sample with y < -1, y > H,
// x < -1 or x > W contributes 0; others are clamped into the map. The average divides by
// max(gh * gw, 1), also counting the samples that contributed 0.
//
// Batch indices are validated (integers in [0, N)) before any kernel runs, which reads the RoIs
// back to the host for CUDA tensors. The CUDA backward accumulates with atomicAdd, so its float
// rounding may vary from run to run; the CPU backward is deterministic.
#pragma once

#include "core/tensor.h"

#include <vector>

namespace splat::ops {

struct RoiAlignOptions {
  int64_t output_h = 7, output_w = 7;
  double spatial_scale = 1.0;
  int64_t sampling_ratio = 0; // samples per bin along each axis; 0 = adaptive
  bool aligned = true;
};

// features: (N, C, H, W) float32/float64; rois: (K, 5) [batch_index, x1, y1, x2, y2] of the same
// dtype; returns (K, C, output_h, output_w). Differentiable in features (not rois). K may be 0.
Tensor roi_align(const Tensor& features, const Tensor& rois, const RoiAlignOptions& options);

// mmdet's level of each RoI: scale = sqrt((x2 - x1) * (y2 - y1)),
// level = floor(log2(scale / finest_scale + 1e-6)) clamped to [0, num_levels - 1].
// rois: (K, 5); returns i64 (K) on rois' device.
Tensor map_roi_levels(const Tensor& rois, int64_t num_levels, double finest_scale = 56);

// Each RoI pooled from the level map_roi_levels picks, with spatial_scale 1 / strides[level].
// feats: one (N, C, H_l, W_l) map per level, same N, C, dtype and device; strides: one per level
// (4, 8, 16, 32 for the FPN of the spec); options.spatial_scale is ignored. Returns
// (K, C, output_h, output_w), differentiable in every level's features.
Tensor multi_level_roi_align(const std::vector<Tensor>& feats, const Tensor& rois,
                             const std::vector<double>& strides, const RoiAlignOptions& options,
                             double finest_scale = 56);

} // namespace splat::ops
