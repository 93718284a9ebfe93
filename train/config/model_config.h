// The [model] section of a training config: the detector's architecture and its train/test
// settings (spec sections 2 and 3), bound to the models' structs (models/detection/). Every
// value the spec sets is required in the file; the layout mirrors MMDetection's model dict:
//
//   [model]                         type = "faster_rcnn" | "mask_rcnn" | "cascade_rcnn" |
//                                   "cascade_mask_rcnn", num_classes
//   [model.backbone]                depth = 50 | 101, or blocks = [b1, b2, b3, b4];
//                                   stem_channels, base_channels, radix, reduction_factor (4:
//                                   the only value splat's split attention implements),
//                                   avg_down_stride, frozen_stages, norm, norm_eval
//   [model.neck]                    in_channels, out_channels, num_outs
//   [model.rpn_head]                in_channels, feat_channels, anchor_scales, anchor_ratios,
//                                   anchor_strides, target_means, target_stds, loss_bbox
//                                   ("L1" | "SmoothL1"), loss_bbox_beta (SmoothL1),
//                                   loss_bbox_weight, loss_cls_weight
//   [model.roi_head.bbox_roi_extractor]  output_size, sampling_ratio, featmap_strides
//   [model.roi_head.bbox_head]      num_shared_convs, conv_out_channels, num_shared_fcs,
//                                   fc_out_channels, norm ("none" | "BN" | "SyncBN"),
//                                   reg_class_agnostic, target_means, target_stds, loss_bbox,
//                                   loss_bbox_beta, loss_bbox_weight, loss_cls_weight
//   [model.roi_head.mask_roi_extractor]  (mask_rcnn only) output_size, sampling_ratio,
//                                   featmap_strides
//   [model.roi_head.mask_head]      (mask_rcnn only) num_convs, conv_out_channels, norm,
//                                   loss_mask_weight
//   [model.train.rpn]               assigner = {pos_iou_thr, neg_iou_thr, min_pos_iou,
//                                   match_low_quality, ignore_iof_thr}, sampler = {num,
//                                   pos_fraction, neg_pos_ub, add_gt_as_proposals},
//                                   allowed_border
//   [model.train.rpn_proposal]      nms_pre, max_per_img, nms_iou, min_bbox_size
//   [model.train.rcnn]              assigner, sampler (as for the RPN); mask_size (mask_rcnn)
//   [model.test.rpn]                nms_pre, max_per_img, nms_iou, min_bbox_size
//   [model.test.rcnn]               score_thr, nms_iou, max_per_img; mask_thr_binary (mask_rcnn)
//
// Cascade R-CNN (type = "cascade_rcnn", mmdet's CascadeRoIHead) has one box head and one R-CNN
// train setting per stage, as arrays of tables of the same keys, and the stages' loss weights:
//   [model.roi_head]                stage_loss_weights = [w1, w2, w3]
//   [[model.roi_head.bbox_head]]    one per stage, the keys of [model.roi_head.bbox_head]
//   [[model.train.rcnn]]            one per stage, assigner and sampler
// Cascade Mask R-CNN (type = "cascade_mask_rcnn") is the cascade plus Mask R-CNN's mask keys:
// [model.roi_head.mask_roi_extractor] and [model.roi_head.mask_head] once (every stage's mask
// head is built from them), mask_size in every [[model.train.rcnn]] (all equal), and
// mask_thr_binary in [model.test.rcnn].
#pragma once

#include "models/detection/cascade_roi_head.h"
#include "models/detection/mask_roi_head.h"
#include "models/detection/two_stage_detector.h"
#include "train/config/config_node.h"

#include <memory>
#include <optional>
#include <string>

namespace splat::train::config {

struct ModelConfig {
  std::string type; // "faster_rcnn", "mask_rcnn", "cascade_rcnn" or "cascade_mask_rcnn"
  int64_t num_classes = 0;
  models::TwoStageConfig two_stage;
  models::StandardRoiHeadConfig roi_head;          // faster_rcnn, mask_rcnn
  std::optional<models::MaskBranchConfig> mask;    // the mask branch (of every stage for a cascade)
  models::CascadeRoiHeadConfig cascade_roi_head;   // cascade_rcnn, cascade_mask_rcnn
};

// Reads the [model] table (root.table("model")), marking every key it reads used.
ModelConfig read_model_config(const Node& model);

// The detector a ModelConfig describes, freshly initialised as MMDetection initialises it.
std::shared_ptr<models::TwoStageDetector> build_detector(const ModelConfig& config);

} // namespace splat::train::config
