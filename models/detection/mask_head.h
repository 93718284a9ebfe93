// The Mask R-CNN mask head (spec section 2.5, mmdet's FCNMaskHead): num_convs x [3x3 conv, norm,
// ReLU] on the (P, C, 14, 14) mask RoI features, `upsample` (a 2x2 stride-2 ConvTranspose2d
// with bias, then ReLU) to 28x28, and `conv_logits` (1x1, one channel per foreground class).
// Keys: `convs.{i}.{conv,bn}.*`, `upsample.{weight,bias}`, `conv_logits.{weight,bias}`.
//
// targets(), loss() and predict() follow mmdet's FCNMaskHead (spec sections 3.3 and 3.4): the
// targets are each positive RoI's assigned GT mask cut to the RoI and resampled to 28x28; the
// loss is the binary cross-entropy with logits of the GT class's channel, averaged over
// positives x 28 x 28; prediction takes the predicted class's channel and a sigmoid, and
// paste_detection_masks pastes it into the image at mask_thr_binary. The head knows nothing of
// RoI extraction or sampling, so the standard and the cascade RoI heads both compose it
// (models/detection/mask_roi_head.h).
#pragma once

#include "models/detection/detector_input.h"
#include "nn/conv.h"
#include "nn/module_list.h"
#include "nn/norm.h"
#include "ops/assign.h"

#include <optional>

namespace splat::models {

struct FCNMaskHeadConfig {
  int64_t in_channels = 256;
  int64_t num_convs = 4;
  int64_t conv_out_channels = 256;
  std::optional<nn::NormConfig> norm = nn::NormConfig{.kind = nn::NormKind::sync_batch};
  int64_t num_classes = 80;
  double loss_weight = 1.0;
};

class FCNMaskHead : public nn::Module {
public:
  explicit FCNMaskHead(const FCNMaskHeadConfig& config);
  // (P, in_channels, S, S) -> (P, num_classes, 2S, 2S) logits.
  Tensor forward(const Tensor& roi_feats);
  // The mask targets of the positives of every image, image after image (the order of the
  // positive RoIs): (P, mask_size, mask_size) 0/1 of the boxes' dtype. Each image's GroundTruth
  // must carry masks, one per GT box.
  Tensor targets(const std::vector<ops::SamplingResult>& samples,
                 const std::vector<GroundTruth>& gts, int64_t mask_size) const;
  // loss_mask from the positives' logits (P, num_classes, M, M), targets (P, M, M) and GT
  // labels (P) i64, P >= 1.
  Tensor loss(const Tensor& logits, const Tensor& targets, const Tensor& labels) const;
  // loss_mask of a batch without positives: 0, connected to every parameter of the head with a
  // zero gradient, as mmdet's sum of the empty predictions is (the head never runs on the empty
  // batch: BN has no statistics of it).
  Tensor empty_loss() const;
  // The mask probabilities of detections: the sigmoid of the channel of each detection's
  // predicted class, logits (K, num_classes, M, M) and labels (K) -> (K, M, M). Kept apart from
  // pasting because Cascade Mask R-CNN averages these over its stages' heads first.
  Tensor predict(const Tensor& logits, const Tensor& labels) const;
  const FCNMaskHeadConfig config;
  std::shared_ptr<nn::ModuleList> convs;
  std::shared_ptr<nn::ConvTranspose2d> upsample;
  std::shared_ptr<nn::Conv2d> conv_logits;
};

// Detection masks of one image: probs (K, M, M) over boxes (K, 4), which are in the pixels of
// `image`, pasted and thresholded (ops::paste_masks) -> (K, image.height, image.width) bool;
// (0, H, W) for no detections.
Tensor paste_detection_masks(const Tensor& probs, const Tensor& boxes, ops::SizeHW image,
                             double mask_thr_binary);

} // namespace splat::models
