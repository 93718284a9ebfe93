// Parity with the real MMDetection 3.3 (scripts/fixtures/mmdet_cascade_rcnn.py): the narrow
// ResNeSt Cascade R-CNN with MMDetection's random weights and fixed inputs gives the same
// proposals, every stage's sampled RoIs, targets, class scores and box deltas, the refined boxes
// between the stages, the stage-weighted losses, the RoI head's gradients, the test-time RoIs of
// every stage and the final detections, within float32 tolerance. The RoI stages run from
// MMDetection's proposals, so that their checks do not depend on the RPN's.
#include "autograd/engine.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "tests/models/detection/mmdet_fixture.h"
#include "tests/models/detection/narrow_cascade_rcnn.h"

using namespace splat;
using splat::test::check_close;
using splat::test::check_equal;
using splat::test::check_scaled;

namespace {

const test::MmdetFixture fx(SPLAT_SOURCE_DIR "/tests/fixtures/mmdet_cascade_rcnn.safetensors");

std::shared_ptr<models::TwoStageDetector> fixture_model() {
  auto model = test::narrow_cascade_rcnn();
  model->load_state_dict(fx.with_prefix("weights."));
  return model;
}

const char* const kStageLosses[] = {"loss_cls", "acc", "loss_bbox"};

// The box heads' outputs from the same RoIs: measured up to 2.3e-4 of each tensor's scale (the
// FPN maps already differ from MMDetection's by about 1e-4 of theirs).
constexpr double kOutputTol = 5e-4;

} // namespace

TEST_CASE("mmdet Cascade R-CNN: every stage's RoIs, targets, outputs, refined boxes, losses and gradients") {
  auto model = fixture_model();
  model->train();
  const models::DetectorInput input = fx.input();
  const auto feats = model->extract_features(input.images);
  const auto rpn = model->rpn_head->forward(feats);
  const auto proposals = model->rpn_head->predict(rpn, input.infos, model->config.rpn_proposal_train);
  for (size_t i = 0; i < 2; ++i)
    fx.check_matched(proposals[i].boxes, proposals[i].scores, {}, "train.proposals." + std::to_string(i) + ".", 4);

  auto& head = dynamic_cast<models::CascadeRoiHead&>(*model->roi_head);
  const auto r = head.train_stages(feats, fx.proposals("train"), input, nullptr);
  REQUIRE(r.stages.size() == 3);
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    const std::string p = str("train.s", s, ".");
    const auto& st = r.stages[s];
    // Stage 0 samples the proposals themselves; later stages boxes regressed in float32 by
    // deltas of features that differ from MMDetection's in the 5th digit (about 0.005 px here).
    if (s == 0)
      check_equal(st.rois, fx(p + "rois"));
    else
      check_scaled(st.rois, fx(p + "rois"), 1e-4);
    check_equal(st.targets.labels, fx(p + "labels"));
    check_scaled(st.targets.bbox_targets, fx(p + "bbox_targets"), 1e-3);
    check_scaled(st.out.cls_score, fx(p + "cls_score"), kOutputTol);
    check_scaled(st.out.bbox_pred, fx(p + "bbox_pred"), kOutputTol);
    if (s < 2)
      for (size_t i = 0; i < 2; ++i) {
        CAPTURE(i);
        check_scaled(r.refined[s][i], fx(str(p, "refined.", i)), 1e-4);
      }
    for (const char* name : kStageLosses) {
      const std::string key = str("s", s, ".", name);
      CAPTURE(key);
      REQUIRE(r.losses.count(key));
      check_close(r.losses.at(key), fx("train.loss." + key), 2e-4, 1e-6);
    }
  }
  CHECK(r.losses.size() == 9);

  // The RoI head's gradients of the same losses (the RPN's do not reach its parameters): three
  // heads' worth of float32 rounding, measured up to 4e-3 of each tensor's scale.
  autograd::backward(models::total_loss(r.losses));
  int checked = 0;
  for (const auto& [name, param] : head.named_parameters()) {
    CAPTURE(name);
    REQUIRE_MESSAGE(param.grad().defined(), name, " has no gradient");
    check_scaled(param.grad(), fx("grad.roi_head." + name), 5e-3);
    ++checked;
  }
  CHECK(checked == static_cast<int>(fx.with_prefix("grad.").size()));

  // The whole training step as one call, with splat's own proposals.
  auto fresh = fixture_model();
  fresh->train();
  const models::LossMap losses = fresh->forward_train(input);
  CHECK(losses.size() == 11);
  for (const auto& [name, value] : losses) {
    CAPTURE(name);
    check_close(value, fx("train.loss." + name), 2e-4, 1e-6);
  }
}

TEST_CASE("mmdet Cascade R-CNN: test-time stages, averaged scores and detections") {
  auto model = fixture_model();
  model->eval();
  const models::DetectorInput input = fx.input();
  const auto feats = model->extract_features(input.images);
  const auto proposals = model->rpn_head->predict(model->rpn_head->forward(feats), input.infos,
                                                  model->config.rpn_proposal_test);
  for (size_t i = 0; i < 2; ++i)
    fx.check_matched(proposals[i].boxes, proposals[i].scores, {}, "test.proposals." + std::to_string(i) + ".", 4);

  auto& head = dynamic_cast<models::CascadeRoiHead&>(*model->roi_head);
  const auto theirs = fx.proposals("test");
  const auto r = head.test_stages(feats, theirs, input.infos);
  Tensor sum;
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    const std::string p = str("test.s", s, ".");
    check_scaled(r.stage_rois[s], fx(p + "rois"), 1e-4);
    const auto out = head.forward_boxes(s, feats, fx(p + "rois"));
    check_scaled(out.cls_score, fx(p + "cls_score"), kOutputTol);
    check_scaled(out.bbox_pred, fx(p + "bbox_pred"), kOutputTol);
    sum = s ? ops::add(sum, fx(p + "cls_score")) : fx(p + "cls_score");
  }
  // From splat's own stage RoIs (0.005 px off MMDetection's), measured 8e-4.
  check_scaled(r.cls_score, ops::div(sum, 3.0), 2e-3);
  check_scaled(r.bbox_pred, fx("test.s2.bbox_pred"), 2e-3);

  const auto from_theirs = head.predict(feats, theirs, input.infos, /*rescale=*/true);
  const auto dets = model->predict(input);
  REQUIRE(dets.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    const std::string p = "test.det." + std::to_string(i) + ".";
    fx.check_matched(from_theirs[i].boxes, from_theirs[i].scores, from_theirs[i].labels, p, 0);
    fx.check_matched(dets[i].boxes, dets[i].scores, dets[i].labels, p, 5);
  }
}
