// Cascade R-CNN's RoI head (spec sections 2.5, 3.1-3.4; mmdet 3.3's CascadeRoIHead): a loop
// over stages, each made of the pieces Faster R-CNN's head uses - the parameter-free RoI
// extractor, a BBoxHead (class-agnostic, its own coder stds) and its own assigner and sampler.
// Keys: `bbox_head.{0,1,2}.*` (spec 7.1).
//
// Training, stage s: every image's current boxes (the RPN proposals for s = 0) are assigned
// and sampled with stage s's settings (GT boxes added as proposals), the sampled RoIs go through
// head s, and its losses are logged as `s{s}.loss_cls`, `s{s}.acc`, `s{s}.loss_bbox`, every
// `loss*` term multiplied by the stage weight (acc is not). Before the next stage the sampled
// RoIs are regressed with head s's deltas (RoIs labelled background use the argmax of their
// foreground logits, which a class-agnostic head ignores), the GT boxes injected as proposals
// are dropped, and the boxes, gradient-free, become the next stage's proposals.
//
// Inference: the proposals go through the stages, regressed after each but the last (label =
// argmax over the foreground logits); the class scores are the mean over the stages of the raw
// logits, softmaxed by the last head's post-processing (mmdet 3.3's _refine_roi and
// predict_by_feat; spec 3.3 says the same), and the boxes are the last stage's regression of its
// own RoIs; then score_thr, class-wise NMS and max_per_img (RcnnTestConfig).
//
// Cascade Mask R-CNN adds a mask branch per stage without repeating this loop: train_stages()
// returns each stage's sampling results, from which a mask head computes its stage's loss, and
// add_stage_losses() weighs and names it like the box losses.
#pragma once

#include "models/detection/roi_head.h"

namespace splat::models {

struct CascadeStageConfig {
  BBoxHeadConfig bbox_head;
  RcnnTrainConfig train;
  double loss_weight = 1.0; // the stage's stage_loss_weights entry
};

struct CascadeRoiHeadConfig {
  // One extractor for every stage: mmdet builds one per stage from the same settings, and it
  // has no parameters.
  RoiExtractorConfig bbox_roi_extractor;
  std::vector<CascadeStageConfig> stages;
  RcnnTestConfig test;
};

// The spec's three stages (IoU 0.5 / 0.6 / 0.7, stds 0.1 / 0.05 / 0.033 for the centre,
// weights 1 / 0.5 / 0.25, class-agnostic, SmoothL1 beta 1), each stage's box head built from
// `head` (channels, classes, norm).
std::vector<CascadeStageConfig> cascade_rcnn_stages(const BBoxHeadConfig& head);

class CascadeRoiHead : public RoiHead {
public:
  // What one training stage worked on, for the mask branch and the tests.
  struct TrainStage {
    std::vector<ops::SamplingResult> samples; // per image
    Tensor rois;                              // (K, 5) the sampled RoIs, positives then negatives per image
    BBoxHead::Outputs out;
    BBoxTargets targets;
  };
  struct TrainResult {
    LossMap losses;
    // One entry per stage that ran; fewer than num_stages() only when a stage had no RoI at
    // all (no proposal and no GT box in the batch): the loop stops there (see train_stages).
    std::vector<TrainStage> stages;
    // refined[s][i]: image i's proposals for stage s + 1 (GT boxes removed).
    std::vector<std::vector<Tensor>> refined;
  };
  // The stages' RoIs at test time, for CascadeRoiHead::predict and a mask branch.
  struct TestResult {
    Tensor rois;      // (K, 5) the last stage's RoIs
    Tensor cls_score; // (K, num_classes + 1) the mean of the stages' raw logits
    Tensor bbox_pred; // (K, 4) the last stage's deltas
    std::vector<Tensor> stage_rois; // the RoIs each stage read (stage_rois.back() == rois)
  };

  explicit CascadeRoiHead(const CascadeRoiHeadConfig& config);
  size_t num_stages() const { return config.stages.size(); }
  BBoxHead& stage_head(size_t stage) const;
  BBoxHead::Outputs forward_boxes(size_t stage, const std::vector<Tensor>& feats, const Tensor& rois);
  // Per image, the sampled RoIs regressed by the stage's head, without the GT boxes that the
  // sampler added: the next stage's proposals.
  std::vector<Tensor> refine(size_t stage, const TrainStage& done, const std::vector<ImageInfo>& infos) const;
  // losses[s{stage}.{name}] = value, multiplied by the stage weight when name holds "loss".
  void add_stage_losses(LossMap& losses, size_t stage, const LossMap& stage_losses) const;
  TrainResult train_stages(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                           const DetectorInput& input, Generator* gen);
  TestResult test_stages(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                         const std::vector<ImageInfo>& infos);

  LossMap loss(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
               const DetectorInput& input, Generator* gen) override;
  std::vector<Detections> predict(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                                  const std::vector<ImageInfo>& infos, bool rescale) override;
  const CascadeRoiHeadConfig config;
  std::shared_ptr<nn::ModuleListOf<BBoxHead>> bbox_head;
};

} // namespace splat::models
