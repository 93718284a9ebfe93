// RoI heads: the second stage of a two-stage detector, from the FPN maps and the RPN's
// proposals to losses (training) or detections (inference). RoiHead is the interface the
// detector drives; StandardRoiHead is Faster R-CNN's (one box head; Mask R-CNN adds a mask
// branch to it, the cascade loops over stages of the same pieces).
//
// StandardRoiHead training (mmdet's StandardRoIHead.loss, spec sections 2.5 and 3.1): per
// image, the proposals are assigned to the GT boxes by the max-IoU assigner and sampled (GT
// boxes added as proposals); the RoIs are each image's positives then negatives, pooled from
// P2..P5 by the multi-level RoIAlign (7x7, aligned, adaptive sampling), and go through the
// box head. Key prefix: `bbox_head.`.
#pragma once

#include "models/detection/bbox_head.h"
#include "models/detection/proposals.h"
#include "ops/roi_align.h"

namespace splat::models {

// The multi-level RoI feature extractor (parameter-free): mmdet's SingleRoIExtractor.
struct RoiExtractorConfig {
  int64_t output_size = 7;
  int64_t sampling_ratio = 0;
  bool aligned = true;
  std::vector<double> strides{4, 8, 16, 32}; // the first strides.size() FPN levels are used
  double finest_scale = 56;
  Tensor operator()(const std::vector<Tensor>& feats, const Tensor& rois) const;
};

struct RcnnTrainConfig {
  ops::MaxIouAssigner assigner{.pos_iou_thr = 0.5, .neg_iou_thr = 0.5, .min_pos_iou = 0.5,
                               .gt_max_assign_all = true, .match_low_quality = false};
  ops::RandomSampler sampler{.num = 512, .pos_fraction = 0.25, .neg_pos_ub = -1, .add_gt_as_proposals = true};
};

// (K, 5) [image index, x1, y1, x2, y2] from per-image boxes: mmdet's bbox2roi.
Tensor boxes_to_rois(const std::vector<Tensor>& boxes);

// Every image's boxes (K_i, 4) assigned to its GT boxes and sampled with cfg.
std::vector<ops::SamplingResult> sample_rois(const RcnnTrainConfig& cfg, const std::vector<Tensor>& boxes,
                                             const DetectorInput& input, Generator* gen);

// The sampled RoIs of every image, positives then negatives.
Tensor sampled_rois(const std::vector<ops::SamplingResult>& samples);

class RoiHead : public nn::Module {
public:
  using Module::Module;
  virtual LossMap loss(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                       const DetectorInput& input, Generator* gen) = 0;
  virtual std::vector<Detections> predict(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                                          const std::vector<ImageInfo>& infos, bool rescale) = 0;
};

struct StandardRoiHeadConfig {
  RoiExtractorConfig bbox_roi_extractor;
  BBoxHeadConfig bbox_head;
  RcnnTrainConfig train;
  RcnnTestConfig test;
};

class StandardRoiHead : public RoiHead {
public:
  explicit StandardRoiHead(const StandardRoiHeadConfig& config);
  // Assignment and sampling of every image's proposals.
  std::vector<ops::SamplingResult> sample(const std::vector<Proposals>& proposals, const DetectorInput& input,
                                          Generator* gen) const;
  BBoxHead::Outputs forward_boxes(const std::vector<Tensor>& feats, const Tensor& rois);
  // loss_cls, loss_bbox and acc of the sampled RoIs.
  LossMap box_loss(const std::vector<Tensor>& feats, const std::vector<ops::SamplingResult>& samples);
  LossMap loss(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
               const DetectorInput& input, Generator* gen) override;
  std::vector<Detections> predict(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                                  const std::vector<ImageInfo>& infos, bool rescale) override;
  const StandardRoiHeadConfig config;
  std::shared_ptr<BBoxHead> bbox_head;
};

} // namespace splat::models
