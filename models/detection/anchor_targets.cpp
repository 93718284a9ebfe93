#include "models/detection/anchor_targets.h"

#include "autograd/grad_mode.h"
#include "ops/anchors.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/view.h"

namespace splat::models {
namespace {

// base with its rows `rows` (unique, i64) increased by values (rows.numel() rows of base's
// trailing shape): on a zero base this writes the rows.
Tensor add_rows(const Tensor& base, const Tensor& rows, const Tensor& values) {
  Tensor index = rows;
  if (base.dim() == 2) index = ops::contiguous(ops::expand(ops::unsqueeze(rows, 1), {rows.size(0), base.size(1)}));
  return ops::scatter_add(base, 0, index, values);
}

Tensor ones_rows(const Tensor& base, const Tensor& rows, double value) {
  Shape shape = base.shape();
  shape[0] = rows.size(0);
  return add_rows(base, rows, ops::full(shape, value, {.dtype = base.dtype(), .device = base.device()}));
}

} // namespace

AnchorTargets anchor_targets(const Tensor& anchors, const Tensor& valid, ops::SizeHW img_shape,
                             const GroundTruth& gt, const RpnTrainConfig& cfg,
                             const ops::DeltaXYWHBBoxCoder& coder, Generator* gen) {
  autograd::NoGradGuard no_grad;
  const int64_t n = anchors.size(0);
  const TensorOptions opts{.dtype = anchors.dtype(), .device = anchors.device()};
  AnchorTargets t;
  t.labels = ops::ones({n}, {.dtype = DType::i64, .device = anchors.device()}); // background
  t.label_weights = ops::zeros({n}, opts);
  t.bbox_targets = ops::zeros({n, 4}, opts);
  t.bbox_weights = ops::zeros({n, 4}, opts);

  const Tensor inside = ops::nonzero(ops::anchor_inside_flags(anchors, valid, img_shape, cfg.allowed_border));
  const Tensor inside_inds = ops::reshape(inside, {-1});
  if (inside_inds.numel() == 0) return t; // nothing to train on in this image
  const Tensor candidates = ops::index_select(anchors, 0, inside_inds);
  // The RPN is class-agnostic: every GT is foreground class 0 (mmdet sets gt labels to 0).
  const Tensor gt_labels = ops::zeros({gt.boxes.size(0)}, {.dtype = DType::i64, .device = anchors.device()});
  const ops::AssignResult assign = ops::max_iou_assign(cfg.assigner, candidates, gt.boxes, gt_labels, gt.ignore_boxes);
  const ops::SamplingResult s = ops::random_sample(cfg.sampler, assign, candidates, gt.boxes, gt_labels, gen);

  const Tensor pos = ops::index_select(inside_inds, 0, s.pos_inds);
  const Tensor neg = ops::index_select(inside_inds, 0, s.neg_inds);
  const int64_t num_pos = pos.numel();
  if (num_pos > 0) {
    const Tensor deltas = ops::bbox_encode(s.pos_bboxes, s.pos_gt_bboxes, coder);
    t.bbox_targets = add_rows(t.bbox_targets, pos, deltas);
    t.bbox_weights = ones_rows(t.bbox_weights, pos, 1.0);
    t.labels = ones_rows(t.labels, pos, -1.0); // background 1 -> foreground 0
    t.label_weights = ones_rows(t.label_weights, pos, 1.0);
  }
  if (neg.numel() > 0) t.label_weights = ones_rows(t.label_weights, neg, 1.0);
  t.num_sampled = num_pos + neg.numel();
  return t;
}

} // namespace splat::models
