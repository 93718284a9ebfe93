// Mask R-CNN's RoI head (mmdet's StandardRoIHead with a mask branch, spec sections 2.5 and 3):
// the StandardRoiHead's box path unchanged, plus a mask branch of its own RoI extractor (14x14)
// and an FCNMaskHead. Training adds `loss_mask` on each image's sampled positives (the same
// samples as the box head's); inference predicts masks on the final detections. Key prefix:
// `mask_head.` beside `bbox_head.`.
//
// The branch's two steps are free functions over (extractor, head) so the cascade's stages
// can each run one with their own head.
#pragma once

#include "models/detection/mask_head.h"
#include "models/detection/roi_head.h"

namespace splat::models {

struct MaskBranchConfig {
  RoiExtractorConfig roi_extractor{.output_size = 14};
  FCNMaskHeadConfig head;
  int64_t mask_size = 28;       // training: the side of the mask targets (mmdet rcnn.mask_size)
  double mask_thr_binary = 0.5; // inference: the paste threshold
};

// loss_mask of the positives of `samples` (mmdet's StandardRoIHead.mask_loss): their RoIs'
// features through the head, against targets cut from `gts`' masks.
Tensor mask_branch_loss(FCNMaskHead& head, const MaskBranchConfig& config,
                        const std::vector<Tensor>& feats,
                        const std::vector<ops::SamplingResult>& samples,
                        const std::vector<GroundTruth>& gts);

// The mask probabilities (K_i, M, M) of every image's detections, whose boxes are in
// resized-image pixels (mmdet's predict_mask: what the RoIs are pooled from).
std::vector<Tensor> mask_branch_probs(FCNMaskHead& head, const MaskBranchConfig& config,
                                      const std::vector<Tensor>& feats,
                                      const std::vector<Detections>& dets);

// Fills every detection's masks from its probabilities and, with rescale, brings the boxes
// (resized-image pixels on entry) back to the original image, where the masks are pasted
// (over ori_shape; over img_shape without rescale), as mmdet's FCNMaskHead.predict_by_feat.
void paste_detections(std::vector<Detections>& dets, const std::vector<Tensor>& probs,
                      const std::vector<ImageInfo>& infos, bool rescale, double mask_thr_binary);

class MaskRoiHead : public StandardRoiHead {
public:
  MaskRoiHead(const StandardRoiHeadConfig& config, const MaskBranchConfig& mask);
  LossMap loss(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
               const DetectorInput& input, Generator* gen) override;
  std::vector<Detections> predict(const std::vector<Tensor>& feats,
                                  const std::vector<Proposals>& proposals,
                                  const std::vector<ImageInfo>& infos, bool rescale) override;
  const MaskBranchConfig mask_config;
  std::shared_ptr<FCNMaskHead> mask_head;
};

} // namespace splat::models
