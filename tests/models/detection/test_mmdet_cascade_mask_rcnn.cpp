// Parity with the real MMDetection 3.3 (scripts/fixtures/mmdet_cascade_mask_rcnn.py): the narrow
// ResNeSt Cascade Mask R-CNN with MMDetection's random weights, fixed inputs and BitmapMasks
// ground truth gives every stage's positive RoIs and mask targets (each stage's own positives),
// every stage's losses with s{i}.loss_mask x the stage weight, the mask heads' gradients, the
// stages' mean mask probabilities of the final boxes, the pasted masks and the detections,
// within float32 tolerance. The box stages themselves are test_mmdet_cascade_rcnn.cpp's; here
// the RoI head runs from MMDetection's proposals so that no RoI differs.
#include "autograd/engine.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "tests/models/detection/mmdet_fixture.h"
#include "tests/models/detection/narrow_cascade_mask_rcnn.h"

using namespace splat;
using splat::test::check_close;
using splat::test::check_equal;
using splat::test::check_scaled;

namespace {

const test::MmdetFixture fx(SPLAT_SOURCE_DIR "/tests/fixtures/mmdet_cascade_mask_rcnn.safetensors");

std::shared_ptr<models::TwoStageDetector> fixture_model() {
  models::CascadeRoiHeadConfig roi = test::narrow_cascade_roi_head_config();
  roi.test.max_per_img = 10; // the fixture's (spec: 100), which keeps its pasted masks small
  auto model = test::narrow_cascade_mask_rcnn(roi);
  model->load_state_dict(fx.with_prefix("weights."));
  return model;
}

int64_t count_differing(const Tensor& a, const Tensor& b) {
  const auto x = test::to_vector<int64_t>(a), y = test::to_vector<int64_t>(b);
  REQUIRE(x.size() == y.size());
  int64_t n = 0;
  for (size_t i = 0; i < x.size(); ++i) n += x[i] != y[i];
  return n;
}

} // namespace

TEST_CASE(
    "mmdet Cascade Mask R-CNN: each stage's positives and mask targets, every stage's losses, "
    "the mask heads' gradients") {
  auto model = fixture_model();
  model->train();
  const models::DetectorInput input = fx.input();
  const auto feats = model->extract_features(input.images);
  auto& head = dynamic_cast<models::CascadeMaskRoiHead&>(*model->roi_head);
  const auto theirs = fx.proposals("train");

  const auto r = head.train_stages(feats, theirs, input, nullptr);
  REQUIRE(r.stages.size() == 3);
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    const std::string p = str("train.s", s, ".mask.");
    std::vector<Tensor> pos;
    for (const auto& smp : r.stages[s].samples) pos.push_back(smp.pos_bboxes);
    const Tensor rois = models::boxes_to_rois(pos);
    const Tensor targets =
        ops::to(head.stage_mask_head(s).targets(r.stages[s].samples, input.targets, 28), DType::u8);
    if (s == 0) {
      // From the proposals themselves: the same RoIs, the same target pixels.
      check_equal(rois, fx(p + "rois"));
      check_equal(targets, fx(p + "targets"));
      continue;
    }
    // Later stages sample boxes regressed in float32 (about 0.005 px off MMDetection's), which
    // may move a boundary pixel of a target across the binarisation.
    check_scaled(rois, fx(p + "rois"), 1e-4);
    REQUIRE(targets.shape() == fx(p + "targets").shape());
    const int64_t differing = count_differing(targets, fx(p + "targets"));
    MESSAGE("stage ", s, ": ", differing, " of ", targets.numel(), " target pixels differ");
    CHECK(differing <= targets.numel() / 2000);
  }

  const models::LossMap losses = head.loss(feats, theirs, input, nullptr);
  REQUIRE(losses.size() == 12); // s{0,1,2}.{loss_cls, acc, loss_bbox, loss_mask}
  for (const auto& [name, value] : losses) {
    CAPTURE(name);
    MESSAGE(name, " splat ", value.item<double>(), " mmdet ",
            fx("train.loss." + name).item<double>());
    check_close(value, fx("train.loss." + name), 2e-4, 1e-6);
  }
  // The mask heads' gradients: conv_logits' within 2e-6 of each tensor's scale, growing through
  // the train-mode BNs' backward to 2.1e-3 (stage 0's second conv; float32 rounding of two
  // summation orders, cancelled by the BN's mean subtraction).
  autograd::backward(models::total_loss(losses));
  int checked = 0;
  for (const auto& [name, param] : head.mask_head->named_parameters()) {
    CAPTURE(name);
    REQUIRE_MESSAGE(param.grad().defined(), name, " has no gradient");
    check_scaled(param.grad(), fx("grad.roi_head.mask_head." + name), 5e-3);
    ++checked;
  }
  CHECK(checked == static_cast<int>(fx.with_prefix("grad.").size()));
  CHECK(checked ==
        3 * (2 * 3 + 4)); // per stage: 2 x (conv, bn weight, bn bias), upsample, conv_logits

  // The whole training step as one call, with splat's own proposals.
  auto fresh = fixture_model();
  fresh->train();
  const models::LossMap all = fresh->forward_train(input);
  CHECK(all.size() == 14);
  for (const auto& [name, value] : all) {
    CAPTURE(name);
    check_close(value, fx("train.loss." + name), 2e-4, 1e-6);
  }
}

TEST_CASE(
    "mmdet Cascade Mask R-CNN: the stages' mean mask probabilities, pasted masks and detections") {
  auto model = fixture_model();
  model->eval();
  const models::DetectorInput input = fx.input();
  const auto feats = model->extract_features(input.images);
  auto& head = dynamic_cast<models::CascadeMaskRoiHead&>(*model->roi_head);

  // The three mask heads on MMDetection's final boxes (resized-image pixels, as it feeds them).
  std::vector<models::Detections> boxes(2);
  for (size_t i = 0; i < 2; ++i) {
    const std::string p = "test.det." + std::to_string(i) + ".";
    boxes[i].boxes = fx(p + "resized_boxes");
    boxes[i].labels = fx(p + "labels");
  }
  const std::vector<Tensor> probs = head.mask_probs(feats, boxes);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    check_scaled(probs[i], fx("test.det." + std::to_string(i) + ".probs"));
  }

  // The paste alone, from MMDetection's mean probabilities and boxes: its masks, every pixel.
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    const std::string p = "test.det." + std::to_string(i) + ".";
    std::vector<models::Detections> one(1);
    one[0].boxes = fx(p + "resized_boxes");
    models::paste_detections(one, {fx(p + "probs")}, {input.infos[i]}, /*rescale=*/true, 0.5);
    check_equal(one[0].boxes, fx(p + "boxes"));
    check_equal(ops::to(one[0].masks, DType::u8), fx(p + "masks"));
  }

  // The whole RoI stage from MMDetection's proposals: the same detections, row for row up to
  // order, each with the same mask up to boundary pixels the probabilities' float32 noise flips.
  const auto dets = head.predict(feats, fx.proposals("test"), input.infos, /*rescale=*/true);
  const auto [differing, pixels] = fx.check_detections_with_masks(dets);
  MESSAGE(differing, " of ", pixels, " mask pixels differ");
  CHECK(differing <= pixels / 20000);

  // The detector's own predict (its proposals): detections with masks over ori_shape.
  const auto own = model->predict(input);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    fx.check_matched(own[i].boxes, own[i].scores, own[i].labels,
                     "test.det." + std::to_string(i) + ".", 5);
    CHECK(own[i].masks.shape() == Shape{own[i].boxes.size(0), input.infos[i].ori_shape.height,
                                        input.infos[i].ori_shape.width});
  }
}
