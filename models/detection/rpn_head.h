// The Region Proposal Network head (spec section 2.4, mmdet's RPNHead), shared over the FPN
// levels: a 3x3 conv + ReLU, then 1x1 `rpn_cls` (one sigmoid logit per anchor) and `rpn_reg`
// (4 deltas per anchor, channel a * 4 + coordinate). Keys: `rpn_conv.*`, `rpn_cls.*`, `rpn_reg.*`.
//
// loss(): anchor targets per image (anchor_targets.h), then BCE-with-logits on the sampled
// anchors and the box loss on the positives, both divided by the number of sampled anchors in
// the whole batch (spec section 3.4). predict(): proposals per image (proposals.h).
#pragma once

#include "models/detection/anchor_targets.h"
#include "models/detection/box_loss.h"
#include "models/detection/proposals.h"
#include "nn/conv.h"
#include "ops/anchors.h"

namespace splat::models {

struct RpnHeadConfig {
  int64_t in_channels = 256;
  int64_t feat_channels = 256;
  ops::AnchorGenerator anchors;  // the spec's defaults
  ops::DeltaXYWHBBoxCoder coder; // means 0, stds 1
  BoxLoss loss_bbox;             // L1; SmoothL1 beta 1/9 for the cascades
  double loss_cls_weight = 1.0;
};

class RpnHead : public nn::Module {
public:
  struct Outputs {
    std::vector<Tensor> cls; // per level (B, A, H, W)
    std::vector<Tensor> reg; // per level (B, 4A, H, W)
  };
  explicit RpnHead(const RpnHeadConfig& config);
  Outputs forward(const std::vector<Tensor>& feats);
  // The per-level anchors of the feature maps of `out` ((H * W * A, 4) each).
  std::vector<Tensor> anchors(const Outputs& out) const;
  // Per image, every level's anchors concatenated, with the targets of cfg.
  std::vector<AnchorTargets> targets(const Outputs& out, const DetectorInput& input,
                                     const RpnTrainConfig& cfg, Generator* gen) const;
  // loss_rpn_cls and loss_rpn_bbox.
  LossMap loss(const Outputs& out, const DetectorInput& input, const RpnTrainConfig& cfg,
               Generator* gen) const;
  // Proposals per image; no gradient flows into them.
  std::vector<Proposals> predict(const Outputs& out, const std::vector<ImageInfo>& infos,
                                 const ProposalConfig& cfg) const;
  const RpnHeadConfig config;
  std::shared_ptr<nn::Conv2d> rpn_conv, rpn_cls, rpn_reg;
};

} // namespace splat::models
