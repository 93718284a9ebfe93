// The narrow Faster R-CNN of scripts/fixtures/mmdet_faster_rcnn.py (one bottleneck per stage,
// stem 8, stage widths 4..32, FPN 16, box head 16 / 32, 3 classes, plain BN) with the
// fixture's deterministic samplers (everything sampled), for the MMDetection parity test and
// the small-model tests.
#pragma once

#include "models/detection/two_stage_detector.h"

namespace splat::test {

inline models::TwoStageConfig narrow_two_stage_config() {
  models::TwoStageConfig c;
  c.backbone.blocks = {1, 1, 1, 1};
  c.backbone.planes = {4, 8, 16, 32};
  c.backbone.stem_width = 4; // mmdet stem_channels 8 = 2w
  c.backbone.num_classes = 0;
  c.backbone.frozen_stages = 1;
  c.backbone.norm_eval = false;
  c.neck = {.in_channels = {16, 32, 64, 128}, .out_channels = 16, .num_outs = 5};
  c.rpn_head.in_channels = 16;
  c.rpn_head.feat_channels = 16;
  c.rpn_train.sampler.num = 100000;
  return c;
}

inline models::StandardRoiHeadConfig narrow_roi_head_config() {
  models::StandardRoiHeadConfig c;
  c.bbox_head.in_channels = 16;
  c.bbox_head.conv_out_channels = 16;
  c.bbox_head.fc_out_channels = 32;
  c.bbox_head.num_classes = 3;
  c.bbox_head.norm = nn::NormConfig{};
  c.train.sampler.num = 100000;
  return c;
}

inline std::shared_ptr<models::TwoStageDetector> narrow_faster_rcnn() {
  return std::make_shared<models::TwoStageDetector>(
      narrow_two_stage_config(), std::make_shared<models::StandardRoiHead>(narrow_roi_head_config()));
}

} // namespace splat::test
