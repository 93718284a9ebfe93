#include "models/detection/rpn_head.h"

#include "core/error.h"
#include "nn/init.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/loss.h"
#include "ops/pointwise.h"
#include "ops/view.h"

namespace splat::models {
namespace {

std::vector<ops::SizeHW> feature_sizes(const RpnHead::Outputs& out) {
  std::vector<ops::SizeHW> sizes;
  for (const Tensor& c : out.cls) sizes.push_back({c.size(2), c.size(3)});
  return sizes;
}

// Image i's maps of every level, each flattened in (H, W, A) order and concatenated:
// (sum H*W*A, per_anchor) rows matching the concatenated anchors.
Tensor flatten_levels(const std::vector<Tensor>& maps, int64_t image, int64_t per_anchor) {
  std::vector<Tensor> rows;
  for (const Tensor& m : maps) rows.push_back(ops::reshape(ops::permute(ops::select(m, 0, image), {1, 2, 0}), {-1, per_anchor}));
  return ops::cat(rows);
}

} // namespace

RpnHead::RpnHead(const RpnHeadConfig& cfg) : Module("RPNHead"), config(cfg) {
  const int64_t a = cfg.anchors.num_base_anchors();
  rpn_conv = register_module("rpn_conv", std::make_shared<nn::Conv2d>(cfg.in_channels, cfg.feat_channels, 3,
                                                                      ops::Conv2dOptions{.padding = 1}));
  rpn_cls = register_module("rpn_cls", std::make_shared<nn::Conv2d>(cfg.feat_channels, a, 1));
  rpn_reg = register_module("rpn_reg", std::make_shared<nn::Conv2d>(cfg.feat_channels, 4 * a, 1));
  // mmdet's RPNHead init_cfg: normal std 0.01, zero bias, on every conv.
  for (const auto& c : {rpn_conv, rpn_cls, rpn_reg}) {
    nn::init::normal_(c->weight, 0, 0.01);
    nn::init::constant_(c->bias, 0);
  }
}

RpnHead::Outputs RpnHead::forward(const std::vector<Tensor>& feats) {
  SPLAT_CHECK(static_cast<int64_t>(feats.size()) == config.anchors.num_levels(), "RPNHead: expected ",
              config.anchors.num_levels(), " feature levels, got ", feats.size());
  Outputs out;
  for (const Tensor& f : feats) {
    const Tensor h = ops::relu(rpn_conv->forward(f));
    out.cls.push_back(rpn_cls->forward(h));
    out.reg.push_back(rpn_reg->forward(h));
  }
  return out;
}

std::vector<Tensor> RpnHead::anchors(const Outputs& out) const {
  const Tensor& c = out.cls.front();
  return ops::grid_anchors(config.anchors, feature_sizes(out), {.dtype = c.dtype(), .device = c.device()});
}

std::vector<AnchorTargets> RpnHead::targets(const Outputs& out, const DetectorInput& input,
                                            const RpnTrainConfig& cfg, Generator* gen) const {
  const Tensor all_anchors = ops::cat(anchors(out));
  const auto sizes = feature_sizes(out);
  std::vector<AnchorTargets> targets;
  for (size_t i = 0; i < input.infos.size(); ++i) {
    const Tensor valid = ops::cat(ops::valid_flags(config.anchors, sizes, input.infos[i].pad_shape,
                                                   all_anchors.device()));
    targets.push_back(anchor_targets(all_anchors, valid, input.infos[i].img_shape, input.targets[i], cfg,
                                     config.coder, gen));
  }
  return targets;
}

LossMap RpnHead::loss(const Outputs& out, const DetectorInput& input, const RpnTrainConfig& cfg,
                      Generator* gen) const {
  const std::vector<AnchorTargets> t = targets(out, input, cfg, gen);
  std::vector<Tensor> cls, reg, labels, label_weights, bbox_targets, bbox_weights;
  int64_t num_sampled = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const auto image = static_cast<int64_t>(i);
    cls.push_back(ops::reshape(flatten_levels(out.cls, image, 1), {-1}));
    reg.push_back(flatten_levels(out.reg, image, 4));
    labels.push_back(t[i].labels);
    label_weights.push_back(t[i].label_weights);
    bbox_targets.push_back(t[i].bbox_targets);
    bbox_weights.push_back(t[i].bbox_weights);
    num_sampled += t[i].num_sampled;
  }
  const Tensor logits = ops::cat(cls);
  // Sigmoid target: 1 for the foreground label 0, 0 for background.
  const Tensor target = ops::to(ops::eq(ops::cat(labels), 0.0), logits.dtype());
  const auto avg = static_cast<double>(num_sampled);
  Tensor loss_cls = ops::binary_cross_entropy_with_logits(
      logits, target, {.reduction = ops::Reduction::mean, .weight = ops::cat(label_weights), .avg_factor = avg});
  if (config.loss_cls_weight != 1.0) loss_cls = ops::mul(loss_cls, config.loss_cls_weight);
  return {{"loss_rpn_cls", loss_cls},
          {"loss_rpn_bbox", config.loss_bbox(ops::cat(reg), ops::cat(bbox_targets), ops::cat(bbox_weights), avg)}};
}

std::vector<Proposals> RpnHead::predict(const Outputs& out, const std::vector<ImageInfo>& infos,
                                        const ProposalConfig& cfg) const {
  const std::vector<Tensor> level_anchors = anchors(out);
  std::vector<Proposals> proposals;
  for (size_t i = 0; i < infos.size(); ++i) {
    std::vector<Tensor> cls, reg;
    for (size_t l = 0; l < out.cls.size(); ++l) {
      cls.push_back(ops::select(out.cls[l], 0, static_cast<int64_t>(i)));
      reg.push_back(ops::select(out.reg[l], 0, static_cast<int64_t>(i)));
    }
    proposals.push_back(generate_proposals(cls, reg, level_anchors, infos[i].img_shape, config.coder, cfg));
  }
  return proposals;
}

} // namespace splat::models
