// MaxIoU assigner and random sampler on the CPU: hand-made corner cases (no GT, no boxes,
// ties between GTs, low-quality matches claiming every tied box or only the first, later GTs
// overwriting, the negative range, ignore regions), the assignment against a naive
// transcription of MMDetection's rules on random boxes, and the sampler's counts, GT-as-
// proposal rows, negative cap, order and determinism.
#include "ops/assign.h"
#include "ops/boxes.h"
#include "ops/copy.h"
#include "ops/index.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/helpers.h"
#include "tests/ops/box_helpers.h"

#include <algorithm>
#include <set>

using namespace splat;
using namespace splat::ops;
using splat::test::boxes_of;
using splat::test::check_close;
using splat::test::random_boxes;
using splat::test::to_vector;
using I64 = std::vector<int64_t>;

namespace {

const MaxIouAssigner kRpn{.pos_iou_thr = 0.7, .neg_iou_thr = 0.3, .min_pos_iou = 0.3};
const MaxIouAssigner kRcnn{
    .pos_iou_thr = 0.5, .neg_iou_thr = 0.5, .min_pos_iou = 0.5, .match_low_quality = false};

Tensor overlaps_of(const std::vector<double>& v, int64_t g) {
  return from_vector<double>(v, {g, static_cast<int64_t>(v.size()) / g});
}

// MMDetection's assign_wrt_overlaps transcribed literally (loops over plain vectors).
I64 naive_assign(const MaxIouAssigner& c, const std::vector<float>& ov, int64_t g, int64_t n) {
  I64 r(static_cast<size_t>(n), -1);
  std::vector<float> best(static_cast<size_t>(n)), gt_best(static_cast<size_t>(g));
  I64 arg(static_cast<size_t>(n), 0), gt_arg(static_cast<size_t>(g), 0);
  for (int64_t j = 0; j < n; ++j) {
    best[j] = ov[j];
    for (int64_t i = 1; i < g; ++i)
      if (ov[i * n + j] > best[j]) best[j] = ov[i * n + j], arg[j] = i;
  }
  for (int64_t i = 0; i < g; ++i) {
    gt_best[i] = ov[i * n];
    for (int64_t j = 1; j < n; ++j)
      if (ov[i * n + j] > gt_best[i]) gt_best[i] = ov[i * n + j], gt_arg[i] = j;
  }
  const auto f = [](double v) { return static_cast<float>(v); };
  for (int64_t j = 0; j < n; ++j) {
    if (best[j] >= f(c.neg_iou_thr.lo) && best[j] < f(c.neg_iou_thr.hi)) r[j] = 0;
    if (best[j] >= f(c.pos_iou_thr)) r[j] = arg[j] + 1;
  }
  if (c.match_low_quality)
    for (int64_t i = 0; i < g; ++i) {
      if (!(gt_best[i] >= f(c.min_pos_iou))) continue;
      if (!c.gt_max_assign_all)
        r[gt_arg[i]] = i + 1;
      else
        for (int64_t j = 0; j < n; ++j)
          if (ov[i * n + j] == gt_best[i]) r[j] = i + 1;
    }
  return r;
}

} // namespace

TEST_CASE("assign: no GT makes every box negative; no box gives empty results") {
  const Tensor boxes = random_boxes(5);
  const AssignResult none =
      max_iou_assign(kRpn, boxes, zeros({0, 4}), zeros({0}, {.dtype = DType::i64}));
  CHECK(none.num_gts == 0);
  CHECK(to_vector<int64_t>(none.gt_inds) == I64(5, 0));
  CHECK(to_vector<int64_t>(none.labels) == I64(5, -1));
  check_close(none.max_overlaps, zeros({5}));
  const AssignResult empty = max_iou_assign(kRpn, zeros({0, 4}), random_boxes(3));
  CHECK(empty.num_gts == 3);
  CHECK(empty.gt_inds.shape() == Shape{0});
  CHECK(empty.max_overlaps.shape() == Shape{0});
  CHECK(!empty.labels.defined());
}

TEST_CASE("assign: thresholds, ties to the lower GT, low-quality matches") {
  // Overlaps (2 GTs x 6 boxes) chosen by hand.
  const Tensor ov = overlaps_of({0.8, 0.2, 0.5, 0.6, 0.1, 0.35, //
                                 0.8, 0.1, 0.5, 0.2, 0.6, 0.0},
                                2);
  const Tensor labels = from_vector<int64_t>({7, 3}, {2});
  // RPN thresholds: box 1 (best 0.2) is negative, boxes 2..5 (best in [0.3, 0.7)) ignored; box 0
  // ties at 0.8 between the GTs and goes to GT 0, the first; then low-quality matching lets
  // each GT claim its best box, box 0 for both, and GT 1, coming later, keeps it.
  AssignResult r = assign_wrt_overlaps(kRpn, ov, labels);
  CHECK(to_vector<int64_t>(r.gt_inds) == I64{2, 0, -1, -1, -1, -1});
  CHECK(to_vector<int64_t>(r.labels) == I64{3, -1, -1, -1, -1, -1});
  check_close(r.max_overlaps, from_vector<double>({0.8, 0.2, 0.5, 0.6, 0.6, 0.35}, {6}));
  MaxIouAssigner plain = kRpn;
  plain.match_low_quality = false;
  CHECK(to_vector<int64_t>(assign_wrt_overlaps(plain, ov).gt_inds) == I64{1, 0, -1, -1, -1, -1});

  // Best overlaps below pos_iou_thr, each reached by two boxes: gt_max_assign_all lets a GT
  // claim both, otherwise only the first.
  const Tensor lq = overlaps_of({0.6, 0.1, 0.6, 0.2, //
                                 0.0, 0.4, 0.1, 0.4},
                                2);
  CHECK(to_vector<int64_t>(assign_wrt_overlaps(kRpn, lq).gt_inds) == I64{1, 2, 1, 2});
  MaxIouAssigner first_only = kRpn;
  first_only.gt_max_assign_all = false;
  CHECK(to_vector<int64_t>(assign_wrt_overlaps(first_only, lq).gt_inds) == I64{1, 2, -1, -1});
  // A GT whose best overlap is below min_pos_iou claims nothing.
  MaxIouAssigner strict = kRpn;
  strict.min_pos_iou = 0.5;
  CHECK(to_vector<int64_t>(assign_wrt_overlaps(strict, lq).gt_inds) == I64{1, -1, 1, -1});
}

TEST_CASE("assign: a negative range (lo, hi) and the R-CNN setting") {
  const Tensor ov = overlaps_of({0.05, 0.1, 0.2, 0.5, 0.49}, 1);
  CHECK(to_vector<int64_t>(
            assign_wrt_overlaps(
                {.pos_iou_thr = 0.5, .neg_iou_thr = {0.1, 0.3}, .match_low_quality = false}, ov)
                .gt_inds) == I64{-1, 0, 0, 1, -1});
  CHECK(to_vector<int64_t>(assign_wrt_overlaps(kRcnn, ov).gt_inds) == I64{0, 0, 0, 1, 0});
}

TEST_CASE("assign: boxes mostly inside an ignore region stay ignored") {
  const Tensor gt = boxes_of({0, 0, 10, 10});
  const Tensor boxes = boxes_of({0, 0, 10, 10, 50, 50, 60, 60, 52, 52, 58, 58, 30, 30, 40, 40});
  const Tensor ignore = boxes_of({45, 45, 65, 65});
  MaxIouAssigner c = kRpn;
  c.ignore_iof_thr = 0.5;
  CHECK(to_vector<int64_t>(max_iou_assign(c, boxes, gt, {}, ignore).gt_inds) == I64{1, -1, -1, 0});
  // Off by default (ignore_iof_thr = -1), and with no ignore boxes.
  CHECK(to_vector<int64_t>(max_iou_assign(kRpn, boxes, gt, {}, ignore).gt_inds) == I64{1, 0, 0, 0});
  CHECK(to_vector<int64_t>(
            max_iou_assign(c, boxes, gt, {}, zeros({0, 4}, {.dtype = DType::f64})).gt_inds) ==
        I64{1, 0, 0, 0});
}

TEST_CASE("assign matches a naive transcription of the rules on random and grid boxes") {
  for (int trial = 0; trial < 6; ++trial) {
    CAPTURE(trial);
    const bool grid = trial % 2 == 1;
    const Tensor boxes = grid ? splat::test::grid_boxes(120) : random_boxes(300, 60, 30);
    const Tensor gt = grid ? splat::test::grid_boxes(7) : random_boxes(9, 60, 30);
    const Tensor labels = randint(0, 80, {gt.size(0)});
    for (const MaxIouAssigner& c :
         {kRpn, kRcnn, MaxIouAssigner{.pos_iou_thr = 0.5, .neg_iou_thr = 0.5, .min_pos_iou = 0.5},
          MaxIouAssigner{.pos_iou_thr = 0.6,
          .neg_iou_thr = {0.1, 0.4},
          .min_pos_iou = 0.2,
          .gt_max_assign_all = false}}) {
      const AssignResult r = max_iou_assign(c, boxes, gt, labels);
      const auto ov = to_vector<float>(box_iou(gt, boxes));
      const I64 expected = naive_assign(c, ov, gt.size(0), boxes.size(0));
      CHECK(to_vector<int64_t>(r.gt_inds) == expected);
      const auto lab = to_vector<int64_t>(labels), got = to_vector<int64_t>(r.labels);
      for (size_t j = 0; j < expected.size(); ++j)
        CHECK(got[j] == (expected[j] > 0 ? lab[static_cast<size_t>(expected[j] - 1)] : -1));
      check_close(r.max_overlaps, amax(box_iou(gt, boxes), {0}), 0, 0);
    }
  }
}

TEST_CASE("random sampler: counts, GT rows, negative cap, sorted picks, determinism") {
  // GT sides of at least 10 and 100 copies of them jittered by less than 1: about 25
  // positives per GT, among 500 random boxes (mostly negatives).
  const Tensor gt_boxes = random_boxes(4, 80, 30, DType::f32, 10);
  const Tensor jittered = add(index_select(gt_boxes, 0, randint(0, 4, {100})), rand({100, 4}));
  const Tensor boxes = cat({random_boxes(500, 80, 40), jittered}, 0);
  const Tensor labels = from_vector<int64_t>({5, 6, 7, 8}, {4});
  const AssignResult a = max_iou_assign(kRcnn, boxes, gt_boxes, labels);
  const int64_t pos_avail = sum(gt(a.gt_inds, 0)).item<int64_t>();
  const int64_t neg_avail = sum(eq(a.gt_inds, 0)).item<int64_t>();
  REQUIRE(pos_avail > 10);
  REQUIRE(neg_avail > 300);

  const RandomSampler cfg{.num = 64, .pos_fraction = 0.25};
  Generator gen(11);
  const SamplingResult s = random_sample(cfg, a, boxes, gt_boxes, labels, &gen);
  // GTs come first as proposals, all positive: 16 positives of the 4 + pos_avail on offer.
  CHECK(s.bboxes.shape() == Shape{604, 4});
  CHECK(s.pos_inds.size(0) == 16);
  CHECK(s.neg_inds.size(0) == 48);
  const auto pos = to_vector<int64_t>(s.pos_inds), neg = to_vector<int64_t>(s.neg_inds);
  CHECK(std::is_sorted(pos.begin(), pos.end()));
  CHECK(std::is_sorted(neg.begin(), neg.end()));
  CHECK(std::set<int64_t>(pos.begin(), pos.end()).size() == pos.size());
  const auto inds = to_vector<int64_t>(s.assign.gt_inds);
  for (int64_t p : pos) CHECK(inds[static_cast<size_t>(p)] > 0);
  for (int64_t q : neg) CHECK(inds[static_cast<size_t>(q)] == 0);
  const auto is_gt = to_vector<int>(s.pos_is_gt);
  for (size_t k = 0; k < pos.size(); ++k) CHECK(is_gt[k] == (pos[k] < 4));
  check_close(s.pos_bboxes, index_select(s.bboxes, 0, s.pos_inds), 0, 0);
  check_close(s.pos_gt_bboxes, index_select(gt_boxes, 0, s.pos_assigned_gt_inds), 0, 0);
  check_close(s.pos_gt_labels, index_select(labels, 0, s.pos_assigned_gt_inds), 0, 0);
  CHECK(to_vector<int64_t>(narrow(s.assign.gt_inds, 0, 0, 4)) == I64{1, 2, 3, 4});

  // The same seed picks the same boxes; another seed other ones.
  Generator again(11), other(12);
  const SamplingResult s2 = random_sample(cfg, a, boxes, gt_boxes, labels, &again);
  CHECK(to_vector<int64_t>(s2.pos_inds) == pos);
  CHECK(to_vector<int64_t>(s2.neg_inds) == neg);
  CHECK(to_vector<int64_t>(random_sample(cfg, a, boxes, gt_boxes, labels, &other).neg_inds) != neg);

  // Few positives: all taken, negatives fill up to num; a cap of 2 negatives per positive.
  const RandomSampler many{.num = 512, .pos_fraction = 0.5, .add_gt_as_proposals = false};
  const SamplingResult all_pos = random_sample(many, a, boxes, gt_boxes, labels, &gen);
  CHECK(all_pos.pos_inds.size(0) == pos_avail);
  CHECK(all_pos.neg_inds.size(0) == std::min(512 - pos_avail, neg_avail));
  CHECK(all_pos.bboxes.shape() == Shape{600, 4});
  CHECK(sum(all_pos.pos_is_gt).item<int64_t>() == 0);
  const SamplingResult capped = random_sample(
      {.num = 512, .pos_fraction = 0.5, .neg_pos_ub = 2, .add_gt_as_proposals = false}, a, boxes,
      gt_boxes, labels, &gen);
  CHECK(capped.neg_inds.size(0) == 2 * pos_avail);
}

TEST_CASE("random sampler without GT: all negatives, empty positives") {
  const Tensor boxes = random_boxes(20);
  const Tensor no_gt = zeros({0, 4});
  const AssignResult a = max_iou_assign(kRcnn, boxes, no_gt, zeros({0}, {.dtype = DType::i64}));
  const SamplingResult s = random_sample({.num = 8, .pos_fraction = 0.25}, a, boxes, no_gt,
                                         zeros({0}, {.dtype = DType::i64}));
  CHECK(s.pos_inds.size(0) == 0);
  CHECK(s.neg_inds.size(0) == 8);
  CHECK(s.pos_gt_bboxes.shape() == Shape{0, 4});
  CHECK(s.pos_gt_labels.shape() == Shape{0});
}

TEST_CASE("assign and sample: bad inputs give clear errors") {
  const Tensor b = random_boxes(3);
  CHECK_THROWS_WITH_ALL(max_iou_assign(kRpn, zeros({3, 5}), b), "max_iou_assign", "boxes",
                        "[3, 5]");
  CHECK_THROWS_WITH_ALL(max_iou_assign(kRpn, b, b, zeros({2}, {.dtype = DType::i64})), "gt_labels",
                        "(3)", "[2]");
  CHECK_THROWS_WITH_ALL(assign_wrt_overlaps({.neg_iou_thr = {0.5, 0.2}}, zeros({2, 2})),
                        "reversed");
  const AssignResult a = max_iou_assign(kRpn, b, b);
  CHECK_THROWS_WITH_ALL(random_sample({}, a, b, b), "add_gt_as_proposals needs gt_labels");
  CHECK_THROWS_WITH_ALL(random_sample({}, a, random_boxes(4), b), "covers 3 boxes", "4 rows");
  CHECK_THROWS_WITH_ALL(random_sample({.pos_fraction = 2}, a, b, b), "pos_fraction = 2");
}
