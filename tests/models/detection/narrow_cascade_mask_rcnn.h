// The narrow Cascade Mask R-CNN of scripts/fixtures/mmdet_cascade_mask_rcnn.py: the narrow
// Cascade R-CNN (narrow_cascade_rcnn.h) with the narrow Mask R-CNN's mask branch
// (narrow_mask_rcnn.h) in each of its three stages.
#pragma once

#include "models/detection/cascade_mask_roi_head.h"
#include "tests/models/detection/narrow_cascade_rcnn.h"
#include "tests/models/detection/narrow_mask_rcnn.h"

namespace splat::test {

inline std::shared_ptr<models::TwoStageDetector> narrow_cascade_mask_rcnn(
    const models::CascadeRoiHeadConfig& roi = narrow_cascade_roi_head_config(),
    const models::TwoStageConfig& two_stage = narrow_cascade_two_stage_config()) {
  return std::make_shared<models::TwoStageDetector>(
      two_stage, std::make_shared<models::CascadeMaskRoiHead>(roi, narrow_mask_branch_config()));
}

} // namespace splat::test
