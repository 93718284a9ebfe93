// Cascade Mask R-CNN's RoI head (spec sections 2.5, 3.3, 3.4; mmdet 3.3's CascadeRoIHead with a
// mask branch): the Cascade R-CNN head's stages, unchanged, plus one FCNMaskHead per stage and a
// parameter-free 14x14 mask RoI extractor shared by the stages (mmdet builds one per stage from
// one setting). Keys: `mask_head.{0,1,2}.*` beside `bbox_head.{0,1,2}.*` (spec 7.1).
//
// Training: stage s's mask head reads the positives that stage s sampled (its own IoU
// threshold, from its own refined boxes), its targets are cut from the GT masks for those RoIs,
// and its loss is logged as `s{s}.loss_mask`, multiplied by the stage weight like the stage's
// box losses.
//
// Inference: the final detections (boxes in resized-image pixels) go through every stage's mask
// head, and the sigmoid of each detection's predicted-class channel is averaged over the stages
// (mmdet's predict_mask and merge_aug_masks) before the paste at mask_thr_binary.
#pragma once

#include "models/detection/cascade_roi_head.h"
#include "models/detection/mask_roi_head.h"

namespace splat::models {

class CascadeMaskRoiHead : public CascadeRoiHead {
public:
  // `mask` describes every stage's mask branch (mmdet's one mask_head dict for all stages).
  CascadeMaskRoiHead(const CascadeRoiHeadConfig& config, const MaskBranchConfig& mask);
  FCNMaskHead& stage_mask_head(size_t stage) const;
  // The stages' mean mask probabilities (K_i, M, M) of every image's detections, whose boxes
  // are in resized-image pixels.
  std::vector<Tensor> mask_probs(const std::vector<Tensor>& feats,
                                 const std::vector<Detections>& dets);
  LossMap loss(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
               const DetectorInput& input, Generator* gen) override;
  std::vector<Detections> predict(const std::vector<Tensor>& feats,
                                  const std::vector<Proposals>& proposals,
                                  const std::vector<ImageInfo>& infos, bool rescale) override;
  const MaskBranchConfig mask_config;
  std::shared_ptr<nn::ModuleListOf<FCNMaskHead>> mask_head;
};

} // namespace splat::models
