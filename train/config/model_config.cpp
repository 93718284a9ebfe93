#include "train/config/model_config.h"

#include "models/detection/cascade_mask_roi_head.h"

#include <array>

namespace splat::train::config {
namespace {

constexpr EnumName<std::string_view> kTypes[] = {
    {"faster_rcnn", "faster_rcnn"}, {"mask_rcnn", "mask_rcnn"}, {"cascade_rcnn", "cascade_rcnn"},
    {"cascade_mask_rcnn", "cascade_mask_rcnn"}};

enum class Norm { none, bn, sync_bn };
constexpr EnumName<Norm> kNorms[] = {{"none", Norm::none}, {"BN", Norm::bn}, {"SyncBN", Norm::sync_bn}};
constexpr EnumName<models::BoxLoss::Kind> kBoxLosses[] = {{"L1", models::BoxLoss::Kind::l1},
                                                          {"SmoothL1", models::BoxLoss::Kind::smooth_l1}};

std::optional<nn::NormConfig> read_norm(const Node& t) {
  switch (t.require_enum<Norm>("norm", kNorms)) {
  case Norm::none: return std::nullopt;
  case Norm::bn: return nn::NormConfig{.kind = nn::NormKind::batch};
  case Norm::sync_bn: return nn::NormConfig{.kind = nn::NormKind::sync_batch};
  }
  return std::nullopt;
}

template <class T> T positive(const Node& t, std::string_view key) {
  const Node n = t.child(key);
  const T v = n.as<T>();
  if (v <= 0) n.fail(str("must be positive, got ", v));
  return v;
}

ops::DeltaXYWHBBoxCoder read_coder(const Node& t) {
  ops::DeltaXYWHBBoxCoder c;
  c.means = t.require<std::array<double, 4>>("target_means");
  c.stds = t.require<std::array<double, 4>>("target_stds");
  return c;
}

models::BoxLoss read_box_loss(const Node& t) {
  models::BoxLoss l;
  l.kind = t.require_enum<models::BoxLoss::Kind>("loss_bbox", kBoxLosses);
  if (l.kind == models::BoxLoss::Kind::smooth_l1) l.beta = t.require<double>("loss_bbox_beta");
  l.loss_weight = t.require<double>("loss_bbox_weight");
  return l;
}

models::ResNeStConfig read_backbone(const Node& t, std::optional<nn::NormConfig> norm) {
  models::ResNeStConfig c;
  const bool by_depth = t.has("depth");
  if (by_depth == t.has("blocks")) t.fail("give exactly one of depth (50, 101) and blocks ([b1, b2, b3, b4])");
  if (by_depth) {
    const Node d = t.child("depth");
    const int64_t depth = d.as<int64_t>();
    if (depth != 50 && depth != 101) d.fail(str("MMDetection's ResNeSt detectors have depth 50 or 101, got ", depth));
    c.blocks = models::resnest_config(static_cast<int>(depth)).blocks;
  } else {
    c.blocks = t.require<std::vector<int64_t>>("blocks");
    if (c.blocks.size() != 4) t.child("blocks").fail("expected 4 stages");
  }
  const Node stem = t.child("stem_channels");
  const int64_t stem_channels = stem.as<int64_t>();
  if (stem_channels <= 0 || stem_channels % 2) stem.fail("must be a positive even number (the deep stem is w, w, 2w)");
  c.stem_width = stem_channels / 2;
  const int64_t base = positive<int64_t>(t, "base_channels");
  c.planes = {base, 2 * base, 4 * base, 8 * base};
  c.radix = positive<int64_t>(t, "radix");
  const Node rf = t.child("reduction_factor");
  if (rf.as<int64_t>() != 4) rf.fail("splat's split attention implements reduction_factor 4 (the configs' value)");
  c.avd = t.require<bool>("avg_down_stride");
  c.frozen_stages = t.require<int>("frozen_stages");
  c.norm_eval = t.require<bool>("norm_eval");
  if (!norm) t.child("norm").fail("the backbone needs a norm (BN or SyncBN)");
  c.norm = *norm;
  c.num_classes = 0;
  return c;
}

ops::MaxIouAssigner read_assigner(const Node& t) {
  ops::MaxIouAssigner a;
  a.pos_iou_thr = t.require<double>("pos_iou_thr");
  a.neg_iou_thr = t.require<double>("neg_iou_thr");
  a.min_pos_iou = t.require<double>("min_pos_iou");
  a.match_low_quality = t.require<bool>("match_low_quality");
  a.ignore_iof_thr = t.require<double>("ignore_iof_thr");
  return a;
}

ops::RandomSampler read_sampler(const Node& t) {
  ops::RandomSampler s;
  s.num = positive<int64_t>(t, "num");
  s.pos_fraction = t.require<double>("pos_fraction");
  s.neg_pos_ub = t.require<int64_t>("neg_pos_ub");
  s.add_gt_as_proposals = t.require<bool>("add_gt_as_proposals");
  return s;
}

models::ProposalConfig read_proposals(const Node& t) {
  return {.nms_pre = t.require<int64_t>("nms_pre"), .max_per_img = positive<int64_t>(t, "max_per_img"),
          .nms_iou = t.require<double>("nms_iou"), .min_bbox_size = t.require<double>("min_bbox_size")};
}

models::RpnHeadConfig read_rpn_head(const Node& t) {
  models::RpnHeadConfig c;
  c.in_channels = positive<int64_t>(t, "in_channels");
  c.feat_channels = positive<int64_t>(t, "feat_channels");
  c.anchors.scales = t.require<std::vector<double>>("anchor_scales");
  c.anchors.ratios = t.require<std::vector<double>>("anchor_ratios");
  c.anchors.strides = t.require<std::vector<int64_t>>("anchor_strides");
  c.coder = read_coder(t);
  c.loss_bbox = read_box_loss(t);
  c.loss_cls_weight = t.require<double>("loss_cls_weight");
  return c;
}

models::BBoxHeadConfig read_bbox_head(const Node& t, int64_t in_channels, int64_t roi_feat_size, int64_t num_classes) {
  models::BBoxHeadConfig c;
  c.in_channels = in_channels;
  c.roi_feat_size = roi_feat_size;
  c.num_classes = num_classes;
  c.num_shared_convs = t.require<int64_t>("num_shared_convs");
  c.conv_out_channels = positive<int64_t>(t, "conv_out_channels");
  c.num_shared_fcs = t.require<int64_t>("num_shared_fcs");
  c.fc_out_channels = positive<int64_t>(t, "fc_out_channels");
  c.norm = read_norm(t);
  c.reg_class_agnostic = t.require<bool>("reg_class_agnostic");
  c.coder = read_coder(t);
  c.loss_bbox = read_box_loss(t);
  c.loss_cls_weight = t.require<double>("loss_cls_weight");
  return c;
}

models::RoiExtractorConfig read_roi_extractor(const Node& t) {
  models::RoiExtractorConfig ex;
  ex.output_size = positive<int64_t>(t, "output_size");
  ex.sampling_ratio = t.require<int64_t>("sampling_ratio");
  ex.strides = t.require<std::vector<double>>("featmap_strides");
  return ex;
}

models::FCNMaskHeadConfig read_mask_head(const Node& t, int64_t in_channels, int64_t num_classes) {
  models::FCNMaskHeadConfig c;
  c.in_channels = in_channels;
  c.num_classes = num_classes;
  c.num_convs = t.require<int64_t>("num_convs");
  c.conv_out_channels = positive<int64_t>(t, "conv_out_channels");
  c.norm = read_norm(t);
  c.loss_weight = t.require<double>("loss_mask_weight");
  return c;
}

// The mask branch (Mask and Cascade Mask R-CNN): its extractor and head under [model.roi_head],
// its mask size with the R-CNN's training settings (of the first stage for a cascade, whose
// stages must agree: one mask head setting serves them all) and its threshold with the test ones.
models::MaskBranchConfig read_mask_branch(const Node& roi, const Node& rcnn_train, const Node& rcnn_test,
                                          int64_t in_channels, int64_t num_classes) {
  models::MaskBranchConfig c;
  const Node extractor = roi.table("mask_roi_extractor");
  c.roi_extractor = read_roi_extractor(extractor);
  c.head = read_mask_head(roi.table("mask_head"), in_channels, num_classes);
  const Node size = rcnn_train.child("mask_size");
  c.mask_size = size.as<int64_t>();
  if (c.mask_size != 2 * c.roi_extractor.output_size)
    size.fail(str("must be twice the mask RoI extractor's output_size (the head upsamples x2), got ", c.mask_size));
  c.mask_thr_binary = rcnn_test.require<double>("mask_thr_binary");
  return c;
}

models::RcnnTrainConfig read_rcnn_train(const Node& t) {
  return {.assigner = read_assigner(t.table("assigner")), .sampler = read_sampler(t.table("sampler"))};
}

// mmdet's CascadeRoIHead: one bbox_head table and one train.rcnn table per stage, and
// stage_loss_weights, all of one length.
std::vector<models::CascadeStageConfig> read_cascade_stages(const Node& roi, const Node& rcnn, int64_t in_channels,
                                                            int64_t roi_feat_size, int64_t num_classes) {
  const Node heads = roi.array("bbox_head");
  const Node weights = roi.child("stage_loss_weights");
  const auto w = weights.as<std::vector<double>>();
  if (heads.size() == 0) heads.fail("needs one table per stage");
  if (w.size() != heads.size()) weights.fail(str("has ", w.size(), " weights for ", heads.size(), " stages (bbox_head)"));
  if (rcnn.kind() != Kind::array || rcnn.size() != heads.size())
    rcnn.fail(str("must be an array of one table per stage (", heads.size(), ", as bbox_head)"));
  std::vector<models::CascadeStageConfig> stages;
  for (size_t s = 0; s < heads.size(); ++s)
    stages.push_back({.bbox_head = read_bbox_head(heads.at(s), in_channels, roi_feat_size, num_classes),
                      .train = read_rcnn_train(rcnn.at(s)),
                      .loss_weight = w[s]});
  return stages;
}

} // namespace

ModelConfig read_model_config(const Node& m) {
  ModelConfig c;
  c.type = std::string(m.require_enum<std::string_view>("type", kTypes));
  c.num_classes = positive<int64_t>(m, "num_classes");
  models::TwoStageConfig& ts = c.two_stage;
  const Node backbone = m.table("backbone");
  ts.backbone = read_backbone(backbone, read_norm(backbone));

  const Node neck = m.table("neck");
  ts.neck.in_channels = neck.require<std::vector<int64_t>>("in_channels");
  ts.neck.out_channels = positive<int64_t>(neck, "out_channels");
  ts.neck.num_outs = positive<int64_t>(neck, "num_outs");
  std::vector<int64_t> stage_outs;
  for (int64_t p : ts.backbone.planes) stage_outs.push_back(p * models::Bottleneck::kExpansion);
  if (ts.neck.in_channels != stage_outs)
    neck.child("in_channels").fail("must be the backbone's stage outputs (4 x base_channels x 1, 2, 4, 8)");

  ts.rpn_head = read_rpn_head(m.table("rpn_head"));
  if (ts.rpn_head.in_channels != ts.neck.out_channels)
    m.table("rpn_head").child("in_channels").fail("must be the neck's out_channels");
  if (ts.rpn_head.anchors.num_levels() != ts.neck.num_outs)
    m.table("rpn_head").child("anchor_strides").fail("needs one stride per neck output");

  const Node roi = m.table("roi_head");
  const models::RoiExtractorConfig ex = read_roi_extractor(roi.table("bbox_roi_extractor"));

  const Node train = m.table("train");
  const Node rpn = train.table("rpn");
  ts.rpn_train.assigner = read_assigner(rpn.table("assigner"));
  ts.rpn_train.sampler = read_sampler(rpn.table("sampler"));
  ts.rpn_train.allowed_border = rpn.require<int64_t>("allowed_border");
  ts.rpn_proposal_train = read_proposals(train.table("rpn_proposal"));

  const Node test = m.table("test");
  ts.rpn_proposal_test = read_proposals(test.table("rpn"));
  const Node rt = test.table("rcnn");
  const models::RcnnTestConfig rcnn_test{.score_thr = rt.require<double>("score_thr"),
                                         .nms_iou = rt.require<double>("nms_iou"),
                                         .max_per_img = rt.require<int64_t>("max_per_img")};
  if (c.type == "cascade_rcnn" || c.type == "cascade_mask_rcnn") {
    const Node rcnn = train.child("rcnn");
    c.cascade_roi_head.bbox_roi_extractor = ex;
    c.cascade_roi_head.stages = read_cascade_stages(roi, rcnn, ts.neck.out_channels, ex.output_size, c.num_classes);
    c.cascade_roi_head.test = rcnn_test;
    if (c.type == "cascade_mask_rcnn") {
      c.mask = read_mask_branch(roi, rcnn.at(0), rt, ts.neck.out_channels, c.num_classes);
      for (size_t s = 1; s < rcnn.size(); ++s) {
        const Node size = rcnn.at(s).child("mask_size");
        if (size.as<int64_t>() != c.mask->mask_size)
          size.fail(str("must be the first stage's mask_size (", c.mask->mask_size,
                        "): one mask head setting serves every stage"));
      }
    }
    return c;
  }
  const Node rcnn = train.table("rcnn");
  c.roi_head.bbox_roi_extractor = ex;
  c.roi_head.bbox_head = read_bbox_head(roi.table("bbox_head"), ts.neck.out_channels, ex.output_size, c.num_classes);
  c.roi_head.train = read_rcnn_train(rcnn);
  c.roi_head.test = rcnn_test;
  if (c.type == "mask_rcnn") c.mask = read_mask_branch(roi, rcnn, rt, ts.neck.out_channels, c.num_classes);
  return c;
}

std::shared_ptr<models::TwoStageDetector> build_detector(const ModelConfig& c) {
  std::shared_ptr<models::RoiHead> head;
  if (c.type == "cascade_mask_rcnn")
    head = std::make_shared<models::CascadeMaskRoiHead>(c.cascade_roi_head, *c.mask);
  else if (c.type == "cascade_rcnn")
    head = std::make_shared<models::CascadeRoiHead>(c.cascade_roi_head);
  else if (c.mask)
    head = std::make_shared<models::MaskRoiHead>(c.roi_head, *c.mask);
  else
    head = std::make_shared<models::StandardRoiHead>(c.roi_head);
  return std::make_shared<models::TwoStageDetector>(c.two_stage, std::move(head));
}

} // namespace splat::train::config
