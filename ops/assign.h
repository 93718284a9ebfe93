// Box assignment and sampling for detector training: MMDetection v2's MaxIoUAssigner and
// RandomSampler.
//
// Assignment of N candidate boxes (anchors or proposals) to G ground-truth boxes, from the
// overlaps (G, N) = box_iou(gt, boxes) (MMDetection's rules, spec section 3.1):
//  1. every box starts ignored (-1);
//  2. a box whose max overlap over the GTs lies in [neg.lo, neg.hi) is negative (0);
//  3. a box whose max overlap is >= pos_iou_thr is positive, assigned to its best GT (the lowest
//     GT index among ties), as 1 + that index;
//  4. with match_low_quality, for each GT i in increasing order whose best overlap is
//     >= min_pos_iou: with gt_max_assign_all every box whose overlap with GT i equals that best
//     overlap, else only the first such box, is assigned to GT i (later GTs overwrite earlier).
// With ignore_iof_thr > 0 and ignore boxes given, a box whose largest iof with the ignore
// boxes exceeds ignore_iof_thr gets overlap -1 with every GT (so it stays ignored unless a
// low-quality match claims it). No GT: every box negative; no box: empty results.
//
// Sampling (RandomSampler): positives are boxes with gt_inds > 0, negatives gt_inds == 0; at
// most num * pos_fraction positives are kept and num minus the kept positives negatives (capped
// at neg_pos_ub * max(1, positives) when neg_pos_ub >= 0); a group larger than its quota is
// subsampled by a random permutation from the Philox generator (ops::randperm) taking its first
// quota entries, so one seed picks the same boxes on every device. Indices come back ascending.
#pragma once

#include "core/philox.h"
#include "core/tensor.h"

#include <cstdint>

namespace splat::ops {

// The negative range [lo, hi) of max overlaps. A single threshold t means [0, t) (so boxes
// whose overlaps were set to -1 by the ignore rule are never negative).
struct IouRange {
  double lo = 0;
  double hi = 0;
  IouRange(double hi_) : lo(0), hi(hi_) {} // NOLINT: a scalar threshold reads naturally
  IouRange(double lo_, double hi_) : lo(lo_), hi(hi_) {}
};

struct MaxIouAssigner {
  double pos_iou_thr = 0.5;
  IouRange neg_iou_thr = 0.5;
  double min_pos_iou = 0.0;
  bool gt_max_assign_all = true;
  bool match_low_quality = true;
  double ignore_iof_thr = -1; // <= 0: no ignore boxes
};

struct AssignResult {
  int64_t num_gts = 0;
  Tensor gt_inds;      // (N) i64: -1 ignored, 0 negative, k > 0 assigned to GT k - 1
  Tensor max_overlaps; // (N) the boxes' dtype: the best overlap of each box (0 without GTs)
  Tensor labels;       // (N) i64: the GT's label for positives, -1 elsewhere (undefined
                       // when no gt_labels were given)
};

// boxes: (N, 4), gt_boxes: (G, 4), gt_labels: (G) i64 or undefined, gt_boxes_ignore: (I, 4) or
// undefined. All on one device; boxes of one floating dtype.
AssignResult max_iou_assign(const MaxIouAssigner& cfg, const Tensor& boxes, const Tensor& gt_boxes,
                            const Tensor& gt_labels = {}, const Tensor& gt_boxes_ignore = {});

// The assignment from precomputed overlaps (G, N) (floating), as max_iou_assign after its
// overlap and ignore steps.
AssignResult assign_wrt_overlaps(const MaxIouAssigner& cfg, const Tensor& overlaps,
                                 const Tensor& gt_labels = {});

struct RandomSampler {
  int64_t num = 512;
  double pos_fraction = 0.25;
  int64_t neg_pos_ub = -1; // < 0: no cap on negatives
  bool add_gt_as_proposals = true;
};

struct SamplingResult {
  Tensor pos_inds;             // (P) i64, ascending: rows of `bboxes`
  Tensor neg_inds;             // (Q) i64, ascending
  Tensor bboxes;               // (G' + N, 4): the candidates, with the GT boxes first (G' = G)
                               // when add_gt_as_proposals and G > 0, else G' = 0
  Tensor gt_flags;             // (G' + N) bool: the row is a GT box added as a proposal
  AssignResult assign;         // the assignment extended over bboxes' rows
  Tensor pos_bboxes;           // (P, 4)
  Tensor neg_bboxes;           // (Q, 4)
  Tensor pos_is_gt;            // (P) bool
  Tensor pos_assigned_gt_inds; // (P) i64, 0-based GT index of each positive
  Tensor pos_gt_bboxes;        // (P, 4)
  Tensor pos_gt_labels;        // (P) i64; undefined when the assignment has no labels
};

// assign: the assignment of bboxes (N, 4) to gt_bboxes (G, 4); gt_labels (G) i64 (needed when
// GTs are added as proposals). gen: nullptr means the default generator.
SamplingResult random_sample(const RandomSampler& cfg, const AssignResult& assign,
                             const Tensor& bboxes, const Tensor& gt_bboxes,
                             const Tensor& gt_labels = {}, Generator* gen = nullptr);

} // namespace splat::ops
