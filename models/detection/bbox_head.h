// The R-CNN box head (spec section 2.5, mmdet's Shared4Conv1FCBBoxHead / ConvFCBBoxHead):
// num_shared_convs x [3x3 conv, norm, ReLU] on the (K, C, 7, 7) RoI features, flatten
// (channel-major), num_shared_fcs x [fc + ReLU], then `fc_cls` (num_classes + 1 logits,
// background last) and `fc_reg` (4 deltas per class, or 4 when class-agnostic).
// Keys: `shared_convs.{i}.{conv,bn}.*`, `shared_fcs.{i}.*`, `fc_cls.*`, `fc_reg.*`.
//
// targets() and loss() follow mmdet's BBoxHead (spec section 3.4): labels are the GT class of
// positives and num_classes for negatives; the class loss is a cross-entropy averaged over the
// sampled RoIs, the box loss sums the positives' deltas (the GT class's slot when
// class-specific) and divides by the number of sampled RoIs; acc is the top-1 accuracy in
// percent over all sampled RoIs. predict() is section 3.3's post-processing.
#pragma once

#include "models/detection/box_loss.h"
#include "models/detection/detector_input.h"
#include "nn/module_list.h"
#include "nn/norm.h"
#include "nn/simple_layers.h"
#include "ops/assign.h"
#include "ops/box_coder.h"

#include <optional>

namespace splat::models {

struct BBoxHeadConfig {
  int64_t in_channels = 256;
  int64_t roi_feat_size = 7;
  int64_t num_shared_convs = 4;
  int64_t conv_out_channels = 256;
  int64_t num_shared_fcs = 1;
  int64_t fc_out_channels = 1024;
  std::optional<nn::NormConfig> norm = nn::NormConfig{.kind = nn::NormKind::sync_batch};
  int64_t num_classes = 80;
  bool reg_class_agnostic = false;
  ops::DeltaXYWHBBoxCoder coder{.means = {0, 0, 0, 0}, .stds = {0.1, 0.1, 0.2, 0.2}};
  BoxLoss loss_bbox;      // L1; SmoothL1 beta 1 for the cascades
  double loss_cls_weight = 1.0;
};

// The test-time settings of the R-CNN (spec section 3.3).
struct RcnnTestConfig {
  double score_thr = 0.05;
  double nms_iou = 0.5;
  int64_t max_per_img = 100;
};

// The training targets of the sampled RoIs of a batch, image after image (positives then
// negatives of each image, the order of the RoIs).
struct BBoxTargets {
  Tensor labels;        // (K) i64: GT class for positives, num_classes for negatives
  Tensor label_weights; // (K) 1
  Tensor bbox_targets;  // (K, 4) encoded deltas of positives, 0 for negatives
  Tensor bbox_weights;  // (K, 4) 1 on positive rows
};

class BBoxHead : public nn::Module {
public:
  struct Outputs {
    Tensor cls_score; // (K, num_classes + 1)
    Tensor bbox_pred; // (K, 4 * num_classes) or (K, 4)
  };
  explicit BBoxHead(const BBoxHeadConfig& config);
  Outputs forward(const Tensor& roi_feats);
  BBoxTargets targets(const std::vector<ops::SamplingResult>& samples) const;
  // loss_cls, loss_bbox and acc (a metric, no gradient).
  LossMap loss(const Outputs& out, const BBoxTargets& targets) const;
  // One image: its RoIs (K, 5) and their outputs -> boxes decoded against the RoIs, clipped
  // to img_shape, divided by the scale factors when rescale, and class-wise NMS.
  Detections predict(const Tensor& rois, const Outputs& out, const ImageInfo& info, bool rescale,
                     const RcnnTestConfig& cfg) const;
  // The boxes of the RoIs (K, 5) regressed with the deltas of `labels` (K) (class-agnostic
  // heads ignore them), clipped to img_shape: the cascade's refinement between stages.
  Tensor regress(const Tensor& rois, const Tensor& bbox_pred, const Tensor& labels, ops::SizeHW img_shape) const;
  const BBoxHeadConfig config;
  std::shared_ptr<nn::ModuleList> shared_convs, shared_fcs;
  std::shared_ptr<nn::Linear> fc_cls, fc_reg;
};

// Boxes (K, 4n) in resized-image pixels divided by mmdet's scale factors (x by scale_w, y by
// scale_h): the same boxes in original-image pixels.
Tensor rescale_boxes(const Tensor& boxes, const ImageInfo& info);

} // namespace splat::models
