// The two-stage detector (mmdet's TwoStageDetector): ResNeSt backbone -> FPN neck -> RPN ->
// a RoI head. Faster R-CNN is this with a StandardRoiHead; Mask R-CNN and the cascades plug
// other RoI heads in, nothing else changes. Keys: `backbone.*`, `neck.*`, `rpn_head.*`,
// `roi_head.*` (spec section 7.1).
#pragma once

#include "models/detection/fpn.h"
#include "models/detection/roi_head.h"
#include "models/detection/rpn_head.h"
#include "models/resnest.h"

namespace splat::models {

struct TwoStageConfig {
  ResNeStConfig backbone;
  FpnConfig neck;
  RpnHeadConfig rpn_head;
  RpnTrainConfig rpn_train;
  ProposalConfig rpn_proposal_train{.nms_pre = 2000, .max_per_img = 1000, .nms_iou = 0.7, .min_bbox_size = 0};
  ProposalConfig rpn_proposal_test{.nms_pre = 1000, .max_per_img = 1000, .nms_iou = 0.7, .min_bbox_size = 0};
};

class TwoStageDetector : public nn::Module {
public:
  TwoStageDetector(const TwoStageConfig& config, std::shared_ptr<RoiHead> roi_head);
  // Backbone + neck: the FPN maps P2..P6.
  std::vector<Tensor> extract_features(const Tensor& images);
  // The named losses of a training batch (training mode). gen: the samplers' generator
  // (nullptr: the default one).
  LossMap forward_train(const DetectorInput& input, Generator* gen = nullptr);
  // Detections per image (eval mode expected), in original-image pixels when rescale.
  std::vector<Detections> predict(const DetectorInput& input, bool rescale = true);
  void train(bool on = true) override;
  const TwoStageConfig config;
  std::shared_ptr<ResNeSt> backbone;
  std::shared_ptr<Fpn> neck;
  std::shared_ptr<RpnHead> rpn_head;
  std::shared_ptr<RoiHead> roi_head;
};

} // namespace splat::models
