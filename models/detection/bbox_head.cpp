#include "models/detection/bbox_head.h"
#include "core/cuda/host_sync.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "models/detection/conv_module.h"
#include "models/detection/multiclass_nms.h"
#include "nn/init.h"
#include "ops/class_select.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/loss.h"
#include "ops/pointwise.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ops/view.h"

namespace splat::models {

BBoxHead::BBoxHead(const BBoxHeadConfig& cfg) : Module("Shared4Conv1FCBBoxHead"), config(cfg) {
  SPLAT_CHECK(cfg.num_classes >= 1, "BBoxHead: num_classes must be positive, got ", cfg.num_classes);
  shared_convs = register_module("shared_convs", std::make_shared<nn::ModuleList>());
  shared_fcs = register_module("shared_fcs", std::make_shared<nn::ModuleList>());
  int64_t channels = cfg.in_channels;
  for (int64_t i = 0; i < cfg.num_shared_convs; ++i) {
    shared_convs->push_back(std::make_shared<ConvModule>(
        channels, cfg.conv_out_channels, ConvModuleOptions{.kernel = 3, .padding = 1, .norm = cfg.norm}));
    channels = cfg.conv_out_channels;
  }
  int64_t features = channels * cfg.roi_feat_size * cfg.roi_feat_size;
  for (int64_t i = 0; i < cfg.num_shared_fcs; ++i) {
    auto fc = shared_fcs->push_back(std::make_shared<nn::Linear>(features, cfg.fc_out_channels));
    // mmdet's ConvFCBBoxHead init_cfg: Xavier (uniform) on the shared fcs, zero bias.
    nn::init::xavier_uniform_(fc->weight);
    nn::init::constant_(fc->bias, 0);
    features = cfg.fc_out_channels;
  }
  fc_cls = register_module("fc_cls", std::make_shared<nn::Linear>(features, cfg.num_classes + 1));
  fc_reg = register_module("fc_reg", std::make_shared<nn::Linear>(features, cfg.reg_class_agnostic ? 4 : 4 * cfg.num_classes));
  // mmdet's BBoxHead init_cfg: fc_cls normal std 0.01, fc_reg normal std 0.001, zero biases.
  nn::init::normal_(fc_cls->weight, 0, 0.01);
  nn::init::constant_(fc_cls->bias, 0);
  nn::init::normal_(fc_reg->weight, 0, 0.001);
  nn::init::constant_(fc_reg->bias, 0);
}

BBoxHead::Outputs BBoxHead::forward(const Tensor& roi_feats) {
  Tensor x = roi_feats;
  for (const auto& conv : *shared_convs) x = conv->forward(x);
  x = ops::flatten(x, 1);
  for (const auto& fc : *shared_fcs) x = ops::relu(fc->forward(x));
  return {fc_cls->forward(x), fc_reg->forward(x)};
}

BBoxTargets BBoxHead::targets(const std::vector<ops::SamplingResult>& samples) const {
  autograd::NoGradGuard no_grad;
  std::vector<Tensor> labels, deltas;
  for (const ops::SamplingResult& s : samples) {
    const Tensor& ref = s.bboxes;
    const int64_t num_pos = s.pos_inds.numel(), num_neg = s.neg_inds.numel();
    labels.push_back(s.pos_gt_labels.defined() ? s.pos_gt_labels : ops::zeros({0}, {.dtype = DType::i64, .device = ref.device()}));
    labels.push_back(ops::full({num_neg}, static_cast<double>(config.num_classes), {.dtype = DType::i64, .device = ref.device()}));
    if (num_pos > 0) deltas.push_back(ops::bbox_encode(s.pos_bboxes, s.pos_gt_bboxes, config.coder));
    deltas.push_back(ops::zeros({num_neg, 4}, {.dtype = ref.dtype(), .device = ref.device()}));
  }
  BBoxTargets t;
  t.labels = ops::cat(labels);
  t.bbox_targets = ops::cat(deltas);
  t.label_weights = ops::ones({t.labels.size(0)}, {.dtype = t.bbox_targets.dtype(), .device = t.labels.device()});
  const Tensor positive = ops::to(ops::lt(t.labels, static_cast<double>(config.num_classes)), t.bbox_targets.dtype());
  t.bbox_weights = ops::contiguous(ops::expand(ops::unsqueeze(positive, 1), {t.labels.size(0), 4}));
  return t;
}

LossMap BBoxHead::loss(const Outputs& out, const BBoxTargets& t) const {
  const int64_t k = t.labels.size(0);
  SPLAT_CHECK(out.cls_score.size(0) == k && out.bbox_pred.size(0) == k, "BBoxHead::loss: ", out.cls_score.size(0),
              " predictions for ", k, " targets");
  LossMap losses;
  // mmdet: avg_factor = max(number of RoIs with a positive label weight, 1), a host number there
  // too (LossOptions::avg_factor is a double).
  const double cls_avg = [&] {
    cuda::HostSyncReasonScope reason(cuda::HostSyncReason::host_computation);
    return std::max(ops::sum(ops::gt(t.label_weights, 0.0)).item<int64_t>(), int64_t{1});
  }();
  Tensor loss_cls = ops::cross_entropy(out.cls_score, t.labels, -100,
                                       {.reduction = ops::Reduction::mean, .weight = t.label_weights, .avg_factor = cls_avg});
  if (config.loss_cls_weight != 1.0) loss_cls = ops::mul(loss_cls, config.loss_cls_weight);
  losses["loss_cls"] = loss_cls;
  {
    autograd::NoGradGuard no_grad;
    const Tensor hits = ops::to(ops::eq(ops::argmax(out.cls_score, 1), t.labels), out.cls_score.dtype());
    losses["acc"] = k > 0 ? ops::mul(ops::mean(hits), 100.0) : ops::zeros({}, {.dtype = out.cls_score.dtype()});
  }
  const Tensor pos = ops::reshape(ops::nonzero(ops::lt(t.labels, static_cast<double>(config.num_classes))), {-1});
  Tensor pred = ops::index_select(out.bbox_pred, 0, pos);
  if (pos.numel() == 0) {
    losses["loss_bbox"] = ops::sum(pred); // 0, still connected to the graph (mmdet's pred[pos].sum())
    return losses;
  }
  if (!config.reg_class_agnostic) pred = ops::select_class_deltas(pred, ops::index_select(t.labels, 0, pos));
  losses["loss_bbox"] = config.loss_bbox(pred, ops::index_select(t.bbox_targets, 0, pos),
                                         ops::index_select(t.bbox_weights, 0, pos), static_cast<double>(k));
  return losses;
}

Detections BBoxHead::predict(const Tensor& rois, const Outputs& out, const ImageInfo& info, bool rescale,
                             const RcnnTestConfig& cfg) const {
  autograd::NoGradGuard no_grad;
  const Tensor scores = ops::softmax(out.cls_score, 1);
  Tensor boxes = ops::bbox_decode(ops::narrow(rois, 1, 1, 4), out.bbox_pred, config.coder, info.img_shape);
  if (rescale) boxes = rescale_boxes(boxes, info);
  return multiclass_nms(boxes, scores, cfg.score_thr, cfg.nms_iou, cfg.max_per_img);
}

Tensor rescale_boxes(const Tensor& boxes, const ImageInfo& info) {
  // (x, y) pairs divided by mmdet's scale_factor (w, h).
  const Tensor factor = ops::to(ops::from_vector<double>({info.scale_w, info.scale_h}, {2}, boxes.device()), boxes.dtype());
  const int64_t k = boxes.size(0);
  return ops::reshape(ops::div(ops::reshape(boxes, {k, boxes.size(1) / 2, 2}), factor), {k, boxes.size(1)});
}

Tensor BBoxHead::regress(const Tensor& rois, const Tensor& bbox_pred, const Tensor& labels, ops::SizeHW img_shape) const {
  autograd::NoGradGuard no_grad;
  const Tensor deltas = config.reg_class_agnostic ? bbox_pred : ops::select_class_deltas(bbox_pred, labels);
  return ops::bbox_decode(ops::narrow(rois, 1, 1, 4), deltas, config.coder, img_shape);
}

} // namespace splat::models
