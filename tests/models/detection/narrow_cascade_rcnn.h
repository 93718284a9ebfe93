// The narrow Cascade R-CNN of scripts/fixtures/mmdet_cascade_rcnn.py: the narrow Faster R-CNN's
// backbone, FPN and box-head sizes (narrow_faster_rcnn.h) with the cascade's RPN settings
// (allowed_border 0, SmoothL1 beta 1/9, 2000 training proposals) and its three class-agnostic
// stages, every sampler taking everything (deterministic, as the fixture's).
#pragma once

#include "models/detection/cascade_roi_head.h"
#include "tests/models/detection/narrow_faster_rcnn.h"

namespace splat::test {

inline models::TwoStageConfig narrow_cascade_two_stage_config() {
  models::TwoStageConfig c = narrow_two_stage_config();
  c.rpn_train.allowed_border = 0;
  c.rpn_head.loss_bbox = {.kind = models::BoxLoss::Kind::smooth_l1, .beta = 1.0 / 9, .loss_weight = 1.0};
  c.rpn_proposal_train.max_per_img = 2000;
  return c;
}

inline models::CascadeRoiHeadConfig narrow_cascade_roi_head_config() {
  models::CascadeRoiHeadConfig c;
  c.stages = models::cascade_rcnn_stages(narrow_roi_head_config().bbox_head);
  for (auto& s : c.stages) s.train.sampler.num = 100000;
  return c;
}

inline std::shared_ptr<models::TwoStageDetector> narrow_cascade_rcnn() {
  return std::make_shared<models::TwoStageDetector>(
      narrow_cascade_two_stage_config(), std::make_shared<models::CascadeRoiHead>(narrow_cascade_roi_head_config()));
}

} // namespace splat::test
