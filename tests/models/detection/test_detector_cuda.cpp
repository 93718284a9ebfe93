// A full training step of the narrow Faster, Mask, Cascade and Cascade Mask R-CNN on the CPU and
// on the emulated CUDA device: the same weights, the same batch and the same sampler seed give the same losses and
// the same gradient for every parameter. The samplers are the spec's random ones (256 anchors
// per image; 64 RoIs instead of 512, which keeps the emulated heads fast and still subsamples
// the 1000 proposals), so this also checks that Philox draws the same anchors and RoIs on both
// devices. The Mask R-CNN batch has ellipse masks in its GT boxes, held on the CPU for both
// devices (BitmapMasks moves what the RoIs need). The cascade's three stages must also sample the
// same RoIs from the same refined boxes. The Cascade Mask R-CNN's detections and their masks
// (the stages' mean probabilities, pasted) are the same on both devices too.
//
// In float64, as tests/models/test_resnest.cpp's CUDA training test: with a batch of 2 the
// split-attention BNs normalise 2 values per channel, which amplifies float32 rounding far
// beyond float32 epsilon in the backbone's gradients (see test_mmdet_faster_rcnn.cpp); in
// float64 both devices must agree to 1e-8.
#include "autograd/engine.h"
#include "ops/copy.h"
#include "tests/helpers.h"
#include "tests/models/detection/narrow_cascade_mask_rcnn.h"
#include "tests/models/detection/tiny_detector_input.h"

using namespace splat;
using splat::test::check_close;

namespace {

// The spec's random samplers instead of the fixture's sample-all.
models::StandardRoiHeadConfig sampling(models::StandardRoiHeadConfig r) {
  r.train.sampler = models::RcnnTrainConfig{}.sampler;
  r.train.sampler.num = 64;
  return r;
}

models::TwoStageConfig sampling_two_stage() {
  models::TwoStageConfig c = test::narrow_two_stage_config();
  c.rpn_train = models::RpnTrainConfig{};
  return c;
}

std::shared_ptr<models::TwoStageDetector> sampling_faster_rcnn() {
  return std::make_shared<models::TwoStageDetector>(
      sampling_two_stage(), std::make_shared<models::StandardRoiHead>(sampling(test::narrow_roi_head_config())));
}

std::shared_ptr<models::TwoStageDetector> sampling_mask_rcnn() {
  return std::make_shared<models::TwoStageDetector>(
      sampling_two_stage(), std::make_shared<models::MaskRoiHead>(sampling(test::narrow_mask_roi_head_config()),
                                                                   test::narrow_mask_branch_config()));
}

models::TwoStageConfig sampling_cascade_two_stage() {
  models::TwoStageConfig c = test::narrow_cascade_two_stage_config();
  c.rpn_train.sampler = models::RpnTrainConfig{}.sampler;
  return c;
}

models::CascadeRoiHeadConfig sampling_cascade_roi_head() {
  models::CascadeRoiHeadConfig r = test::narrow_cascade_roi_head_config();
  for (auto& s : r.stages) s.train.sampler = {.num = 64, .pos_fraction = 0.25, .neg_pos_ub = -1, .add_gt_as_proposals = true};
  return r;
}

std::shared_ptr<models::TwoStageDetector> sampling_cascade_rcnn() {
  return std::make_shared<models::TwoStageDetector>(sampling_cascade_two_stage(),
                                                    std::make_shared<models::CascadeRoiHead>(sampling_cascade_roi_head()));
}

std::shared_ptr<models::TwoStageDetector> sampling_cascade_mask_rcnn() {
  return test::narrow_cascade_mask_rcnn(sampling_cascade_roi_head(), sampling_cascade_two_stage());
}

void check_training_step(std::shared_ptr<models::TwoStageDetector> (*make)(), bool with_masks, size_t num_losses,
                         int min_params) {
  manual_seed(8);
  auto cpu = make(), gpu = make();
  cpu->to(DType::f64);
  gpu->to(DType::f64);
  gpu->load_state_dict(cpu->state_dict());
  gpu->to(Device::cuda(0));
  cpu->train();
  gpu->train();
  models::DetectorInput in_cpu = test::tiny_detector_input(DType::f64);
  models::DetectorInput in_gpu = test::tiny_detector_input(DType::f64, Device::cuda(0));
  if (with_masks) in_cpu = test::with_ellipse_masks(in_cpu), in_gpu = test::with_ellipse_masks(in_gpu);
  Generator gen_cpu(21), gen_gpu(21);
  const models::LossMap lc = cpu->forward_train(in_cpu, &gen_cpu);
  const models::LossMap lg = gpu->forward_train(in_gpu, &gen_gpu);
  REQUIRE(lc.size() == num_losses);
  REQUIRE(lg.size() == lc.size());
  for (const auto& [name, value] : lc) {
    CAPTURE(name);
    REQUIRE(lg.count(name));
    CHECK(lg.at(name).device() == Device::cuda(0));
    MESSAGE(name, " cpu ", value.item<double>(), " cuda ", lg.at(name).item<double>());
    check_close(lg.at(name), value, 1e-10, 1e-12);
  }
  autograd::backward(models::total_loss(lc));
  autograd::backward(models::total_loss(lg));
  const auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
  REQUIRE(pc.size() == pg.size());
  int checked = 0;
  for (size_t i = 0; i < pc.size(); ++i) {
    CAPTURE(pc[i].first);
    REQUIRE(pg[i].first == pc[i].first);
    if (!pc[i].second.requires_grad()) continue;
    REQUIRE(pc[i].second.grad().defined());
    REQUIRE(pg[i].second.grad().defined());
    CHECK(pg[i].second.grad().device() == Device::cuda(0));
    check_close(pg[i].second.grad(), pc[i].second.grad(), 1e-8, 1e-10);
    ++checked;
  }
  MESSAGE(checked, " parameter gradients compared");
  CHECK(checked > min_params);
  // The BN running statistics the step updated.
  const auto sc = cpu->state_dict(), sg = gpu->state_dict();
  for (const auto& [name, t] : sc)
    if (name.ends_with("running_var")) {
      CAPTURE(name);
      check_close(sg.at(name), t, 1e-10, 1e-12);
    }
}

} // namespace

TEST_SUITE_BEGIN("cuda detection models" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("a Faster R-CNN training step is the same on the CPU and the emulated CUDA device") {
  check_training_step(sampling_faster_rcnn, /*with_masks=*/false, 5, 40);
}

TEST_CASE("a Mask R-CNN training step is the same on the CPU and the emulated CUDA device") {
  // 6 losses (loss_mask added), and the mask head's 10 parameters on top of Faster's.
  check_training_step(sampling_mask_rcnn, /*with_masks=*/true, 6, 50);
}

TEST_CASE("a Cascade R-CNN training step is the same on the CPU and the emulated CUDA device") {
  // 11 entries: the RPN's 2 losses and each stage's loss_cls, acc and loss_bbox.
  check_training_step(sampling_cascade_rcnn, /*with_masks=*/false, 11, 60);
}

TEST_CASE("a Cascade Mask R-CNN training step is the same on the CPU and the emulated CUDA device") {
  // 14 entries: the cascade's 11 and each stage's loss_mask; the cascade's 130 parameters and
  // the three mask heads' 10 each.
  check_training_step(sampling_cascade_mask_rcnn, /*with_masks=*/true, 14, 150);
}

TEST_CASE("Cascade Mask R-CNN detections and masks are the same on the CPU and the emulated CUDA device") {
  models::CascadeRoiHeadConfig roi = test::narrow_cascade_roi_head_config();
  roi.test.score_thr = 0; // random weights: keep every box, so that there are masks to compare
  models::TwoStageConfig ts = test::narrow_cascade_two_stage_config();
  ts.rpn_proposal_test.max_per_img = 50; // fewer RoIs through the emulated heads
  manual_seed(12);
  auto cpu = test::narrow_cascade_mask_rcnn(roi, ts), gpu = test::narrow_cascade_mask_rcnn(roi, ts);
  cpu->to(DType::f64);
  gpu->to(DType::f64);
  gpu->load_state_dict(cpu->state_dict());
  gpu->to(Device::cuda(0));
  cpu->eval();
  gpu->eval();
  const auto dc = cpu->predict(test::tiny_detector_input(DType::f64));
  const auto dg = gpu->predict(test::tiny_detector_input(DType::f64, Device::cuda(0)));
  REQUIRE(dc.size() == 2);
  REQUIRE(dg.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    REQUIRE(dc[i].boxes.size(0) > 0);
    CHECK(dg[i].masks.device() == Device::cuda(0));
    check_close(ops::to(dg[i].boxes, Device::cpu()), dc[i].boxes, 1e-10, 1e-10);
    check_close(ops::to(dg[i].scores, Device::cpu()), dc[i].scores, 1e-10, 1e-12);
    test::check_equal(ops::to(dg[i].labels, Device::cpu()), dc[i].labels);
    test::check_equal(ops::to(dg[i].masks, Device::cpu()), dc[i].masks);
  }
}

TEST_SUITE_END();
