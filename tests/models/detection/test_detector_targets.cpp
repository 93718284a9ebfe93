// Hand-checked training targets of the RPN (anchor_targets) and of the R-CNN sampler
// (StandardRoiHead::sample): images without GT, crowd-only images, tiny boxes and boxes on the
// image border. Every expected count below is derived in the comment beside it from the boxes'
// IoUs, worked out by hand; none comes from running the code.
//
// Anchor layout of the hand cases: an image of H 32 x W 48 and six 16x16 anchors
//   a0 [0,0,16,16]   a1 [8,0,24,16]   a2 [32,16,48,32] (touches the right and bottom edges)
//   a3 [-4,8,12,24] (crosses the left edge)   a4 [40,20,56,36] (crosses right and bottom)
//   a5 [16,8,32,24]
// and the GT boxes
//   g0 = [0,0,16,16] (= a0)            g1 = [36,20,48,32] (12x12 in the bottom-right corner)
// IoUs (area 256 per anchor): g0: a0 1, a1 128/384 = 1/3, a3 96/416 = 0.231, others 0.
//   g1 (area 144): a2 144/256 = 0.5625, a4 96/304 = 0.316, others 0.
#include "autograd/engine.h"
#include "models/detection/anchor_targets.h"
#include "models/detection/roi_head.h"
#include "ops/anchors.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "tests/helpers.h"
#include "tests/models/detection/narrow_faster_rcnn.h"
#include "tests/models/detection/tiny_detector_input.h"

#include <cmath>

using namespace splat;
using splat::test::check_close;
using splat::test::to_vector;

namespace {

Tensor boxes(std::vector<double> v) {
  return ops::from_vector<double>(v, {static_cast<int64_t>(v.size() / 4), 4});
}

Tensor no_boxes() { return ops::zeros({0, 4}, {.dtype = DType::f64}); }

const Tensor& hand_anchors() {
  static const Tensor a = boxes({0, 0, 16, 16, 8, 0, 24, 16, 32, 16, 48, 32, -4, 8, 12, 24, 40, 20, 56, 36, 16, 8, 32, 24});
  return a;
}

constexpr ops::SizeHW kHandImage{32, 48};
const std::vector<double> g0{0, 0, 16, 16}, g1{36, 20, 48, 32};

models::GroundTruth gt_of(const std::vector<double>& v, Tensor ignore = {}) {
  const Tensor b = v.empty() ? no_boxes() : boxes(v);
  return {b, ops::zeros({b.size(0)}, {.dtype = DType::i64}), std::move(ignore)};
}

models::AnchorTargets targets(const models::GroundTruth& gt, models::RpnTrainConfig cfg = {},
                              Tensor valid = {}, const Tensor& anchors = hand_anchors(),
                              ops::SizeHW image = kHandImage) {
  if (!valid.defined()) valid = ops::ones({anchors.size(0)}, {.dtype = DType::b8});
  Generator gen(3);
  return models::anchor_targets(anchors, valid, image, gt, cfg, ops::DeltaXYWHBBoxCoder{}, &gen);
}

// labels (1 background, 0 foreground) and label_weights, anchor by anchor.
void check_labels(const models::AnchorTargets& t, const std::vector<int64_t>& labels,
                  const std::vector<double>& weights, int64_t num_sampled) {
  CHECK(to_vector<int64_t>(t.labels) == labels);
  CHECK(to_vector<double>(t.label_weights) == weights);
  CHECK(t.num_sampled == num_sampled);
  // Box weights: exactly the positive rows.
  std::vector<double> box_weights;
  for (int64_t l : labels) box_weights.insert(box_weights.end(), 4, l == 0 ? 1.0 : 0.0);
  CHECK(to_vector<double>(t.bbox_weights) == box_weights);
}

int64_t count_positives(const models::AnchorTargets& t) { return ops::sum(ops::eq(t.labels, 0.0)).item<int64_t>(); }

// The spec's anchors of every level for a 64x64 image (feature maps 16, 8, 4, 2, 1: 1023
// anchors), with their valid flags.
std::pair<Tensor, Tensor> grid_64() {
  const ops::AnchorGenerator gen;
  const std::vector<ops::SizeHW> sizes{{16, 16}, {8, 8}, {4, 4}, {2, 2}, {1, 1}};
  return {ops::cat(ops::grid_anchors(gen, sizes, {.dtype = DType::f64})), ops::cat(ops::valid_flags(gen, sizes, {64, 64}))};
}

} // namespace

TEST_CASE("rpn targets: an image without GT boxes has only negatives and a zero box loss") {
  // No GT: the assigner makes every anchor negative (mmdet's num_gts == 0 branch), the
  // sampler takes all 6 (quota 256), nothing is positive.
  check_labels(targets(gt_of({})), {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, 6);
  CHECK(to_vector<double>(targets(gt_of({})).bbox_targets) == std::vector<double>(24, 0.0));
  // With a quota of 4 the sampler keeps 4 of the 6 negatives (0 positives, 4 - 0 negatives).
  models::RpnTrainConfig small;
  small.sampler.num = 4;
  const auto t = targets(gt_of({}), small);
  CHECK(t.num_sampled == 4);
  CHECK(ops::sum(t.label_weights).item<double>() == 4);
  CHECK(count_positives(t) == 0);
}

TEST_CASE("detector: a batch without GT boxes trains with zero box losses, not NaN") {
  manual_seed(2);
  auto model = test::narrow_faster_rcnn();
  model->train();
  models::DetectorInput input = test::tiny_detector_input();
  for (auto& gt : input.targets) gt = {ops::zeros({0, 4}), ops::zeros({0}, {.dtype = DType::i64}), {}};
  Generator gen(1);
  const models::LossMap losses = model->forward_train(input, &gen);
  // No positive anchor and no positive RoI: both box losses are sums over nothing divided by
  // the (positive) number of sampled anchors / RoIs, i.e. exactly 0.
  CHECK(losses.at("loss_rpn_bbox").item<double>() == 0);
  CHECK(losses.at("loss_bbox").item<double>() == 0);
  CHECK(std::isfinite(losses.at("loss_rpn_cls").item<double>()));
  CHECK(losses.at("loss_rpn_cls").item<double>() > 0);
  CHECK(std::isfinite(losses.at("loss_cls").item<double>()));
  autograd::backward(models::total_loss(losses));
  for (const auto& [name, p] : model->named_parameters()) {
    if (!p.requires_grad()) continue;
    CAPTURE(name);
    REQUIRE(p.grad().defined());
    int64_t non_finite = 0;
    for (double g : to_vector<double>(p.grad())) non_finite += std::isfinite(g) ? 0 : 1;
    CHECK(non_finite == 0);
  }
  // The regression branch gets no gradient from a batch without positives.
  check_close(model->rpn_head->rpn_reg->weight.grad(), ops::zeros_like(model->rpn_head->rpn_reg->weight), 0, 0);
}

TEST_CASE("rpn targets: crowd-only images") {
  // A crowd region C = [0,0,24,16] covering a0 and a1 (iof 1 each), a3 partly (96/256 =
  // 0.375) and a5 partly (64/256 = 0.25); crowd boxes are never GT.
  const Tensor crowd = boxes({0, 0, 24, 16});
  models::RpnTrainConfig with_iof;
  with_iof.assigner.ignore_iof_thr = 0.5;
  // The spec (3.1) sets ignore_iof_thr -1: the crowd box is simply not a GT, so an image with
  // only crowd regions has no GT and every anchor is negative. mmdet 3.3's MaxIoUAssigner does
  // the same even with ignore_iof_thr > 0: it blanks the overlap columns of anchors inside a
  // crowd, but with zero GT rows the num_gts == 0 branch of assign_wrt_overlaps then assigns
  // every anchor to background, crowd or not. Hence all 6 negative in both settings.
  check_labels(targets(gt_of({}, crowd)), {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, 6);
  check_labels(targets(gt_of({}, crowd), with_iof), {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, 6);
  // With a real GT g1 beside the crowd, ignore_iof_thr 0.5 ignores a0 and a1 (iof 1 > 0.5;
  // a3's 0.375 and a5's 0.25 are not above it); a2 is g1's positive (low-quality match, 0.5625
  // is g1's best), a4 (0.316) is ignored, a3 and a5 negative: 3 sampled.
  check_labels(targets(gt_of(g1, crowd), with_iof), {1, 1, 0, 1, 1, 1}, {0, 0, 1, 1, 0, 1}, 3);
  // Without the iof rule (the spec's setting) a0 and a1 are ordinary negatives: 5 sampled.
  check_labels(targets(gt_of(g1, crowd)), {1, 1, 0, 1, 1, 1}, {1, 1, 1, 1, 0, 1}, 5);
}

TEST_CASE("rpn targets: tiny boxes rely on the low-quality match, down to min_pos_iou") {
  // A 10x10 GT [19,11,29,21] inside a5 (centres both (24,16)): IoU 100/256 = 0.39 with a5,
  // 25/331 = 0.076 with a1 (overlap 5x5), 0 elsewhere. 0.39 < pos_iou_thr 0.7, so a5 is
  // positive only through the low-quality match (0.39 >= min_pos_iou 0.3); the rest negative.
  const std::vector<double> ten{19, 11, 29, 21};
  const auto t = targets(gt_of(ten));
  check_labels(t, {1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1}, 6);
  // Its target: same centre, log(10/16) on the sides.
  const double s = std::log(10.0 / 16.0);
  check_close(ops::narrow(t.bbox_targets, 0, 5, 1), boxes({0, 0, s, s}), 1e-12, 1e-12);
  // Without the low-quality match a5 falls in [0.3, 0.7): ignored, and the GT has no positive.
  models::RpnTrainConfig strict;
  strict.assigner.match_low_quality = false;
  check_labels(targets(gt_of(ten), strict), {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0}, 5);
  // A 2x2 GT [23,15,25,17]: best IoU 4/256 = 0.016 (a5) is below min_pos_iou, so, as in mmdet,
  // it gets no positive at all: every anchor negative (all max IoUs < 0.3).
  check_labels(targets(gt_of({23, 15, 25, 17})), {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, 6);
}

TEST_CASE("rpn targets: tiny boxes on the spec's anchor grid") {
  const auto [anchors, valid] = grid_64();
  REQUIRE(anchors.size(0) == 1023);
  // A 24x24 GT [20,20,44,44]. The 32x32 (ratio 1) anchors of P2 contain it when their centre
  // c (a multiple of 4) has c - 16 <= 20 and c + 16 >= 44: c in {28, 32, 36} in x and y, 9
  // anchors tied at IoU 576/1024 = 0.5625 (exact). The elongated 45.25x22.63 anchors reach at
  // most 24*22.63 / (1024 + 576 - 24*22.63) = 0.514, P3's 64x64 ones 576/4096: the best IoU
  // 0.5625 < 0.7, so the 9 positives come from the low-quality match with
  // gt_max_assign_all. Their rows: ((y * 16 + x) * 3 + 1) for x, y in {7, 8, 9}.
  const models::GroundTruth gt24 = gt_of({20, 20, 44, 44});
  const auto t = targets(gt24, {}, valid, anchors, {64, 64});
  std::vector<int64_t> expected_pos;
  for (int64_t y : {7, 8, 9})
    for (int64_t x : {7, 8, 9}) expected_pos.push_back((y * 16 + x) * 3 + 1);
  std::vector<int64_t> pos;
  const auto labels = to_vector<int64_t>(t.labels);
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == 0) pos.push_back(static_cast<int64_t>(i));
  CHECK(pos == expected_pos);
  // 9 positives (under the quota 128) and 256 - 9 negatives from the hundreds available.
  CHECK(t.num_sampled == 256);
  CHECK(ops::sum(t.bbox_weights).item<double>() == 36);
  models::RpnTrainConfig strict;
  strict.assigner.match_low_quality = false;
  CHECK(count_positives(targets(gt24, strict, valid, anchors, {64, 64})) == 0);

  // A 2x2 GT [31,31,33,33]: IoU at most 4/1024 with any anchor, below min_pos_iou 0.3 (the
  // smallest GT a 32x32 anchor can match is 0.3 * 1024 = 307 px^2, about 17.5x17.5): no
  // positive, every anchor negative, 256 of them sampled. This is mmdet's behaviour; the RPN
  // cannot learn such a box (the R-CNN still can: see the RoI sampler case below).
  const auto t2 = targets(gt_of({31, 31, 33, 33}), {}, valid, anchors, {64, 64});
  CHECK(count_positives(t2) == 0);
  CHECK(t2.num_sampled == 256);
  CHECK(ops::sum(t2.label_weights).item<double>() == 256);
}

TEST_CASE("rpn targets: boxes on the border and allowed_border") {
  // GT g0 (= a0) and g1 (bottom-right corner). allowed_border -1: every (valid) anchor is a
  // candidate: a0 positive for g0 (IoU 1), a2 positive for g1 (low-quality, its best 0.5625),
  // a1 (1/3 with g0) and a4 (0.316 with g1) ignored, a3 (0.231) and a5 (0) negative: 4 sampled.
  const std::vector<double> both{0, 0, 16, 16, 36, 20, 48, 32};
  const auto t = targets(gt_of(both));
  check_labels(t, {0, 1, 0, 1, 1, 1}, {1, 0, 1, 1, 0, 1}, 4);
  // a2's target for g1: centres (40,24) -> (42,26), sides 16 -> 12.
  const double s = std::log(0.75);
  check_close(ops::narrow(t.bbox_targets, 0, 2, 1), boxes({0.125, 0.125, s, s}), 1e-12, 1e-12);

  // allowed_border 0 keeps anchors with x1 >= 0, y1 >= 0, x2 < 48, y2 < 32 (strict, as mmdet's
  // anchor_inside_flags): a2 (x2 = 48, touching the edge), a3 and a4 drop out with label
  // weight 0 and background label. g1 loses its only positive; a0 stays g0's positive, a1 is
  // ignored, a5 negative: 2 sampled.
  models::RpnTrainConfig border0;
  border0.allowed_border = 0;
  check_labels(targets(gt_of(both), border0), {0, 1, 1, 1, 1, 1}, {1, 0, 0, 0, 0, 1}, 2);
  // g1 alone under allowed_border 0: no candidate overlaps it, so only negatives (a0, a1, a5).
  check_labels(targets(gt_of(g1), border0), {1, 1, 1, 1, 1, 1}, {1, 1, 0, 0, 0, 1}, 3);
  // allowed_border 4: [-4, 52) x [-4, 36) keeps a2 (x2 48 < 52) and a3 (x1 -4 >= -4), drops a4
  // (x2 56): a0 and a2 positive, a1 ignored, a3 and a5 negative, a4 weight 0: 4 sampled.
  models::RpnTrainConfig border4;
  border4.allowed_border = 4;
  check_labels(targets(gt_of(both), border4), {0, 1, 0, 1, 1, 1}, {1, 0, 1, 1, 0, 1}, 4);
  // allowed_border -1 still drops anchors off the valid (unpadded) feature area. With a2
  // marked invalid, g1's best candidate is a4 (0.316 >= min_pos_iou 0.3), which the
  // low-quality match now makes positive: a0 and a4 positive, a1 ignored, a3 and a5 negative.
  const Tensor valid = ops::from_vector<uint8_t>({1, 1, 0, 1, 1, 1}, {6});
  check_labels(targets(gt_of(both), {}, ops::to(valid, DType::b8)), {0, 1, 1, 1, 0, 1}, {1, 0, 0, 1, 1, 1}, 4);
}

namespace {

models::StandardRoiHeadConfig sampler_head_config() {
  models::StandardRoiHeadConfig c = test::narrow_roi_head_config();
  c.train = models::RcnnTrainConfig{}; // the spec's: IoU 0.5, 512 RoIs at 0.25, GT added
  return c;
}

std::vector<ops::SamplingResult> sample(const std::vector<Tensor>& proposals, const std::vector<models::GroundTruth>& gts,
                                        const models::StandardRoiHeadConfig& cfg = sampler_head_config()) {
  const models::StandardRoiHead head(cfg);
  std::vector<models::Proposals> props;
  for (const Tensor& p : proposals) props.push_back({p, ops::zeros({p.size(0)}, {.dtype = DType::f64})});
  models::DetectorInput input;
  input.targets = gts;
  Generator gen(4);
  return head.sample(props, input, &gen);
}

models::GroundTruth labelled(const std::vector<double>& v, std::vector<int64_t> labels, Tensor ignore = {}) {
  const auto n = static_cast<int64_t>(labels.size());
  return {v.empty() ? no_boxes() : boxes(v), ops::from_vector<int64_t>(labels, {n}), std::move(ignore)};
}

} // namespace

TEST_CASE("roi sampler: no GT and crowd-only images give negatives only and a zero box loss") {
  // Five proposals; image 0 has no GT, image 1 only a crowd region over the first two. No GT
  // is added as a proposal (there is none), the assigner makes all 5 negative, the sampler
  // keeps them all (quota 512): every RoI labelled background (num_classes = 3).
  const Tensor p = boxes({0, 0, 10, 10, 2, 2, 12, 12, 20, 20, 40, 40, 5, 30, 25, 50, 30, 0, 60, 30});
  const auto samples = sample({p, p}, {labelled({}, {}), labelled({}, {}, boxes({0, 0, 14, 14}))});
  for (const auto& s : samples) {
    CHECK(s.pos_inds.numel() == 0);
    CHECK(to_vector<int64_t>(s.neg_inds) == std::vector<int64_t>{0, 1, 2, 3, 4});
    CHECK(s.bboxes.size(0) == 5);
  }
  const models::StandardRoiHead head(sampler_head_config());
  const models::BBoxTargets t = head.bbox_head->targets(samples);
  CHECK(to_vector<int64_t>(t.labels) == std::vector<int64_t>(10, 3));
  CHECK(ops::sum(t.bbox_weights).item<double>() == 0);
  // The box loss over no positive is exactly 0 (mmdet: bbox_pred[pos].sum()), with a zero
  // gradient; the class loss is the finite mean cross-entropy over the 10 RoIs.
  Generator gen(6);
  const Tensor cls = ops::randn({10, 4}, {.dtype = DType::f64}, &gen).requires_grad_();
  const Tensor reg = ops::randn({10, 12}, {.dtype = DType::f64}, &gen).requires_grad_();
  const models::LossMap losses = head.bbox_head->loss({cls, reg}, t);
  CHECK(losses.at("loss_bbox").item<double>() == 0);
  CHECK(std::isfinite(losses.at("loss_cls").item<double>()));
  autograd::backward(models::total_loss(losses));
  REQUIRE(reg.grad().defined());
  check_close(reg.grad(), ops::zeros_like(reg), 0, 0);
}

TEST_CASE("roi sampler: a tiny GT is its own positive; the quotas of positives and negatives") {
  // A 2x2 GT [10,10,12,12] (class 2) among proposals [0,0,16,16] (IoU 4/256) and [8,8,14,14]
  // (4/36 = 0.11): the GT added as a proposal (row 0 of bboxes) is the only positive, IoU 1
  // with itself; the two proposals (rows 1, 2) are negatives. Its box target is 0.
  const auto tiny = sample({boxes({0, 0, 16, 16, 8, 8, 14, 14})}, {labelled({10, 10, 12, 12}, {2})});
  CHECK(to_vector<int64_t>(tiny[0].pos_inds) == std::vector<int64_t>{0});
  CHECK(to_vector<int64_t>(tiny[0].neg_inds) == std::vector<int64_t>{1, 2});
  CHECK(to_vector<uint8_t>(tiny[0].pos_is_gt) == std::vector<uint8_t>{1});
  const models::StandardRoiHead head(sampler_head_config());
  const models::BBoxTargets t = head.bbox_head->targets(tiny);
  CHECK(to_vector<int64_t>(t.labels) == std::vector<int64_t>{2, 3, 3});
  CHECK(to_vector<double>(t.bbox_targets) == std::vector<double>(12, 0.0));

  // Quotas with num 8, pos_fraction 0.25: at most 2 positives, then 8 - 2 negatives. GT
  // [0,0,20,20]; proposals 0-2 have IoU 1, 360/400 = 0.9 and 324/400 = 0.81 with it
  // (positives, with the GT row: 4), proposals 3-9 IoU 0 (7 negatives). Sampled: 2 of the 4
  // positives and 6 of the 7 negatives.
  models::StandardRoiHeadConfig small = sampler_head_config();
  small.train.sampler.num = 8;
  std::vector<double> v{0, 0, 20, 20, 0, 2, 20, 20, 1, 1, 19, 19};
  for (int k = 0; k < 7; ++k) v.insert(v.end(), {30.0 + k, 30, 50.0 + k, 50});
  const auto quota = sample({boxes(v)}, {labelled({0, 0, 20, 20}, {1})}, small);
  CHECK(quota[0].pos_inds.numel() == 2);
  CHECK(quota[0].neg_inds.numel() == 6);
  for (int64_t i : to_vector<int64_t>(quota[0].pos_inds)) CHECK(i <= 3); // GT row or proposals 0-2
  for (int64_t i : to_vector<int64_t>(quota[0].neg_inds)) CHECK(i >= 4);
}
