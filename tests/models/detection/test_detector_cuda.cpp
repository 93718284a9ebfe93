// A full training step of the narrow Faster R-CNN and of the narrow Cascade R-CNN on the CPU and
// on the emulated CUDA device:
// the same weights, the same batch and the same sampler seed give the same losses and the same
// gradient for every parameter. The samplers are the spec's random ones (256 anchors per image;
// 64 RoIs instead of 512, which keeps the emulated box head fast and still subsamples the
// 1000 proposals), so this also checks that Philox draws the same anchors and RoIs on both
// devices.
//
// In float64, as tests/models/test_resnest.cpp's CUDA training test: with a batch of 2 the
// split-attention BNs normalise 2 values per channel, which amplifies float32 rounding far
// beyond float32 epsilon in the backbone's gradients (see test_mmdet_faster_rcnn.cpp); in
// float64 both devices must agree to 1e-8.
#include "autograd/engine.h"
#include "ops/copy.h"
#include "tests/helpers.h"
#include "tests/models/detection/narrow_cascade_rcnn.h"
#include "tests/models/detection/narrow_faster_rcnn.h"
#include "tests/models/detection/tiny_detector_input.h"

using namespace splat;
using splat::test::check_close;

namespace {

// The narrow detectors with random samplers instead of the fixture's sample-all.
std::shared_ptr<models::TwoStageDetector> sampling_faster_rcnn() {
  models::TwoStageConfig c = test::narrow_two_stage_config();
  c.rpn_train = models::RpnTrainConfig{};
  models::StandardRoiHeadConfig r = test::narrow_roi_head_config();
  r.train = models::RcnnTrainConfig{};
  r.train.sampler.num = 64;
  return std::make_shared<models::TwoStageDetector>(c, std::make_shared<models::StandardRoiHead>(r));
}

std::shared_ptr<models::TwoStageDetector> sampling_cascade_rcnn() {
  models::TwoStageConfig c = test::narrow_cascade_two_stage_config();
  c.rpn_train.sampler = models::RpnTrainConfig{}.sampler;
  models::CascadeRoiHeadConfig r = test::narrow_cascade_roi_head_config();
  for (auto& s : r.stages) s.train.sampler = {.num = 64, .pos_fraction = 0.25, .neg_pos_ub = -1, .add_gt_as_proposals = true};
  return std::make_shared<models::TwoStageDetector>(c, std::make_shared<models::CascadeRoiHead>(r));
}

// Two copies of make() with the same weights, one per device, take one step on the same batch
// with the same sampler seed: the losses (num_losses of them), every gradient and the BN running
// statistics agree.
void check_training_step(std::shared_ptr<models::TwoStageDetector> (*make)(), size_t num_losses) {
  manual_seed(8);
  auto cpu = make(), gpu = make();
  cpu->to(DType::f64);
  gpu->to(DType::f64);
  gpu->load_state_dict(cpu->state_dict());
  gpu->to(Device::cuda(0));
  cpu->train();
  gpu->train();
  const models::DetectorInput in_cpu = test::tiny_detector_input(DType::f64);
  const models::DetectorInput in_gpu = test::tiny_detector_input(DType::f64, Device::cuda(0));
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
  CHECK(checked > 40);
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
  check_training_step(sampling_faster_rcnn, 5);
}

// Also checks that the three stages sample the same RoIs from the same refined boxes.
TEST_CASE("a Cascade R-CNN training step is the same on the CPU and the emulated CUDA device") {
  check_training_step(sampling_cascade_rcnn, 11);
}

TEST_SUITE_END();
