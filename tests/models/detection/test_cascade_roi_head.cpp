// The Cascade R-CNN RoI head (models/detection/cascade_roi_head.h):
// - a float64 gradient check of the three stages' weighted losses (RoIAlign extractor -> each
//   stage's box head -> its losses x the stage weight) with respect to the FPN maps and some
//   parameters of every stage, on the CPU and on the emulated CUDA device. Each stage's RoIs and
//   targets come from one train_stages() call beforehand: the refinement between stages is
//   gradient-free (mmdet refines under no_grad), so the checked function holds them fixed;
// - the refinement: the next stage's proposals are this stage's sampled RoIs regressed by its
//   deltas without the injected GT boxes, an image without GT keeping all its RoIs;
// - edge cases: an image without GT boxes, a stage without positives (its box loss is a zero
//   that still reaches the graph, as mmdet's), a batch without any RoI, images without
//   proposals at test time;
// - inference: every stage reads the previous stage's regressed RoIs and the scores are the mean
//   of the stages' raw logits.
// Sizes as tests/models/detection/test_roi_head_gradcheck.cpp (2 channels, fc 8, 3 classes,
// 32x48 images, finest_scale 4 so that small RoIs reach all four levels).
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "models/detection/cascade_roi_head.h"
#include "ops/copy.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/models/detection/narrow_cascade_rcnn.h"
#include "tests/models/detection/tiny_detector_input.h"

#include <algorithm>

using namespace splat;
using splat::test::check_close;
using splat::test::check_equal;

namespace {

models::CascadeRoiHeadConfig small_head_config() {
  models::BBoxHeadConfig head;
  head.in_channels = 2;
  head.conv_out_channels = 2;
  head.fc_out_channels = 8;
  head.num_classes = 3;
  models::CascadeRoiHeadConfig c;
  c.bbox_roi_extractor.finest_scale = 4;
  c.stages = models::cascade_rcnn_stages(head);
  return c;
}

Tensor boxes(std::vector<double> v, Device device) {
  return ops::to(ops::from_vector<double>(v, {static_cast<int64_t>(v.size() / 4), 4}), device);
}

struct Case {
  std::shared_ptr<models::CascadeRoiHead> head;
  std::vector<Tensor> feats; // P2..P5 of 2 images of 32x48: (2, 2, 8, 12) ... (2, 2, 1, 2)
  std::vector<models::Proposals> proposals;
  models::DetectorInput input;
};

Case make_case(Device device, const models::CascadeRoiHeadConfig& config = small_head_config()) {
  manual_seed(17);
  Case c;
  c.head = std::make_shared<models::CascadeRoiHead>(config);
  c.head->to(DType::f64);
  c.head->to(device);
  c.head->train();
  for (int64_t s : {8, 4, 2, 1}) c.feats.push_back(test::leaf({2, 2, s, s * 3 / 2 + (s == 1)}, -1, 1, device));
  // GTs: image 0 a 12x10 (P3) and a 24x22 (P4) box, image 1 a 30x22 (P5) box. Proposals of
  // every level at IoUs below 0.5, between 0.5 and 0.7 and above 0.7 with the GTs.
  c.proposals = {{boxes({4, 4, 15, 15, 5, 4, 16, 13, 21, 6, 44, 27, 2, 20, 8, 26, 30, 2, 36, 8, 0, 0, 40, 30}, device), {}},
                 {boxes({11, 8, 40, 31, 12, 10, 42, 29, 2, 2, 8, 8, 34, 20, 46, 30, 9, 7, 38, 30}, device), {}}};
  c.input.infos = {{.img_shape = {32, 48}, .pad_shape = {32, 48}, .ori_shape = {32, 48}},
                   {.img_shape = {32, 48}, .pad_shape = {32, 48}, .ori_shape = {32, 48}}};
  c.input.targets = {{boxes({4, 4, 16, 14, 20, 6, 44, 28}, device), ops::from_vector<int64_t>({0, 2}, {2}, device), {}},
                     {boxes({10, 8, 40, 30}, device), ops::from_vector<int64_t>({1}, {1}, device), {}}};
  return c;
}

std::vector<int64_t> levels_of(const Tensor& rois) { return test::to_vector<int64_t>(ops::map_roi_levels(rois, 4, 4)); }

int64_t count_below(const Tensor& labels, int64_t bound) {
  const auto l = test::to_vector<int64_t>(labels);
  return std::count_if(l.begin(), l.end(), [&](int64_t k) { return k < bound; });
}

void check_gradients(Case& c, const std::vector<int64_t>& levels_checked, const std::vector<std::string>& params) {
  Generator gen(3);
  const auto stages = c.head->train_stages(c.feats, c.proposals, c.input, &gen).stages;
  REQUIRE(stages.size() == 3);
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    CHECK(count_below(stages[s].targets.labels, 3) >= 3); // positives
    CHECK(count_below(stages[s].targets.labels, 4) > count_below(stages[s].targets.labels, 3)); // negatives
  }
  std::vector<int64_t> all_levels;
  for (const auto& st : stages)
    for (int64_t l : levels_of(st.rois)) all_levels.push_back(l);
  for (int64_t l = 0; l < 4; ++l) CHECK_MESSAGE(std::count(all_levels.begin(), all_levels.end(), l) > 0, "no RoI on level ", l);

  std::vector<Tensor> inputs;
  for (int64_t l = 0; l < 4; ++l) {
    const bool checked = std::count(levels_checked.begin(), levels_checked.end(), l) > 0;
    inputs.push_back(checked ? c.feats[l] : c.feats[l].detach());
  }
  const auto named = c.head->named_parameters();
  for (const std::string& name : params) {
    const auto it = std::find_if(named.begin(), named.end(), [&](const auto& p) { return p.first == name; });
    REQUIRE_MESSAGE(it != named.end(), "no parameter ", name);
    inputs.push_back(it->second);
  }
  // Every stage's weighted losses from the FPN maps in[0..3] over the recorded RoIs.
  const auto fn = [&](const std::vector<Tensor>& in) {
    const std::vector<Tensor> feats(in.begin(), in.begin() + 4);
    models::LossMap losses;
    for (size_t s = 0; s < 3; ++s)
      c.head->add_stage_losses(losses, s,
                               c.head->stage_head(s).loss(c.head->forward_boxes(s, feats, stages[s].rois), stages[s].targets));
    std::vector<Tensor> out;
    for (const auto& [name, value] : losses)
      if (name.find("loss") != std::string::npos) out.push_back(value);
    return out;
  };
  const auto out = fn(inputs);
  REQUIRE(out.size() == 6);
  for (const Tensor& l : out) CHECK(l.item<double>() > 0);
  // As the Faster R-CNN check: the losses are means over the RoIs, so atol must be small.
  CHECK_GRADCHECK(fn, inputs, {.eps = 1e-6, .atol = 1e-8, .rtol = 1e-4});
}

} // namespace

TEST_CASE("cascade roi head: float64 gradcheck of the three stages' weighted losses") {
  Case c = make_case(Device::cpu());
  check_gradients(c, {0, 1, 2, 3},
                  {"bbox_head.0.fc_reg.bias", "bbox_head.1.shared_convs.0.bn.weight", "bbox_head.1.fc_cls.weight",
                   "bbox_head.2.shared_fcs.0.bias", "bbox_head.2.fc_reg.weight"});
}

TEST_CASE("cascade roi head: losses are named and weighted per stage, refinement drops the injected GT boxes") {
  Case c = make_case(Device::cpu());
  Generator gen(3);
  const auto r = c.head->train_stages(c.feats, c.proposals, c.input, &gen);
  std::vector<std::string> names;
  for (const auto& [name, value] : r.losses) names.push_back(name);
  CHECK(names == std::vector<std::string>{"s0.acc", "s0.loss_bbox", "s0.loss_cls", "s1.acc", "s1.loss_bbox",
                                          "s1.loss_cls", "s2.acc", "s2.loss_bbox", "s2.loss_cls"});
  REQUIRE(r.refined.size() == 2);
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    const models::CascadeRoiHead::TrainStage& st = r.stages[s];
    const models::LossMap plain = c.head->stage_head(s).loss(st.out, st.targets);
    const double weight = std::vector<double>{1, 0.5, 0.25}[s];
    check_close(r.losses.at(str("s", s, ".loss_cls")), ops::mul(plain.at("loss_cls"), weight), 1e-12, 0);
    check_close(r.losses.at(str("s", s, ".loss_bbox")), ops::mul(plain.at("loss_bbox"), weight), 1e-12, 0);
    check_equal(r.losses.at(str("s", s, ".acc")), plain.at("acc"));
    if (s == 2) break;
    // Stage s + 1 samples from the regressed RoIs of stage s, without the GT rows: image i's
    // sampled rows are [GT boxes; proposals], so its refined boxes are its proposals' regressions.
    int64_t start = 0;
    for (size_t i = 0; i < 2; ++i) {
      CAPTURE(i);
      const auto& sample = st.samples[i];
      const int64_t k = sample.pos_inds.numel() + sample.neg_inds.numel();
      const int64_t num_gt = c.input.targets[i].boxes.size(0);
      const int64_t injected = ops::sum(sample.pos_is_gt).item<int64_t>();
      CHECK(injected == num_gt);
      const Tensor all = c.head->stage_head(s).regress(ops::narrow(st.rois, 0, start, k),
                                                       ops::narrow(st.out.bbox_pred, 0, start, k),
                                                       ops::narrow(st.targets.labels, 0, start, k), c.input.infos[i].img_shape);
      REQUIRE(r.refined[s][i].size(0) == k - num_gt);
      CHECK(!r.refined[s][i].requires_grad());
      // Sample-all: the positives are the GT boxes then the positive proposals.
      check_equal(ops::narrow(r.refined[s][i], 0, 0, sample.pos_inds.numel() - num_gt),
                  ops::narrow(all, 0, num_gt, sample.pos_inds.numel() - num_gt));
      start += k;
    }
  }
  autograd::backward(models::total_loss(r.losses));
  for (const auto& [name, p] : c.head->named_parameters()) {
    CAPTURE(name);
    CHECK(p.grad().defined());
  }
}

TEST_CASE("cascade roi head: a stage without positives has a zero box loss that reaches the graph") {
  // No GT boxes injected and no proposal at IoU >= 0.6: stage 0 trains on the proposals of IoU
  // in [0.5, 0.6), the refinement moves them by a tiny amount (fc_reg starts at std 0.001), so
  // stages 1 and 2 have only negatives.
  models::CascadeRoiHeadConfig config = small_head_config();
  for (auto& s : config.stages) s.train.sampler.add_gt_as_proposals = false;
  Case c = make_case(Device::cpu(), config);
  c.proposals = {{boxes({4, 4, 19, 18, 30, 2, 36, 8, 0, 0, 40, 30}, c.feats[0].device()), {}},
                 {boxes({2, 2, 8, 8, 34, 20, 46, 30}, c.feats[0].device()), {}}};
  Generator gen(3);
  const auto r = c.head->train_stages(c.feats, c.proposals, c.input, &gen);
  REQUIRE(r.stages.size() == 3);
  CHECK(count_below(r.stages[0].targets.labels, 3) == 1);
  CHECK(r.losses.at("s0.loss_bbox").item<double>() > 0);
  for (const char* stage : {"s1", "s2"}) {
    CAPTURE(stage);
    CHECK(r.losses.at(str(stage, ".loss_bbox")).item<double>() == 0);
    CHECK(r.losses.at(str(stage, ".loss_bbox")).requires_grad());
    CHECK(r.losses.at(str(stage, ".loss_cls")).item<double>() > 0);
  }
  CHECK(count_below(r.stages[1].targets.labels, 3) == 0);
  autograd::backward(models::total_loss(r.losses));
  // Stage 2's regression layer gets a gradient, and it is zero.
  for (const auto& [name, p] : c.head->named_parameters())
    if (name.starts_with("bbox_head.2.fc_reg.")) {
      CAPTURE(name);
      REQUIRE(p.grad().defined());
      check_equal(p.grad(), ops::zeros_like(p.grad()));
    }
}

TEST_CASE("Cascade R-CNN trains with an image without GT boxes") {
  manual_seed(4);
  auto model = test::narrow_cascade_rcnn();
  model->train();
  models::DetectorInput input = test::tiny_detector_input();
  input.targets[1] = {ops::zeros({0, 4}), ops::zeros({0}, {.dtype = DType::i64}), {}};
  const auto feats = model->extract_features(input.images);
  const auto rpn = model->rpn_head->forward(feats);
  const auto proposals = model->rpn_head->predict(rpn, input.infos, model->config.rpn_proposal_train);
  auto& head = dynamic_cast<models::CascadeRoiHead&>(*model->roi_head);
  const auto r = head.train_stages(feats, proposals, input, nullptr);
  REQUIRE(r.stages.size() == 3);
  for (size_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    // Image 1: every RoI negative, none injected, all regressed into the next stage.
    const auto& sample = r.stages[s].samples[1];
    CHECK(sample.pos_inds.numel() == 0);
    if (s < 2) CHECK(r.refined[s][1].size(0) == sample.neg_inds.numel());
    for (const char* name : {".loss_cls", ".loss_bbox", ".acc"}) {
      CAPTURE(name);
      const double v = r.losses.at(str("s", s, name)).item<double>();
      CHECK(std::isfinite(v));
    }
  }
  const models::LossMap losses = model->forward_train(input);
  CHECK(losses.size() == 11);
  autograd::backward(models::total_loss(losses));
}

TEST_CASE("cascade inference: each stage reads the previous stage's regressed RoIs, scores average the logits") {
  manual_seed(6);
  auto model = test::narrow_cascade_rcnn();
  model->eval();
  const models::DetectorInput input = test::tiny_detector_input();
  autograd::NoGradGuard no_grad;
  const auto feats = model->extract_features(input.images);
  const auto proposals = model->rpn_head->predict(model->rpn_head->forward(feats), input.infos,
                                                  model->config.rpn_proposal_test);
  auto& head = dynamic_cast<models::CascadeRoiHead&>(*model->roi_head);
  const auto r = head.test_stages(feats, proposals, input.infos);
  REQUIRE(r.stage_rois.size() == 3);
  Tensor sum;
  for (size_t s = 0; s < 3; ++s) {
    const auto out = head.forward_boxes(s, feats, r.stage_rois[s]);
    sum = s ? ops::add(sum, out.cls_score) : out.cls_score;
    if (s == 2) {
      check_equal(r.bbox_pred, out.bbox_pred);
      break;
    }
    int64_t start = 0;
    for (size_t i = 0; i < 2; ++i) {
      const int64_t k = proposals[i].boxes.size(0);
      const Tensor labels = ops::argmax(ops::narrow(ops::narrow(out.cls_score, 0, start, k), 1, 0, 3), 1);
      const Tensor next = head.stage_head(s).regress(ops::narrow(r.stage_rois[s], 0, start, k),
                                                     ops::narrow(out.bbox_pred, 0, start, k), labels, input.infos[i].img_shape);
      check_equal(ops::narrow(ops::narrow(r.stage_rois[s + 1], 0, start, k), 1, 1, 4), next);
      start += k;
    }
  }
  check_close(r.cls_score, ops::div(sum, 3.0), 1e-6, 1e-7);
  const auto dets = model->predict(input);
  REQUIRE(dets.size() == 2);
  for (const auto& d : dets) CHECK(d.boxes.size(0) == d.scores.size(0));
}

TEST_SUITE_BEGIN("cuda detection models" * doctest::skip(splat::test::no_cuda_device()));

// A subset on the device, as the Faster R-CNN check: two levels and one parameter of each of
// stages 0 and 2; every gradient is compared with the CPU's in test_detector_cuda.cpp.
TEST_CASE("cuda cascade roi head: float64 gradcheck of the three stages' weighted losses") {
  Case c = make_case(Device::cuda(0));
  check_gradients(c, {2, 3}, {"bbox_head.0.shared_convs.0.bn.weight", "bbox_head.2.fc_reg.bias"});
}

TEST_SUITE_END();

TEST_CASE("cascade inference: an image without proposals gets no detections") {
  Case c = make_case(Device::cpu());
  c.head->eval();
  autograd::NoGradGuard no_grad;
  std::vector<models::Proposals> proposals = c.proposals;
  proposals[1].boxes = ops::zeros({0, 4}, {.dtype = DType::f64});
  const auto dets = c.head->predict(c.feats, proposals, c.input.infos, /*rescale=*/false);
  REQUIRE(dets.size() == 2);
  CHECK(dets[0].boxes.size(0) > 0);
  CHECK(dets[1].boxes.size(0) == 0);
  proposals[0].boxes = ops::zeros({0, 4}, {.dtype = DType::f64});
  for (const auto& d : c.head->predict(c.feats, proposals, c.input.infos, /*rescale=*/false)) {
    CHECK(d.boxes.size(0) == 0);
    CHECK(d.labels.size(0) == 0);
  }
}

TEST_CASE("cascade training: a batch without any RoI stops before stage 0's losses") {
  Case c = make_case(Device::cpu());
  for (auto& p : c.proposals) p.boxes = ops::zeros({0, 4}, {.dtype = DType::f64});
  for (auto& t : c.input.targets) t = {ops::zeros({0, 4}, {.dtype = DType::f64}), ops::zeros({0}, {.dtype = DType::i64}), {}};
  const auto r = c.head->train_stages(c.feats, c.proposals, c.input, nullptr);
  CHECK(r.stages.empty());
  CHECK(r.losses.empty());
}
