#include "models/detection/cascade_mask_roi_head.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/pointwise.h"

namespace splat::models {

CascadeMaskRoiHead::CascadeMaskRoiHead(const CascadeRoiHeadConfig& cfg,
                                       const MaskBranchConfig& mask)
    : CascadeRoiHead(cfg), mask_config(mask) {
  const int64_t classes = cfg.stages.front().bbox_head.num_classes;
  SPLAT_CHECK(mask.head.num_classes == classes, "CascadeRoIHead: the mask heads have ",
              mask.head.num_classes, " classes but the box heads ", classes);
  SPLAT_CHECK(mask.mask_size == 2 * mask.roi_extractor.output_size,
              "CascadeRoIHead: the mask heads upsample ", mask.roi_extractor.output_size, "x",
              mask.roi_extractor.output_size, " RoI features to ",
              2 * mask.roi_extractor.output_size, " but mask_size is ", mask.mask_size);
  mask_head = register_module("mask_head", std::make_shared<nn::ModuleListOf<FCNMaskHead>>());
  for (size_t s = 0; s < num_stages(); ++s)
    mask_head->push_back(std::make_shared<FCNMaskHead>(mask.head));
}

FCNMaskHead& CascadeMaskRoiHead::stage_mask_head(size_t stage) const {
  return *(*mask_head)[stage];
}

std::vector<Tensor> CascadeMaskRoiHead::mask_probs(const std::vector<Tensor>& feats,
                                                   const std::vector<Detections>& dets) {
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> mean;
  for (size_t s = 0; s < num_stages(); ++s) {
    const std::vector<Tensor> probs =
        mask_branch_probs(stage_mask_head(s), mask_config, feats, dets);
    if (s == 0) {
      mean = probs;
      continue;
    }
    for (size_t i = 0; i < mean.size(); ++i) mean[i] = ops::add(mean[i], probs[i]);
  }
  for (Tensor& m : mean) m = ops::div(m, static_cast<double>(num_stages()));
  return mean;
}

LossMap CascadeMaskRoiHead::loss(const std::vector<Tensor>& feats,
                                 const std::vector<Proposals>& proposals,
                                 const DetectorInput& input, Generator* gen) {
  TrainResult r = train_stages(feats, proposals, input, gen);
  for (size_t s = 0; s < r.stages.size(); ++s)
    add_stage_losses(r.losses, s,
                     {{"loss_mask", mask_branch_loss(stage_mask_head(s), mask_config, feats,
                                                     r.stages[s].samples, input.targets)}});
  return r.losses;
}

std::vector<Detections> CascadeMaskRoiHead::predict(const std::vector<Tensor>& feats,
                                                    const std::vector<Proposals>& proposals,
                                                    const std::vector<ImageInfo>& infos,
                                                    bool rescale) {
  // As MaskRoiHead::predict: boxes in resized-image pixels for the mask RoIs, rescaled by the
  // paste.
  std::vector<Detections> dets =
      CascadeRoiHead::predict(feats, proposals, infos, /*rescale=*/false);
  paste_detections(dets, mask_probs(feats, dets), infos, rescale, mask_config.mask_thr_binary);
  return dets;
}

} // namespace splat::models
