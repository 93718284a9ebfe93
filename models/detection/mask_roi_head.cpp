#include "models/detection/mask_roi_head.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/view.h"

namespace splat::models {

Tensor mask_branch_loss(FCNMaskHead& head, const MaskBranchConfig& cfg,
                        const std::vector<Tensor>& feats,
                        const std::vector<ops::SamplingResult>& samples,
                        const std::vector<GroundTruth>& gts) {
  std::vector<Tensor> pos_boxes, labels;
  for (const ops::SamplingResult& s : samples) {
    pos_boxes.push_back(s.pos_bboxes);
    labels.push_back(s.pos_gt_labels.defined()
                         ? s.pos_gt_labels
                         : ops::zeros({0}, {.dtype = DType::i64, .device = s.pos_bboxes.device()}));
  }
  const Tensor rois = boxes_to_rois(pos_boxes);
  const Tensor targets = head.targets(samples, gts, cfg.mask_size);
  if (rois.size(0) == 0) return head.empty_loss();
  return head.loss(head.forward(cfg.roi_extractor(feats, rois)), targets, ops::cat(labels));
}

std::vector<Tensor> mask_branch_probs(FCNMaskHead& head, const MaskBranchConfig& cfg,
                                      const std::vector<Tensor>& feats,
                                      const std::vector<Detections>& dets) {
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> boxes, labels;
  for (const Detections& d : dets) boxes.push_back(d.boxes), labels.push_back(d.labels);
  const Tensor rois = boxes_to_rois(boxes);
  const int64_t m = 2 * cfg.roi_extractor.output_size;
  std::vector<Tensor> probs;
  if (rois.size(0) == 0) {
    for (const Tensor& b : boxes)
      probs.push_back(ops::zeros({0, m, m}, {.dtype = b.dtype(), .device = b.device()}));
    return probs;
  }
  const Tensor all = head.predict(head.forward(cfg.roi_extractor(feats, rois)), ops::cat(labels));
  int64_t start = 0;
  for (const Tensor& b : boxes) {
    probs.push_back(ops::narrow(all, 0, start, b.size(0)));
    start += b.size(0);
  }
  return probs;
}

void paste_detections(std::vector<Detections>& dets, const std::vector<Tensor>& probs,
                      const std::vector<ImageInfo>& infos, bool rescale, double mask_thr_binary) {
  SPLAT_CHECK(dets.size() == probs.size() && dets.size() == infos.size(),
              "paste_detections: ", dets.size(), " detection sets, ", probs.size(),
              " mask sets and ", infos.size(), " images");
  for (size_t i = 0; i < dets.size(); ++i) {
    if (rescale) dets[i].boxes = rescale_boxes(dets[i].boxes, infos[i]);
    dets[i].masks =
        paste_detection_masks(probs[i], dets[i].boxes,
                              rescale ? infos[i].ori_shape : infos[i].img_shape, mask_thr_binary);
  }
}

MaskRoiHead::MaskRoiHead(const StandardRoiHeadConfig& cfg, const MaskBranchConfig& mask)
    : StandardRoiHead(cfg), mask_config(mask) {
  SPLAT_CHECK(mask.head.num_classes == cfg.bbox_head.num_classes, "MaskRoIHead: the mask head has ",
              mask.head.num_classes, " classes but the box head ", cfg.bbox_head.num_classes);
  SPLAT_CHECK(mask.mask_size == 2 * mask.roi_extractor.output_size,
              "MaskRoIHead: the mask head upsamples ", mask.roi_extractor.output_size, "x",
              mask.roi_extractor.output_size, " RoI features to ",
              2 * mask.roi_extractor.output_size, " but mask_size is ", mask.mask_size);
  mask_head = register_module("mask_head", std::make_shared<FCNMaskHead>(mask.head));
}

LossMap MaskRoiHead::loss(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                          const DetectorInput& input, Generator* gen) {
  const auto samples = sample(proposals, input, gen);
  LossMap losses = box_loss(feats, samples);
  losses["loss_mask"] = mask_branch_loss(*mask_head, mask_config, feats, samples, input.targets);
  return losses;
}

std::vector<Detections> MaskRoiHead::predict(const std::vector<Tensor>& feats,
                                             const std::vector<Proposals>& proposals,
                                             const std::vector<ImageInfo>& infos, bool rescale) {
  // mmdet predicts the boxes without rescaling when there are masks: the mask RoIs are pooled
  // from the resized image's features, and the boxes are rescaled as the masks are pasted.
  std::vector<Detections> dets =
      StandardRoiHead::predict(feats, proposals, infos, /*rescale=*/false);
  paste_detections(dets, mask_branch_probs(*mask_head, mask_config, feats, dets), infos, rescale,
                   mask_config.mask_thr_binary);
  return dets;
}

} // namespace splat::models
