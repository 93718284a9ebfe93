// Learning, end to end, for the detector: the narrow Faster R-CNN (tests/models/detection/
// narrow_faster_rcnn.h, with the spec's random samplers) trained with SGD on 4 images of the
// synthetic shapes dataset, the same batch every step. The summed loss must fall at least 10x
// and, after predict() in eval mode, every GT box must be found by a detection of its class at
// IoU > 0.7. Slow suite: about 90 s on 2 cores.
#include "autograd/engine.h"
#include "data/shapes.h"
#include "ops/boxes.h"
#include "ops/copy.h"
#include "ops/join.h"
#include "ops/pointwise.h"
#include "ops/view.h"
#include "tests/helpers.h"
#include "tests/models/detection/narrow_faster_rcnn.h"
#include "train/optim/sgd.h"

#include <algorithm>
#include <chrono>

using namespace splat;

namespace {

constexpr int64_t kSide = 128;
// Data seed 8 draws 14 GT boxes whose shorter side is at least 25 px. A smaller box (seed 3 has
// an 18x16 one) reaches IoU 0.3 with no anchor of the smallest 32x32 size at stride 4, so the
// spec's RPN assigner (min_pos_iou 0.3) gives it no positive anchor and it cannot be learned.
constexpr uint64_t kDataSeed = 8;

// The first n training images of a 3-category shapes set, 128x128, normalised with the
// spec's mean and std; crowd regions become ignore boxes (as data/ makes them).
models::DetectorInput shapes_batch(int64_t n, uint64_t seed) {
  const data::ShapesOptions opts{.train = n, .val = 0, .min_size = kSide, .max_size = kSide, .seed = seed, .categories = 3};
  const double mean[3] = {123.68, 116.779, 103.939}, std[3] = {58.393, 57.12, 57.375};
  models::DetectorInput in;
  std::vector<Tensor> images;
  for (int64_t i = 0; i < n; ++i) {
    const data::ShapesImage img = data::generate_shapes_image(opts, 0, i);
    Tensor x = ops::to(ops::permute(img.image, {2, 0, 1}), DType::f32); // (3, H, W)
    std::vector<Tensor> channels;
    for (int64_t c = 0; c < 3; ++c) channels.push_back(ops::mul(ops::sub(ops::select(x, 0, c), mean[c]), 1.0 / std[c]));
    images.push_back(ops::stack(channels, 0));
    std::vector<float> boxes, crowd;
    std::vector<int64_t> labels;
    for (const data::ShapeObject& o : img.objects) {
      auto& dst = o.iscrowd ? crowd : boxes;
      for (double v : {o.bbox[0], o.bbox[1], o.bbox[0] + o.bbox[2], o.bbox[1] + o.bbox[3]}) dst.push_back(static_cast<float>(v));
      if (!o.iscrowd) labels.push_back(o.category_id - 1);
    }
    const auto rows = [](const std::vector<float>& v) { return ops::from_vector<float>(v, {static_cast<int64_t>(v.size() / 4), 4}); };
    in.targets.push_back({rows(boxes), ops::from_vector<int64_t>(labels, {static_cast<int64_t>(labels.size())}),
                          crowd.empty() ? Tensor() : rows(crowd)});
    in.infos.push_back({.img_shape = {kSide, kSide}, .pad_shape = {kSide, kSide}, .ori_shape = {kSide, kSide}});
  }
  in.images = ops::stack(images, 0);
  return in;
}

std::shared_ptr<models::TwoStageDetector> sampling_detector() {
  models::TwoStageConfig c = test::narrow_two_stage_config();
  c.rpn_train = models::RpnTrainConfig{};
  c.rpn_proposal_train.nms_pre = 2000;
  c.rpn_proposal_train.max_per_img = 1000;
  models::StandardRoiHeadConfig r = test::narrow_roi_head_config();
  r.train = models::RcnnTrainConfig{};
  r.train.sampler.num = 512;
  return std::make_shared<models::TwoStageDetector>(c, std::make_shared<models::StandardRoiHead>(r));
}

} // namespace

TEST_CASE("a tiny Faster R-CNN overfits 4 shapes images: loss falls 10x, every box found at IoU > 0.7") {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = 300, warmup = 50;
  const double lr = 0.02;
  manual_seed(1);
  const models::DetectorInput all = shapes_batch(4, kDataSeed);
  int64_t num_gt = 0;
  for (const auto& t : all.targets) num_gt += t.boxes.size(0);
  MESSAGE(num_gt, " GT boxes");
  auto model = sampling_detector();
  model->train();
  std::vector<Tensor> params;
  for (const auto& [name, p] : model->named_parameters())
    if (p.requires_grad()) params.push_back(p);
  train::Sgd sgd(params, {.lr = lr, .momentum = 0.9, .weight_decay = 1e-4});
  Generator gen(7);
  std::vector<double> losses;
  for (int64_t step = 0; step < steps; ++step) {
    // Linear warm-up from 0.001 x lr (spec section 5, shortened).
    const double f = step < warmup ? 0.001 + (1 - 0.001) * static_cast<double>(step) / static_cast<double>(warmup) : 1.0;
    sgd.set_lr(lr * f);
    sgd.zero_grad();
    const models::LossMap l = model->forward_train(all, &gen);
    const Tensor total = models::total_loss(l);
    losses.push_back(total.item<double>());
    if (step % 25 == 0 || step == steps - 1) {
      std::string s = "step " + std::to_string(step) + " total " + std::to_string(losses.back());
      for (const auto& [k, v] : l) s += " " + k + " " + std::to_string(v.item<double>());
      MESSAGE(s);
    }
    autograd::backward(total);
    sgd.step();
  }
  // The first step's loss against the mean of the last 10 (one step's sample of RoIs is noisy).
  const double first = losses.front();
  double last = 0;
  for (size_t i = losses.size() - 10; i < losses.size(); ++i) last += losses[i] / 10;
  MESSAGE("loss ", first, " -> ", last, " (", first / last, "x)");
  CHECK(first / last >= 10);

  model->eval();
  const auto dets = model->predict(all);
  double worst = 1;
  for (size_t i = 0; i < 4; ++i) {
    const models::GroundTruth& gt = all.targets[i];
    const Tensor iou = ops::box_iou(gt.boxes, dets[i].boxes); // (G, K)
    const auto v = test::to_vector<double>(iou);
    const auto gl = test::to_vector<int64_t>(gt.labels), dl = test::to_vector<int64_t>(dets[i].labels);
    const auto ds = test::to_vector<double>(dets[i].scores);
    const int64_t k = dets[i].boxes.size(0);
    for (int64_t g = 0; g < gt.boxes.size(0); ++g) {
      double best = 0, score = 0;
      for (int64_t d = 0; d < k; ++d)
        if (dl[d] == gl[g] && v[g * k + d] > best) best = v[g * k + d], score = ds[d];
      const auto gb = test::to_vector<double>(gt.boxes);
      MESSAGE("image ", i, " gt ", g, " class ", gl[g], " [", gb[4 * g], " ", gb[4 * g + 1], " ", gb[4 * g + 2], " ", gb[4 * g + 3],
              "]: best IoU ", best, " score ", score, " (", k, " detections)");
      CHECK(best > 0.7);
      worst = std::min(worst, best);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("worst IoU ", worst, ", ", secs, " s");
}
