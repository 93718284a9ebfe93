#include "models/detection/cascade_roi_head.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/view.h"

#include <array>

namespace splat::models {
namespace {

// The argmax over the foreground logits (background is the last column) of every row: the
// class whose deltas refine a RoI at test time and a background RoI in training.
Tensor foreground_argmax(const Tensor& cls_score) {
  return ops::argmax(ops::narrow(cls_score, 1, 0, cls_score.size(1) - 1), 1);
}

// rois (K, 5) of one image regressed by `head`, the image index column kept.
Tensor regress_rois(const BBoxHead& head, const Tensor& rois, const Tensor& bbox_pred, const Tensor& labels,
                    ops::SizeHW img_shape) {
  return ops::cat({ops::narrow(rois, 1, 0, 1), head.regress(rois, bbox_pred, labels, img_shape)}, 1);
}

std::vector<int64_t> rois_per_image(const std::vector<ops::SamplingResult>& samples) {
  std::vector<int64_t> counts;
  for (const auto& s : samples) counts.push_back(s.pos_inds.numel() + s.neg_inds.numel());
  return counts;
}

} // namespace

std::vector<CascadeStageConfig> cascade_rcnn_stages(const BBoxHeadConfig& head) {
  const double ious[] = {0.5, 0.6, 0.7};
  const std::array<double, 4> stds[] = {{0.1, 0.1, 0.2, 0.2}, {0.05, 0.05, 0.1, 0.1}, {0.033, 0.033, 0.067, 0.067}};
  const double weights[] = {1.0, 0.5, 0.25};
  std::vector<CascadeStageConfig> stages;
  for (size_t s = 0; s < 3; ++s) {
    CascadeStageConfig c{.bbox_head = head, .train = {}, .loss_weight = weights[s]};
    c.bbox_head.reg_class_agnostic = true;
    c.bbox_head.coder = {.means = {0, 0, 0, 0}, .stds = stds[s]};
    c.bbox_head.loss_bbox = {.kind = BoxLoss::Kind::smooth_l1, .beta = 1.0, .loss_weight = 1.0};
    c.train.assigner.pos_iou_thr = c.train.assigner.min_pos_iou = ious[s];
    c.train.assigner.neg_iou_thr = ious[s];
    c.train.assigner.match_low_quality = false;
    stages.push_back(c);
  }
  return stages;
}

CascadeRoiHead::CascadeRoiHead(const CascadeRoiHeadConfig& cfg) : RoiHead("CascadeRoIHead"), config(cfg) {
  SPLAT_CHECK(!cfg.stages.empty(), "CascadeRoIHead: no stages");
  bbox_head = register_module("bbox_head", std::make_shared<nn::ModuleListOf<BBoxHead>>());
  for (size_t s = 0; s < cfg.stages.size(); ++s) {
    const BBoxHeadConfig& h = cfg.stages[s].bbox_head;
    SPLAT_CHECK(h.roi_feat_size == cfg.bbox_roi_extractor.output_size, "CascadeRoIHead: stage ", s,
                "'s box head reads ", h.roi_feat_size, "x", h.roi_feat_size, " RoI features but the extractor makes ",
                cfg.bbox_roi_extractor.output_size, "x", cfg.bbox_roi_extractor.output_size);
    SPLAT_CHECK(h.num_classes == cfg.stages.front().bbox_head.num_classes, "CascadeRoIHead: stage ", s, " has ",
                h.num_classes, " classes, stage 0 ", cfg.stages.front().bbox_head.num_classes);
    bbox_head->push_back(std::make_shared<BBoxHead>(h));
  }
}

BBoxHead& CascadeRoiHead::stage_head(size_t stage) const { return *(*bbox_head)[stage]; }

BBoxHead::Outputs CascadeRoiHead::forward_boxes(size_t stage, const std::vector<Tensor>& feats, const Tensor& rois) {
  return stage_head(stage).forward(config.bbox_roi_extractor(feats, rois));
}

std::vector<Tensor> CascadeRoiHead::refine(size_t stage, const TrainStage& done,
                                           const std::vector<ImageInfo>& infos) const {
  autograd::NoGradGuard no_grad;
  const BBoxHead& head = stage_head(stage);
  const Tensor& labels = done.targets.labels;
  const Tensor background = ops::eq(labels, static_cast<double>(head.config.num_classes));
  const Tensor refine_labels = ops::where(background, foreground_argmax(done.out.cls_score), labels);
  std::vector<Tensor> boxes;
  int64_t start = 0;
  const std::vector<int64_t> counts = rois_per_image(done.samples);
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t k = counts[i];
    const Tensor b = head.regress(ops::narrow(done.rois, 0, start, k), ops::narrow(done.out.bbox_pred, 0, start, k),
                                  ops::narrow(refine_labels, 0, start, k), infos.at(i).img_shape);
    // The positives come first; those that are injected GT boxes leave.
    const ops::SamplingResult& s = done.samples[i];
    const int64_t num_neg = s.neg_inds.numel();
    Tensor keep = ops::ones({num_neg}, {.dtype = DType::b8, .device = b.device()});
    if (s.pos_inds.numel() > 0) keep = ops::cat({ops::logical_not(s.pos_is_gt), keep});
    boxes.push_back(ops::index_select(b, 0, ops::reshape(ops::nonzero(keep), {-1})));
    start += k;
  }
  return boxes;
}

void CascadeRoiHead::add_stage_losses(LossMap& losses, size_t stage, const LossMap& stage_losses) const {
  const double weight = config.stages.at(stage).loss_weight;
  for (const auto& [name, value] : stage_losses) {
    const std::string key = str("s", stage, ".", name);
    SPLAT_CHECK(!losses.count(key), "CascadeRoIHead: two stage losses named ", key);
    // mmdet: every term whose name contains "loss" is weighted, metrics (acc) are not.
    losses[key] = name.find("loss") != std::string::npos && weight != 1.0 ? ops::mul(value, weight) : value;
  }
}

CascadeRoiHead::TrainResult CascadeRoiHead::train_stages(const std::vector<Tensor>& feats,
                                                         const std::vector<Proposals>& proposals,
                                                         const DetectorInput& input, Generator* gen) {
  TrainResult r;
  std::vector<Tensor> boxes;
  for (const auto& p : proposals) boxes.push_back(p.boxes);
  for (size_t s = 0; s < num_stages(); ++s) {
    TrainStage st;
    st.samples = sample_rois(config.stages[s].train, boxes, input, gen);
    st.rois = sampled_rois(st.samples);
    // No RoI in the whole batch (no proposal, no GT box): mmdet logs this stage's losses of
    // zero RoIs and then stops the loop; here the loop stops before them, as splat's
    // training-mode BN refuses a batch of zero RoIs.
    if (st.rois.size(0) == 0) break;
    st.out = forward_boxes(s, feats, st.rois);
    st.targets = stage_head(s).targets(st.samples);
    add_stage_losses(r.losses, s, stage_head(s).loss(st.out, st.targets));
    if (s + 1 < num_stages()) {
      boxes = refine(s, st, input.infos);
      r.refined.push_back(boxes);
    }
    r.stages.push_back(std::move(st));
  }
  return r;
}

CascadeRoiHead::TestResult CascadeRoiHead::test_stages(const std::vector<Tensor>& feats,
                                                       const std::vector<Proposals>& proposals,
                                                       const std::vector<ImageInfo>& infos) {
  autograd::NoGradGuard no_grad;
  SPLAT_CHECK(proposals.size() == infos.size(), "CascadeRoIHead: ", proposals.size(), " images of proposals but ",
              infos.size(), " image infos");
  std::vector<Tensor> boxes;
  for (const auto& p : proposals) boxes.push_back(p.boxes);
  TestResult r;
  r.rois = boxes_to_rois(boxes);
  for (size_t s = 0; s < num_stages(); ++s) {
    r.stage_rois.push_back(r.rois);
    const BBoxHead::Outputs out = forward_boxes(s, feats, r.rois);
    // mmdet 3.3 sums the stages' raw logits and divides by the number of stages; the softmax
    // comes after, in the last head's post-processing.
    r.cls_score = s == 0 ? out.cls_score : ops::add(r.cls_score, out.cls_score);
    r.bbox_pred = out.bbox_pred;
    if (s + 1 == num_stages()) break;
    const Tensor labels = foreground_argmax(out.cls_score);
    std::vector<Tensor> refined;
    int64_t start = 0;
    for (size_t i = 0; i < boxes.size(); ++i) {
      const int64_t k = boxes[i].size(0);
      refined.push_back(regress_rois(stage_head(s), ops::narrow(r.rois, 0, start, k),
                                     ops::narrow(out.bbox_pred, 0, start, k), ops::narrow(labels, 0, start, k),
                                     infos[i].img_shape));
      start += k;
    }
    r.rois = ops::cat(refined);
  }
  r.cls_score = ops::div(r.cls_score, static_cast<double>(num_stages()));
  return r;
}

LossMap CascadeRoiHead::loss(const std::vector<Tensor>& feats, const std::vector<Proposals>& proposals,
                             const DetectorInput& input, Generator* gen) {
  return train_stages(feats, proposals, input, gen).losses;
}

std::vector<Detections> CascadeRoiHead::predict(const std::vector<Tensor>& feats,
                                                const std::vector<Proposals>& proposals,
                                                const std::vector<ImageInfo>& infos, bool rescale) {
  const TestResult r = test_stages(feats, proposals, infos);
  const BBoxHead& last = stage_head(num_stages() - 1);
  std::vector<Detections> dets;
  int64_t start = 0;
  for (size_t i = 0; i < proposals.size(); ++i) {
    const int64_t k = proposals[i].boxes.size(0);
    const BBoxHead::Outputs mine{ops::narrow(r.cls_score, 0, start, k), ops::narrow(r.bbox_pred, 0, start, k)};
    dets.push_back(last.predict(ops::narrow(r.rois, 0, start, k), mine, infos[i], rescale, config.test));
    start += k;
  }
  return dets;
}

} // namespace splat::models
