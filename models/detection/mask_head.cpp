#include "models/detection/mask_head.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "models/detection/conv_module.h"
#include "nn/init.h"
#include "ops/class_select.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/loss.h"
#include "ops/mask_target.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"

namespace splat::models {

FCNMaskHead::FCNMaskHead(const FCNMaskHeadConfig& cfg) : Module("FCNMaskHead"), config(cfg) {
  SPLAT_CHECK(cfg.num_classes >= 1, "FCNMaskHead: num_classes must be positive, got ",
              cfg.num_classes);
  convs = register_module("convs", std::make_shared<nn::ModuleList>());
  int64_t channels = cfg.in_channels;
  for (int64_t i = 0; i < cfg.num_convs; ++i) {
    convs->push_back(std::make_shared<ConvModule>(
        channels, cfg.conv_out_channels,
        ConvModuleOptions{.kernel = 3, .padding = 1, .norm = cfg.norm}));
    channels = cfg.conv_out_channels;
  }
  upsample = register_module(
      "upsample", std::make_shared<nn::ConvTranspose2d>(channels, cfg.conv_out_channels, 2,
                                                        ops::ConvTranspose2dOptions{.stride = 2}));
  conv_logits = register_module(
      "conv_logits", std::make_shared<nn::Conv2d>(cfg.conv_out_channels, cfg.num_classes, 1));
  // mmdet's FCNMaskHead.init_weights: kaiming normal (fan_out, relu) and zero bias for upsample
  // and conv_logits; the convs keep ConvModule's init.
  for (Tensor* w : {&upsample->weight, &conv_logits->weight}) nn::init::kaiming_normal_(*w);
  nn::init::constant_(upsample->bias, 0);
  nn::init::constant_(conv_logits->bias, 0);
}

Tensor FCNMaskHead::forward(const Tensor& roi_feats) {
  Tensor x = roi_feats;
  for (const auto& conv : *convs) x = conv->forward(x);
  return conv_logits->forward(ops::relu(upsample->forward(x)));
}

Tensor FCNMaskHead::targets(const std::vector<ops::SamplingResult>& samples,
                            const std::vector<GroundTruth>& gts, int64_t mask_size) const {
  SPLAT_CHECK(samples.size() == gts.size(), "FCNMaskHead::targets: ", samples.size(),
              " sampled images but ", gts.size(), " ground truths");
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> per_image;
  for (size_t i = 0; i < samples.size(); ++i) {
    const ops::SamplingResult& s = samples[i];
    const GroundTruth& gt = gts[i];
    SPLAT_CHECK(gt.masks != nullptr, "FCNMaskHead: image ", i,
                " has no ground-truth masks (a mask detector trains on data loaded with masks)");
    SPLAT_CHECK(gt.masks->size() == gt.boxes.size(0), "FCNMaskHead: image ", i, " has ",
                gt.masks->size(), " masks for ", gt.boxes.size(0), " boxes");
    per_image.push_back(
        s.pos_bboxes.size(0) > 0
            ? gt.masks->crop_and_resize(s.pos_bboxes, s.pos_assigned_gt_inds, mask_size)
            : ops::zeros({0, mask_size, mask_size},
                         {.dtype = s.pos_bboxes.dtype(), .device = s.pos_bboxes.device()}));
  }
  return ops::cat(per_image);
}

Tensor FCNMaskHead::loss(const Tensor& logits, const Tensor& targets, const Tensor& labels) const {
  SPLAT_CHECK(logits.dim() == 4 && logits.size(0) >= 1 && logits.size(0) == targets.size(0) &&
                  logits.size(0) == labels.size(0),
              "FCNMaskHead::loss: logits ", shape_str(logits.shape()), ", targets ",
              shape_str(targets.shape()), " and labels ", shape_str(labels.shape()),
              " must have one row per positive RoI (at least one)");
  // mmdet's mask_cross_entropy: a plain mean over every pixel of every positive.
  Tensor loss =
      ops::binary_cross_entropy_with_logits(ops::select_class_masks(logits, labels), targets);
  return config.loss_weight == 1.0 ? loss : ops::mul(loss, config.loss_weight);
}

Tensor FCNMaskHead::empty_loss() const {
  Tensor total;
  for (const auto& [name, p] : named_parameters()) {
    if (!p.requires_grad()) continue;
    const Tensor zero = ops::mul(ops::sum(p), 0.0);
    total = total.defined() ? ops::add(total, zero) : zero;
  }
  return total;
}

Tensor FCNMaskHead::predict(const Tensor& logits, const Tensor& labels) const {
  autograd::NoGradGuard no_grad;
  return ops::sigmoid(ops::select_class_masks(logits, labels));
}

Tensor paste_detection_masks(const Tensor& probs, const Tensor& boxes, ops::SizeHW image,
                             double mask_thr_binary) {
  SPLAT_CHECK(probs.dim() == 3 && probs.size(0) == boxes.size(0),
              "paste_detection_masks: ", shape_str(probs.shape()), " masks for ",
              shape_str(boxes.shape()), " boxes");
  if (boxes.size(0) == 0)
    return ops::zeros({0, image.height, image.width},
                      {.dtype = DType::b8, .device = boxes.device()});
  return ops::paste_masks(probs, ops::to(boxes, probs.dtype()), image.height, image.width,
                          mask_thr_binary);
}

} // namespace splat::models
