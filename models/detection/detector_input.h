// What the detectors read and return. models/ sits below data/ (design.md section 1), so the
// trainer converts a data::Batch into a DetectorInput; the fields mirror MMDetection's
// DetDataSample metainfo and gt_instances.
#pragma once

#include "core/tensor.h"
#include "models/detection/instance_masks.h"
#include "ops/boxes.h"

#include <map>
#include <string>
#include <vector>

namespace splat::models {

struct ImageInfo {
  ops::SizeHW img_shape; // the resized image inside the padded batch (boxes are clipped to it)
  ops::SizeHW pad_shape; // the image padded to the size divisor (anchor valid flags)
  ops::SizeHW ori_shape; // the decoded image, before resizing
  // What x and y were multiplied by when resizing (mmdet's scale_factor (w, h)); detections are
  // divided by them to return to the original image.
  double scale_w = 1.0, scale_h = 1.0;
};

struct GroundTruth {
  Tensor boxes;        // (G, 4) x1 y1 x2 y2 in the resized image, the images' dtype
  Tensor labels;       // (G) i64, 0-based foreground classes
  Tensor ignore_boxes; // (I, 4) crowd regions, or undefined
  // One mask per GT box for the mask head (Mask R-CNN and Cascade Mask); null for box-only
  // detectors.
  std::shared_ptr<const InstanceMasks> masks;
};

struct DetectorInput {
  Tensor images;                   // (B, 3, Hp, Wp) normalised, padded
  std::vector<ImageInfo> infos;    // B entries
  std::vector<GroundTruth> targets; // B entries for training; empty for inference
};

struct Detections {
  Tensor boxes;  // (K, 4) in original-image pixels (or resized-image pixels without rescale)
  Tensor scores; // (K)
  Tensor labels; // (K) i64
  // (K, H, W) bool masks over the original image (the resized image without rescale), from
  // detectors with a mask head; undefined otherwise.
  Tensor masks;
};

// Named losses (mmdet's names: loss_rpn_cls, loss_rpn_bbox, loss_cls, loss_bbox, the cascade's
// s0.loss_cls, ...) and metrics (acc, s0.acc). Every entry whose name contains "loss" is a 0-d
// loss (mmengine's parse_losses rule).
using LossMap = std::map<std::string, Tensor>;

// The plain sum of every loss entry (spec section 3.4), what backward starts from.
Tensor total_loss(const LossMap& losses);

// The input's checks, shared by training and inference: 4-d floating images, one info per image
// and, when training, one target per image with (G, 4) boxes and (G) labels. Errors name the
// image and the field.
void check_detector_input(const DetectorInput& input, bool training);

} // namespace splat::models
