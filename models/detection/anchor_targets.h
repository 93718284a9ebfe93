// The RPN's training targets for one image (spec section 3.1, mmdet's AnchorHead.get_targets
// with a sigmoid classifier): anchors inside the image (allowed_border) are assigned to the GT
// boxes by the max-IoU assigner and sampled by the random sampler; everything is then mapped
// back onto all anchors, the outside ones getting zero weights.
//
// Labels follow mmdet's convention so the fixtures compare as they are: 0 (the single
// foreground class) for positives, 1 (background) elsewhere; the classifier's target is
// labels == 0. label_weights are 1 on sampled anchors (positives and negatives), 0 elsewhere;
// bbox_targets are the encoded GT deltas of positives (0 elsewhere), bbox_weights 1 on
// positive rows.
#pragma once

#include "core/philox.h"
#include "models/detection/detector_input.h"
#include "ops/assign.h"
#include "ops/box_coder.h"

namespace splat::models {

struct RpnTrainConfig {
  ops::MaxIouAssigner assigner{.pos_iou_thr = 0.7, .neg_iou_thr = 0.3, .min_pos_iou = 0.3,
                               .gt_max_assign_all = true, .match_low_quality = true};
  ops::RandomSampler sampler{.num = 256, .pos_fraction = 0.5, .neg_pos_ub = -1,
                             .add_gt_as_proposals = false};
  int64_t allowed_border = -1; // -1 (Faster, Mask) or 0 (the cascades)
};

struct AnchorTargets {
  Tensor labels;        // (N) i64
  Tensor label_weights; // (N) the anchors' dtype
  Tensor bbox_targets;  // (N, 4)
  Tensor bbox_weights;  // (N, 4)
  int64_t num_sampled = 0; // positives + negatives: this image's share of the loss's avg_factor
};

// anchors: (N, 4), every level of the image concatenated; valid: (N) bool (valid_flags);
// gt: the image's boxes, labels and ignore boxes.
AnchorTargets anchor_targets(const Tensor& anchors, const Tensor& valid, ops::SizeHW img_shape,
                             const GroundTruth& gt, const RpnTrainConfig& cfg,
                             const ops::DeltaXYWHBBoxCoder& coder, Generator* gen);

} // namespace splat::models
