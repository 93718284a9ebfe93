// Parity with the real MMDetection 3.3 (scripts/fixtures/mmdet_mask_rcnn.py): a narrow ResNeSt
// Mask R-CNN with MMDetection's random weights, fixed inputs and BitmapMasks ground truth gives
// the same sampled RoIs (the R-CNN assigner with low-quality matching), mask targets, mask
// logits, losses (loss_mask with the others), RoI-head gradients, detections, and pasted
// masks. The RPN, FPN and backbone parts are test_mmdet_faster_rcnn.cpp's; here the RoI stage
// runs from MMDetection's proposals so that no RoI differs.
#include "autograd/engine.h"
#include "ops/class_select.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/models/detection/mmdet_fixture.h"
#include "tests/models/detection/narrow_mask_rcnn.h"

using namespace splat;
using splat::test::check_close;
using splat::test::check_equal;
using splat::test::check_scaled;

namespace {

const test::MmdetFixture& fx() {
  static const test::MmdetFixture f(SPLAT_SOURCE_DIR "/tests/fixtures/mmdet_mask_rcnn.safetensors");
  return f;
}

std::shared_ptr<models::TwoStageDetector> fixture_model() {
  models::StandardRoiHeadConfig box = test::narrow_mask_roi_head_config();
  box.test.max_per_img = 20; // the fixture's (spec: 100), which keeps its pasted masks small
  auto model = std::make_shared<models::TwoStageDetector>(
      test::narrow_two_stage_config(),
      std::make_shared<models::MaskRoiHead>(box, test::narrow_mask_branch_config()));
  model->load_state_dict(fx().with_prefix("weights."));
  return model;
}

} // namespace

TEST_CASE(
    "mmdet Mask R-CNN: sampled RoIs, mask targets, mask logits, losses and RoI-head gradients") {
  auto model = fixture_model();
  model->train();
  const models::DetectorInput input = fx().input();
  const auto feats = model->extract_features(input.images);
  auto& head = dynamic_cast<models::MaskRoiHead&>(*model->roi_head);
  const std::vector<models::Proposals> theirs = fx().proposals("train");
  const auto samples = head.sample(theirs, input, nullptr);
  check_equal(models::sampled_rois(samples), fx()("train.roi.rois"));
  check_equal(head.bbox_head->targets(samples).labels, fx()("train.roi.labels"));

  const Tensor targets = head.mask_head->targets(samples, input.targets, 28);
  check_equal(targets, fx()("train.mask.targets"));
  std::vector<Tensor> pos_boxes, pos_labels;
  for (const auto& s : samples)
    pos_boxes.push_back(s.pos_bboxes), pos_labels.push_back(s.pos_gt_labels);
  const Tensor logits = head.mask_head->forward(
      head.mask_config.roi_extractor(feats, models::boxes_to_rois(pos_boxes)));
  check_scaled(ops::select_class_masks(logits, ops::cat(pos_labels)),
               fx()("train.mask.class_logits"));

  const auto rpn = model->rpn_head->forward(feats);
  models::LossMap losses = model->rpn_head->loss(rpn, input, model->config.rpn_train, nullptr);
  for (auto& [name, value] : head.loss(feats, theirs, input, nullptr)) losses[name] = value;
  REQUIRE(losses.size() == 6);
  for (const auto& [name, value] : losses) {
    CAPTURE(name);
    MESSAGE(name, " splat ", value.item<double>(), " mmdet ",
            fx()("train.loss." + name).item<double>());
    check_close(value, fx()("train.loss." + name), 2e-4, 1e-6);
  }
  autograd::backward(models::total_loss(losses));
  int checked = 0;
  for (const auto& [name, param] : model->named_parameters()) {
    if (!name.starts_with("roi_head.")) continue;
    CAPTURE(name);
    REQUIRE_MESSAGE(param.grad().defined(), name, " has no gradient");
    check_scaled(param.grad(), fx()("grad." + name), 2e-3);
    ++checked;
  }
  CHECK(checked == static_cast<int>(fx().with_prefix("grad.").size()));
  CHECK(checked == 4 * 3 + 6 + 2 * 3 + 4); // box head, then 2 mask convs + upsample + conv_logits
}

TEST_CASE("mmdet Mask R-CNN: mask logits of the detections, and the masks pasted over the original "
          "images") {
  auto model = fixture_model();
  model->eval();
  const models::DetectorInput input = fx().input();
  const auto feats = model->extract_features(input.images);
  auto& head = dynamic_cast<models::MaskRoiHead&>(*model->roi_head);

  // The mask head on MMDetection's final boxes (resized-image pixels, as it feeds them).
  std::vector<Tensor> boxes, labels;
  for (int i = 0; i < 2; ++i) {
    boxes.push_back(fx()("test.det." + std::to_string(i) + ".resized_boxes"));
    labels.push_back(fx()("test.det." + std::to_string(i) + ".labels"));
  }
  const Tensor logits =
      head.mask_head->forward(head.mask_config.roi_extractor(feats, models::boxes_to_rois(boxes)));
  const Tensor selected = ops::select_class_masks(logits, ops::cat(labels));
  check_scaled(selected,
               ops::cat({fx()("test.det.0.class_logits"), fx()("test.det.1.class_logits")}));

  // The paste alone, from MMDetection's probabilities and boxes: its masks, every pixel.
  for (int i = 0; i < 2; ++i) {
    CAPTURE(i);
    const std::string p = "test.det." + std::to_string(i) + ".";
    std::vector<models::Detections> one(1);
    one[0].boxes = fx()(p + "resized_boxes");
    models::paste_detections(one, {ops::sigmoid(fx()(p + "class_logits"))}, {input.infos[i]},
                             /*rescale=*/true, 0.5);
    check_equal(one[0].boxes, fx()(p + "boxes"));
    check_equal(ops::to(one[0].masks, DType::u8), fx()(p + "masks"));
  }

  // The whole RoI stage from MMDetection's proposals: the same detections, row for row up to
  // order, each with the same mask.
  const auto dets = head.predict(feats, fx().proposals("test"), input.infos, /*rescale=*/true);
  const auto [differing, pixels] = fx().check_detections_with_masks(dets);
  // The paste is exact (above), so a pixel flips only where the logits' float32 noise (a few
  // 1e-5, another summation order) moves a boundary pixel across 0.5: measured 7 of 525,760.
  MESSAGE(differing, " of ", pixels, " mask pixels differ");
  CHECK(differing <= pixels / 20000);

  // The detector's own predict (its proposals): masks of every detection, over ori_shape.
  const auto own = model->predict(input);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    fx().check_matched(own[i].boxes, own[i].scores, own[i].labels,
                       "test.det." + std::to_string(i) + ".", 5);
    CHECK(own[i].masks.shape() == Shape{own[i].boxes.size(0), input.infos[i].ori_shape.height,
                                        input.infos[i].ori_shape.width});
  }
}
