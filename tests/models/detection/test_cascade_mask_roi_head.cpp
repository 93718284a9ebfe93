// The Cascade Mask R-CNN RoI head (models/detection/cascade_mask_roi_head.h), on the narrow model
// (narrow_cascade_mask_rcnn.h) and the tiny batch with ellipse masks:
// - a float64 gradient check of the three stage-weighted s{i}.loss_mask terms with respect to
//   parameters of every stage's mask head, on the CPU and on the emulated CUDA device (each
//   stage's positives from one train_stages() call), and that CascadeMaskRoiHead::loss makes
//   exactly these terms;
// - edge cases: a stage without positives (its loss_mask is a zero that reaches its head with a
//   zero gradient), an image without GT boxes, images without detections at test time.
// Parity of every piece with MMDetection is test_mmdet_cascade_mask_rcnn.cpp.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "ops/copy.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/models/detection/narrow_cascade_mask_rcnn.h"
#include "tests/models/detection/tiny_detector_input.h"

#include <algorithm>

using namespace splat;
using splat::test::check_equal;

namespace {

// The spec's random R-CNN sampler with 32 RoIs per image: few positives per stage, which keeps
// the numeric Jacobians cheap.
models::CascadeRoiHeadConfig sampled_stages() {
  models::CascadeRoiHeadConfig c = test::narrow_cascade_roi_head_config();
  for (auto& s : c.stages) s.train.sampler.num = 32;
  return c;
}

struct Case {
  std::shared_ptr<models::TwoStageDetector> model;
  models::CascadeMaskRoiHead* head = nullptr;
  models::DetectorInput input;
  std::vector<Tensor> feats; // detached FPN maps
  std::vector<models::Proposals> proposals;
};

Case make_case(Device device, const models::CascadeRoiHeadConfig& roi = sampled_stages()) {
  manual_seed(23);
  Case c;
  c.model = test::narrow_cascade_mask_rcnn(roi);
  c.model->to(DType::f64);
  c.model->to(device);
  c.model->train();
  c.head = &dynamic_cast<models::CascadeMaskRoiHead&>(*c.model->roi_head);
  c.input = test::with_ellipse_masks(test::tiny_detector_input(DType::f64, device));
  autograd::NoGradGuard no_grad;
  c.feats = c.model->extract_features(c.input.images);
  c.proposals = c.model->rpn_head->predict(c.model->rpn_head->forward(c.feats), c.input.infos,
                                           c.model->config.rpn_proposal_train);
  return c;
}

models::LossMap losses_of(Case& c) {
  Generator gen(3);
  return c.head->loss(c.feats, c.proposals, c.input, &gen);
}

// Every stage's weighted loss_mask as CascadeMaskRoiHead::loss makes it (the test below checks
// that it does), over the positives of one train_stages() call: the box stages are
// gradient-free for the mask heads, so holding their samples fixed changes nothing.
void check_mask_gradients(Case& c, const std::vector<std::string>& params) {
  Generator gen(3);
  const auto stages = c.head->train_stages(c.feats, c.proposals, c.input, &gen).stages;
  REQUIRE(stages.size() == 3);
  std::vector<Tensor> inputs;
  const auto named = c.head->named_parameters();
  for (const std::string& name : params) {
    const auto it =
        std::find_if(named.begin(), named.end(), [&](const auto& p) { return p.first == name; });
    REQUIRE_MESSAGE(it != named.end(), "no parameter ", name);
    inputs.push_back(it->second);
  }
  const auto fn = [&](const std::vector<Tensor>&) {
    models::LossMap losses;
    for (size_t s = 0; s < 3; ++s)
      c.head->add_stage_losses(
          losses, s,
          {{"loss_mask", models::mask_branch_loss(c.head->stage_mask_head(s), c.head->mask_config,
                                                  c.feats, stages[s].samples, c.input.targets)}});
    std::vector<Tensor> out;
    for (const auto& [name, value] : losses) out.push_back(value);
    return out;
  };
  for (const Tensor& l : fn(inputs)) CHECK(l.item<double>() > 0); // every stage has positives
  CHECK_GRADCHECK(fn, inputs, {.eps = 1e-6, .atol = 1e-9, .rtol = 1e-4});
}

} // namespace

TEST_CASE("cascade mask roi head: float64 gradcheck of the stage-weighted loss_mask terms") {
  Case c = make_case(Device::cpu());
  check_mask_gradients(c, {"mask_head.0.convs.0.bn.weight", "mask_head.0.conv_logits.bias",
                           "mask_head.1.upsample.bias", "mask_head.2.convs.1.bn.bias",
                           "mask_head.2.conv_logits.bias"});
}

TEST_CASE("cascade mask roi head: losses per stage, weighted like the stage's box losses") {
  Case c = make_case(Device::cpu());
  const models::LossMap losses = losses_of(c);
  CHECK(losses.size() == 12);
  // The same mask loss unweighted: stage s's head on stage s's positives.
  Generator gen(3);
  const auto r = c.head->train_stages(c.feats, c.proposals, c.input, &gen);
  const double weights[] = {1.0, 0.5, 0.25};
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    const Tensor plain = models::mask_branch_loss(c.head->stage_mask_head(s), c.head->mask_config,
                                                  c.feats, r.stages[s].samples, c.input.targets);
    test::check_close(losses.at(str("s", s, ".loss_mask")), ops::mul(plain, weights[s]), 1e-12,
                      1e-14);
  }
}

TEST_CASE(
    "cascade mask roi head: a stage without positives has a zero loss_mask that reaches its head") {
  models::CascadeRoiHeadConfig roi = sampled_stages();
  // No IoU reaches 1.01 and no GT box is injected (the sampler would make it a positive).
  roi.stages[2].train.assigner.pos_iou_thr = roi.stages[2].train.assigner.min_pos_iou = 1.01;
  roi.stages[2].train.sampler.add_gt_as_proposals = false;
  Case c = make_case(Device::cpu(), roi);
  const models::LossMap losses = losses_of(c);
  CHECK(losses.at("s1.loss_mask").item<double>() > 0);
  CHECK(losses.at("s2.loss_mask").item<double>() == 0);
  CHECK(losses.at("s2.loss_mask").requires_grad());
  autograd::backward(models::total_loss(losses));
  for (const auto& [name, p] : c.head->mask_head->named_parameters()) {
    CAPTURE(name);
    REQUIRE(p.grad().defined());
    if (name.starts_with("2.")) check_equal(p.grad(), ops::zeros_like(p.grad()));
  }
}

TEST_CASE("Cascade Mask R-CNN trains with an image without GT boxes") {
  Case c = make_case(Device::cpu());
  c.input.targets[1] = {
      ops::zeros({0, 4}, {.dtype = DType::f64}),
      ops::zeros({0}, {.dtype = DType::i64}),
      {},
      std::make_shared<models::BitmapMasks>(ops::zeros({0, 64, 96}, {.dtype = DType::u8}))};
  const models::LossMap losses = c.model->forward_train(c.input);
  CHECK(losses.size() == 14);
  for (const auto& [name, value] : losses) {
    CAPTURE(name);
    CHECK(std::isfinite(value.item<double>()));
  }
  CHECK(losses.at("s0.loss_mask").item<double>() > 0); // image 0's positives
  autograd::backward(models::total_loss(losses));
}

TEST_CASE("cascade mask inference: images without detections get (0, H, W) masks") {
  Case c = make_case(Device::cpu());
  c.model->eval();
  autograd::NoGradGuard no_grad;
  std::vector<models::Proposals> none = c.proposals;
  for (auto& p : none) p.boxes = ops::zeros({0, 4}, {.dtype = DType::f64});
  const auto dets = c.head->predict(c.feats, none, c.input.infos, /*rescale=*/true);
  REQUIRE(dets.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(dets[i].masks.shape() ==
          Shape{0, c.input.infos[i].ori_shape.height, c.input.infos[i].ori_shape.width});
  }
}

TEST_SUITE_BEGIN("cuda detection models" * doctest::skip(splat::test::no_cuda_device()));

// A subset on the device: conv_logits' bias of stages 0 and 2; every gradient of a training
// step is compared with the CPU's in test_detector_cuda.cpp.
TEST_CASE("cuda cascade mask roi head: float64 gradcheck of the stage-weighted loss_mask terms") {
  Case c = make_case(Device::cuda(0));
  check_mask_gradients(c, {"mask_head.0.conv_logits.bias", "mask_head.2.conv_logits.bias"});
}

TEST_SUITE_END();
