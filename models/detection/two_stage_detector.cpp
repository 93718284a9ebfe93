#include "models/detection/two_stage_detector.h"

#include "autograd/grad_mode.h"
#include "core/error.h"

namespace splat::models {

TwoStageDetector::TwoStageDetector(const TwoStageConfig& cfg, std::shared_ptr<RoiHead> head)
    : Module("TwoStageDetector"), config(cfg) {
  SPLAT_CHECK(cfg.backbone.num_classes == 0, "TwoStageDetector: the backbone must have no classifier (num_classes 0)");
  SPLAT_CHECK(head != nullptr, "TwoStageDetector: no RoI head");
  backbone = register_module("backbone", std::make_shared<ResNeSt>(cfg.backbone));
  neck = register_module("neck", std::make_shared<Fpn>(cfg.neck));
  rpn_head = register_module("rpn_head", std::make_shared<RpnHead>(cfg.rpn_head));
  roi_head = register_module("roi_head", std::move(head));
  train(true);
}

void TwoStageDetector::train(bool on) {
  Module::train(on);
  backbone->train(on); // re-applies the frozen stages and norm_eval
}

std::vector<Tensor> TwoStageDetector::extract_features(const Tensor& images) {
  return neck->forward(backbone->forward_features(images));
}

LossMap TwoStageDetector::forward_train(const DetectorInput& input, Generator* gen) {
  check_detector_input(input, /*training=*/true);
  const std::vector<Tensor> feats = extract_features(input.images);
  const RpnHead::Outputs rpn = rpn_head->forward(feats);
  LossMap losses = rpn_head->loss(rpn, input, config.rpn_train, gen);
  const std::vector<Proposals> proposals = rpn_head->predict(rpn, input.infos, config.rpn_proposal_train);
  for (auto& [name, value] : roi_head->loss(feats, proposals, input, gen)) {
    SPLAT_CHECK(!losses.count(name), "TwoStageDetector: the RoI head's ", name, " clashes with the RPN's");
    losses[name] = value;
  }
  return losses;
}

std::vector<Detections> TwoStageDetector::predict(const DetectorInput& input, bool rescale) {
  check_detector_input(input, /*training=*/false);
  autograd::NoGradGuard no_grad;
  const std::vector<Tensor> feats = extract_features(input.images);
  const RpnHead::Outputs rpn = rpn_head->forward(feats);
  const std::vector<Proposals> proposals = rpn_head->predict(rpn, input.infos, config.rpn_proposal_test);
  return roi_head->predict(feats, proposals, input.infos, rescale);
}

} // namespace splat::models
