// MMDetection v2's AnchorGenerator: per-level anchors over FPN feature maps and their valid
// flags.
//
// Base anchors of a level (base size s, centre offset c, ratio r = h / w, scale k): centred at
// (c * s, c * s) with w = s * k / sqrt(r), h = s * k * sqrt(r); their order is ratio-major then
// scale (MMDetection's scale_major=True: index = ratio_index * num_scales + scale_index).
// Grid anchors of a level with stride t over an (H, W) feature map: anchor a at cell (y, x) is
// base anchor a shifted by (x * t, y * t), and the rows are ordered (y, x, a) row-major, i.e.
// row (y * W + x) * A + a, which matches the (H, W, A) flattening of the RPN head's outputs.
// The arithmetic is in the output dtype in MMDetection's order (f32 gives its exact values).
#pragma once

#include "core/tensor.h"
#include "ops/boxes.h"

#include <vector>

namespace splat::ops {

// Defaults: the spec's RPN anchors (section 2.4): strides 4..64, base sizes = strides, one
// scale 8, ratios 0.5, 1, 2, centre offset 0; anchor sizes (sqrt area) 32, 64, ..., 512.
struct AnchorGenerator {
  std::vector<int64_t> strides = {4, 8, 16, 32, 64};
  std::vector<double> ratios = {0.5, 1.0, 2.0};
  std::vector<double> scales = {8.0};
  std::vector<double> base_sizes = {}; // one per level; empty means the strides
  double center_offset = 0;

  int64_t num_levels() const { return static_cast<int64_t>(strides.size()); }
  int64_t num_base_anchors() const { return static_cast<int64_t>(ratios.size() * scales.size()); }
};

// The base anchors of one level: (A, 4), A = ratios x scales, in the order above.
Tensor base_anchors(const AnchorGenerator& gen, int64_t level, TensorOptions opts = {});

// One (H_l * W_l * A, 4) tensor of anchors per level, for feature maps of the given sizes
// (one per level).
std::vector<Tensor> grid_anchors(const AnchorGenerator& gen,
                                 const std::vector<SizeHW>& feature_sizes, TensorOptions opts = {});

// One (H_l * W_l * A) bool tensor per level: true for anchors whose cell lies in the first
// min(ceil(pad_shape.height / t), H_l) rows and min(ceil(pad_shape.width / t), W_l) columns
// (MMDetection's valid_flags; it passes each image's own pad_shape, the image padded to the
// size divisor, not the batch's padded size).
std::vector<Tensor> valid_flags(const AnchorGenerator& gen,
                                const std::vector<SizeHW>& feature_sizes, SizeHW pad_shape,
                                Device device = Device::cpu());

// MMDetection's anchor_inside_flags. anchors: (N, 4), valid: (N) bool -> (N) bool.
// allowed_border < 0: valid itself; allowed_border b >= 0: valid and the anchor lies inside
// x1 >= -b, y1 >= -b, x2 < width + b, y2 < height + b of the (unpadded) image.
Tensor anchor_inside_flags(const Tensor& anchors, const Tensor& valid, SizeHW image,
                           int64_t allowed_border);

} // namespace splat::ops
