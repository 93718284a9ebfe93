// RPN proposals for one image (spec section 3.2, mmdet 3.3's RPNHead._predict_by_feat_single):
// per level, the sigmoid objectness of the (H, W, A)-flattened outputs, the nms_pre best
// anchors; all levels' picks decoded against their anchors and clipped to img_shape; boxes
// whose width or height is not above min_bbox_size dropped (mmdet 3.x filters whenever
// min_bbox_size >= 0, so zero-size boxes never reach NMS; v2.7 kept them at 0 - see the spec's
// section 3.2 note; a zero-size box can never be a useful proposal); then NMS per level (the
// level as the class of a batched NMS) and the max_per_img best survivors in score order.
// The same ops on every device, so CPU and CUDA give the same proposals.
#pragma once

#include "core/tensor.h"
#include "ops/box_coder.h"

#include <vector>

namespace splat::models {

struct ProposalConfig {
  int64_t nms_pre = 1000;     // per level; <= 0 keeps all
  int64_t max_per_img = 1000;
  double nms_iou = 0.7;
  double min_bbox_size = 0;
};

struct Proposals {
  Tensor boxes;  // (K, 4)
  Tensor scores; // (K)
};

// cls: per level (A, H, W) objectness logits of the image; reg: per level (4A, H, W) deltas;
// anchors: per level (H * W * A, 4) (ops::grid_anchors).
Proposals generate_proposals(const std::vector<Tensor>& cls, const std::vector<Tensor>& reg,
                             const std::vector<Tensor>& anchors, ops::SizeHW img_shape,
                             const ops::DeltaXYWHBBoxCoder& coder, const ProposalConfig& cfg);

} // namespace splat::models
