// The narrow Mask R-CNN of scripts/fixtures/mmdet_mask_rcnn.py: the narrow Faster R-CNN
// (narrow_faster_rcnn.h) with Mask R-CNN's R-CNN assigner (low-quality matching on) and a mask
// head of 2 convs of 16 channels, plain BN, 3 classes; and ground-truth masks for the tiny
// training batch (tiny_detector_input.h).
#pragma once

#include "models/detection/mask_roi_head.h"
#include "ops/copy.h"
#include "tests/models/detection/narrow_faster_rcnn.h"

namespace splat::test {

inline models::StandardRoiHeadConfig narrow_mask_roi_head_config() {
  models::StandardRoiHeadConfig c = narrow_roi_head_config();
  c.train.assigner.match_low_quality = true;
  return c;
}

inline models::MaskBranchConfig narrow_mask_branch_config() {
  models::MaskBranchConfig c;
  c.head.in_channels = 16;
  c.head.num_convs = 2;
  c.head.conv_out_channels = 16;
  c.head.num_classes = 3;
  c.head.norm = nn::NormConfig{};
  return c;
}

inline std::shared_ptr<models::TwoStageDetector> narrow_mask_rcnn() {
  return std::make_shared<models::TwoStageDetector>(
      narrow_two_stage_config(), std::make_shared<models::MaskRoiHead>(
                                     narrow_mask_roi_head_config(), narrow_mask_branch_config()));
}

// Bitmaps (G, height, width) u8 of the ellipse inscribed in each box (G, 4) (read on the CPU).
inline Tensor ellipse_bitmaps(const Tensor& boxes, int64_t height, int64_t width) {
  const Tensor b = ops::contiguous(ops::to(ops::to(boxes, Device::cpu()), DType::f64));
  const int64_t g = b.size(0);
  Tensor m = ops::zeros({g, height, width}, {.dtype = DType::u8});
  uint8_t* p = m.data<uint8_t>();
  const double* v = b.data<double>();
  for (int64_t i = 0; i < g; ++i) {
    const double cx = (v[4 * i] + v[4 * i + 2]) / 2, cy = (v[4 * i + 1] + v[4 * i + 3]) / 2;
    const double rx = (v[4 * i + 2] - v[4 * i]) / 2, ry = (v[4 * i + 3] - v[4 * i + 1]) / 2;
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x) {
        const double dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
        p[(i * height + y) * width + x] = dx * dx + dy * dy <= 1 ? 1 : 0;
      }
  }
  return m;
}

// Every image's GT boxes get their ellipses as BitmapMasks over the padded batch.
inline models::DetectorInput with_ellipse_masks(models::DetectorInput in) {
  const int64_t h = in.images.size(2), w = in.images.size(3);
  for (auto& gt : in.targets)
    gt.masks = std::make_shared<models::BitmapMasks>(ellipse_bitmaps(gt.boxes, h, w));
  return in;
}

} // namespace splat::test
