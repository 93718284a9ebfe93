#include "models/detection/roi_head.h"

#include "core/error.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/view.h"

namespace splat::models {

Tensor RoiExtractorConfig::operator()(const std::vector<Tensor>& feats, const Tensor& rois) const {
  SPLAT_CHECK(feats.size() >= strides.size(), "RoI extractor: ", strides.size(), " strides but ", feats.size(),
              " feature levels");
  const std::vector<Tensor> levels(feats.begin(), feats.begin() + static_cast<std::ptrdiff_t>(strides.size()));
  return ops::multi_level_roi_align(levels, rois, strides,
                                    {.output_h = output_size, .output_w = output_size,
                                     .sampling_ratio = sampling_ratio, .aligned = aligned},
                                    finest_scale);
}

Tensor boxes_to_rois(const std::vector<Tensor>& boxes) {
  SPLAT_CHECK(!boxes.empty(), "boxes_to_rois: no images");
  std::vector<Tensor> rois;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Tensor& b = boxes[i];
    const Tensor index = ops::full({b.size(0), 1}, static_cast<double>(i), {.dtype = b.dtype(), .device = b.device()});
    rois.push_back(ops::cat({index, b}, 1));
  }
  return ops::cat(rois);
}

std::vector<ops::SamplingResult> sample_rois(const RcnnTrainConfig& cfg, const std::vector<Tensor>& boxes,
                                             const DetectorInput& input, Generator* gen) {
  SPLAT_CHECK(boxes.size() == input.targets.size(), "RoI sampling: ", boxes.size(), " images of boxes but ",
              input.targets.size(), " of ground truth");
  std::vector<ops::SamplingResult> samples;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const GroundTruth& gt = input.targets[i];
    const ops::AssignResult assign = ops::max_iou_assign(cfg.assigner, boxes[i], gt.boxes, gt.labels, gt.ignore_boxes);
    samples.push_back(ops::random_sample(cfg.sampler, assign, boxes[i], gt.boxes, gt.labels, gen));
  }
  return samples;
}

Tensor sampled_rois(const std::vector<ops::SamplingResult>& samples) {
  std::vector<Tensor> boxes;
  for (const auto& s : samples) boxes.push_back(ops::cat({s.pos_bboxes, s.neg_bboxes}));
  return boxes_to_rois(boxes);
}

StandardRoiHead::StandardRoiHead(const StandardRoiHeadConfig& cfg) : RoiHead("StandardRoIHead"), config(cfg) {
  SPLAT_CHECK(cfg.bbox_head.roi_feat_size == cfg.bbox_roi_extractor.output_size, "StandardRoIHead: the box head reads ",
              cfg.bbox_head.roi_feat_size, "x", cfg.bbox_head.roi_feat_size, " RoI features but the extractor makes ",
              cfg.bbox_roi_extractor.output_size, "x", cfg.bbox_roi_extractor.output_size);
  bbox_head = register_module("bbox_head", std::make_shared<BBoxHead>(cfg.bbox_head));
}

std::vector<ops::SamplingResult> StandardRoiHead::sample(const std::vector<Proposals>& proposals,
                                                         const DetectorInput& input, Generator* gen) const {
  std::vector<Tensor> boxes;
  for (const auto& p : proposals) boxes.push_back(p.boxes);
  return sample_rois(config.train, boxes, input, gen);
}

BBoxHead::Outputs StandardRoiHead::forward_boxes(const std::vector<Tensor>& feats, const Tensor& rois) {
  return bbox_head->forward(config.bbox_roi_extractor(feats, rois));
}

LossMap StandardRoiHead::loss(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                              const DetectorInput& input, Generator* gen) {
  return box_loss(feats, sample(proposals, input, gen));
}

LossMap StandardRoiHead::box_loss(const std::vector<Tensor>& feats, const std::vector<ops::SamplingResult>& samples) {
  const BBoxHead::Outputs out = forward_boxes(feats, sampled_rois(samples));
  return bbox_head->loss(out, bbox_head->targets(samples));
}

std::vector<Detections> StandardRoiHead::predict(const std::vector<Tensor>& feats,
                                                 const std::vector<Proposals>& proposals,
                                                 const std::vector<ImageInfo>& infos, bool rescale) {
  std::vector<Tensor> boxes;
  for (const auto& p : proposals) boxes.push_back(p.boxes);
  const Tensor rois = boxes_to_rois(boxes);
  const BBoxHead::Outputs out = forward_boxes(feats, rois);
  std::vector<Detections> dets;
  int64_t start = 0;
  for (size_t i = 0; i < proposals.size(); ++i) {
    const int64_t k = proposals[i].boxes.size(0);
    const BBoxHead::Outputs mine{ops::narrow(out.cls_score, 0, start, k), ops::narrow(out.bbox_pred, 0, start, k)};
    dets.push_back(bbox_head->predict(ops::narrow(rois, 0, start, k), mine, infos[i], rescale, config.test));
    start += k;
  }
  return dets;
}

} // namespace splat::models
