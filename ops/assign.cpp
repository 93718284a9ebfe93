// MaxIoU assignment and random sampling. The assignment runs one kernel per box
// (ops/cpu/assign.cpp, ops/cuda/assign.cu) after the overlap matrix (box_iou) and the GTs' row
// maxima (ops::max); the sampler composes nonzero, randperm (Philox), index_select and sort on
// the inputs' device, so it needs no kernel of its own and draws the same numbers everywhere.
#include "ops/assign.h"

#include "ops/boxes.h"
#include "ops/checks.h"
#include "ops/copy.h"
#include "ops/cpu/assign.h"
#include "ops/cuda/assign.h"
#include "ops/device_dispatch.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/sort.h"
#include "ops/view.h"

namespace splat::ops {
namespace {

// gt_labels as contiguous i64 (G), or undefined.
Tensor checked_labels(std::string_view op, const Tensor& gt_labels, int64_t num_gts) {
  if (!gt_labels.defined()) return {};
  SPLAT_CHECK(is_integral(gt_labels.dtype()) && gt_labels.dim() == 1 &&
                  gt_labels.size(0) == num_gts,
              op, ": gt_labels must be an integer tensor of shape (", num_gts, "), got ",
              gt_labels.dtype(), " ", shape_str(gt_labels.shape()));
  return contiguous(to(gt_labels, DType::i64));
}

// The positions where mask is true, ascending; when there are more than quota, quota of them
// drawn without replacement (the first quota entries of a random permutation), ascending.
Tensor sample_group(const Tensor& mask, int64_t quota, Generator* gen) {
  const Tensor all = reshape(nonzero(mask), {-1});
  const int64_t n = all.size(0);
  if (n <= quota) return all;
  const Tensor perm = randperm(n, {.dtype = DType::i64, .device = mask.device()}, gen);
  return sort(index_select(all, 0, narrow(perm, 0, 0, quota))).values;
}

} // namespace

AssignResult assign_wrt_overlaps(const MaxIouAssigner& cfg, const Tensor& overlaps,
                                 const Tensor& gt_labels) {
  SPLAT_CHECK(overlaps.defined() && is_floating(overlaps.dtype()) && overlaps.dim() == 2,
              "assign_wrt_overlaps: overlaps must be a floating (G, N) tensor, got ",
              overlaps.defined() ? shape_str(overlaps.shape()) : std::string("undefined"));
  if (gt_labels.defined()) check_same_device("assign_wrt_overlaps", {&overlaps, &gt_labels});
  SPLAT_CHECK(cfg.neg_iou_thr.lo <= cfg.neg_iou_thr.hi, "assign_wrt_overlaps: negative IoU range [",
              cfg.neg_iou_thr.lo, ", ", cfg.neg_iou_thr.hi, ") is reversed");
  const int64_t g = overlaps.size(0), n = overlaps.size(1);
  const Tensor labels = checked_labels("assign_wrt_overlaps", gt_labels, g);
  const Device dev = overlaps.device();
  AssignResult r;
  r.num_gts = g;
  if (g == 0 || n == 0) {
    r.gt_inds = full({n}, g == 0 ? 0 : -1, {.dtype = DType::i64, .device = dev});
    r.max_overlaps = zeros({n}, {.dtype = overlaps.dtype(), .device = dev});
    if (labels.defined()) r.labels = full({n}, -1, {.dtype = DType::i64, .device = dev});
    return r;
  }
  const Tensor ov = contiguous(overlaps.detach());
  const ValuesIndices gt_best = max(ov, 1);
  r.gt_inds = Tensor::empty({n}, DType::i64, dev);
  r.max_overlaps = Tensor::empty({n}, ov.dtype(), dev);
  if (labels.defined()) r.labels = Tensor::empty({n}, DType::i64, dev);
  SPLAT_KERNEL(dev, max_iou_assign, r.gt_inds, r.max_overlaps, r.labels, ov, gt_best.values,
               gt_best.indices, labels, cfg);
  return r;
}

AssignResult max_iou_assign(const MaxIouAssigner& cfg, const Tensor& boxes, const Tensor& gt_boxes,
                            const Tensor& gt_labels, const Tensor& gt_boxes_ignore) {
  check_boxes("max_iou_assign", "boxes", boxes, BoxShape::rows);
  check_boxes("max_iou_assign", "gt_boxes", gt_boxes, BoxShape::rows);
  check_same_device("max_iou_assign", {&boxes, &gt_boxes});
  check_same_dtype("max_iou_assign", boxes, gt_boxes);
  Tensor overlaps = box_iou(gt_boxes, boxes); // (G, N)
  if (cfg.ignore_iof_thr > 0 && gt_boxes_ignore.defined() && gt_boxes_ignore.numel() > 0 &&
      boxes.size(0) > 0) {
    check_boxes("max_iou_assign", "gt_boxes_ignore", gt_boxes_ignore, BoxShape::rows);
    check_same_device("max_iou_assign", {&boxes, &gt_boxes_ignore});
    check_same_dtype("max_iou_assign", boxes, gt_boxes_ignore);
    const Tensor iof = box_iou(boxes, gt_boxes_ignore, IouMode::iof); // (N, I)
    overlaps = masked_fill(overlaps, unsqueeze(gt(amax(iof, {1}), cfg.ignore_iof_thr), 0), -1);
  }
  return assign_wrt_overlaps(cfg, overlaps, gt_labels);
}

SamplingResult random_sample(const RandomSampler& cfg, const AssignResult& assign,
                             const Tensor& bboxes, const Tensor& gt_bboxes, const Tensor& gt_labels,
                             Generator* gen) {
  check_boxes("random_sample", "bboxes", bboxes, BoxShape::rows);
  check_boxes("random_sample", "gt_bboxes", gt_bboxes, BoxShape::rows);
  check_same_device("random_sample", {&bboxes, &gt_bboxes, &assign.gt_inds, &assign.max_overlaps});
  check_same_dtype("random_sample", bboxes, gt_bboxes);
  SPLAT_CHECK(cfg.num >= 0 && cfg.pos_fraction >= 0 && cfg.pos_fraction <= 1,
              "random_sample: num = ", cfg.num, " and pos_fraction = ", cfg.pos_fraction,
              " (need num >= 0 and 0 <= pos_fraction <= 1)");
  const int64_t n = bboxes.size(0), g = gt_bboxes.size(0);
  SPLAT_CHECK(assign.gt_inds.dim() == 1 && assign.gt_inds.size(0) == n && assign.num_gts == g,
              "random_sample: the assignment covers ", assign.gt_inds.numel(), " boxes and ",
              assign.num_gts, " GTs, but bboxes has ", n, " rows and gt_bboxes ", g);
  const Device dev = bboxes.device();
  const TensorOptions i64{.dtype = DType::i64, .device = dev};
  SamplingResult s;
  s.bboxes = bboxes;
  s.gt_flags = zeros({n}, {.dtype = DType::b8, .device = dev});
  s.assign = assign;
  if (cfg.add_gt_as_proposals && g > 0) {
    SPLAT_CHECK(gt_labels.defined(), "random_sample: add_gt_as_proposals needs gt_labels");
    const Tensor labels = checked_labels("random_sample", gt_labels, g);
    check_same_device("random_sample", {&bboxes, &labels});
    s.bboxes = cat({gt_bboxes, bboxes}, 0);
    s.gt_flags = cat({ones({g}, {.dtype = DType::b8, .device = dev}), s.gt_flags}, 0);
    s.assign.gt_inds = cat({arange(1, static_cast<double>(g + 1), 1, i64), assign.gt_inds}, 0);
    s.assign.max_overlaps = cat(
        {ones({g}, {.dtype = assign.max_overlaps.dtype(), .device = dev}), assign.max_overlaps}, 0);
    if (assign.labels.defined()) s.assign.labels = cat({labels, assign.labels}, 0);
  }
  const auto num_expected_pos =
      static_cast<int64_t>(static_cast<double>(cfg.num) * cfg.pos_fraction);
  s.pos_inds = sample_group(gt(s.assign.gt_inds, 0), num_expected_pos, gen);
  const int64_t num_pos = s.pos_inds.size(0);
  int64_t num_expected_neg = cfg.num - num_pos;
  if (cfg.neg_pos_ub >= 0)
    num_expected_neg = std::min(num_expected_neg, cfg.neg_pos_ub * std::max<int64_t>(1, num_pos));
  s.neg_inds = sample_group(eq(s.assign.gt_inds, 0), num_expected_neg, gen);

  s.pos_bboxes = index_select(s.bboxes, 0, s.pos_inds);
  s.neg_bboxes = index_select(s.bboxes, 0, s.neg_inds);
  s.pos_is_gt = index_select(s.gt_flags, 0, s.pos_inds);
  s.pos_assigned_gt_inds = sub(index_select(s.assign.gt_inds, 0, s.pos_inds), 1.0);
  s.pos_gt_bboxes = g == 0 ? Tensor::empty({0, 4}, gt_bboxes.dtype(), dev)
                           : index_select(gt_bboxes, 0, s.pos_assigned_gt_inds);
  if (s.assign.labels.defined()) s.pos_gt_labels = index_select(s.assign.labels, 0, s.pos_inds);
  return s;
}

} // namespace splat::ops
