// The Mask R-CNN mask branch (models/detection/mask_head.h, mask_roi_head.h): a float64
// gradient check of loss_mask through the FCNMaskHead (convs with BN, the transposed-conv
// upsampler, conv_logits, the GT-class selection and the BCE) on the CPU and the emulated CUDA
// device; the zero-positive loss; inference without detections; CPU-vs-CUDA detections and
// masks; a hand-made paste; and the errors. Parity of every piece with MMDetection is
// test_mmdet_mask_rcnn.cpp.
#include "autograd/engine.h"
#include "nn/init.h"
#include "ops/copy.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "tests/autograd/grad_helpers.h"
#include "tests/models/detection/narrow_mask_rcnn.h"

#include <algorithm>

using namespace splat;

namespace {

Tensor boxes(std::vector<double> v, Device device = Device::cpu(), DType dtype = DType::f64) {
  return ops::to(
      ops::to(ops::from_vector<double>(v, {static_cast<int64_t>(v.size() / 4), 4}), dtype), device);
}

// A head small enough for numeric Jacobians: 2 input channels, 2 convs of 3 with BN, 3
// classes; 4x4 RoI features -> 8x8 logits.
std::shared_ptr<models::FCNMaskHead> small_head(Device device) {
  manual_seed(31);
  auto head =
      std::make_shared<models::FCNMaskHead>(models::FCNMaskHeadConfig{.in_channels = 2,
                                                                      .num_convs = 2,
                                                                      .conv_out_channels = 3,
                                                                      .norm = nn::NormConfig{},
                                                                      .num_classes = 3});
  // mmdet's zero biases put the upsampler's output exactly at the ReLU's kink wherever a RoI
  // pixel's conv features are all zero; random ones keep the numeric derivative defined.
  nn::init::uniform_(head->upsample->bias, -0.5, 0.5);
  nn::init::uniform_(head->conv_logits->bias, -0.5, 0.5);
  head->to(DType::f64);
  head->to(device);
  head->train();
  return head;
}

void check_mask_loss_gradients(Device device, const std::vector<std::string>& params) {
  auto head = small_head(device);
  const Tensor feats = test::leaf({3, 2, 4, 4}, -1, 1, device);
  Generator gen(4);
  const Tensor targets = ops::to(
      ops::to(ops::gt(ops::rand({3, 8, 8}, {.dtype = DType::f64}, &gen), 0.5), DType::f64), device);
  const Tensor labels = ops::from_vector<int64_t>({0, 2, 1}, {3}, device);
  std::vector<Tensor> inputs{feats};
  const auto named = head->named_parameters();
  for (const std::string& name : params) {
    const auto it =
        std::find_if(named.begin(), named.end(), [&](const auto& p) { return p.first == name; });
    REQUIRE_MESSAGE(it != named.end(), "no parameter ", name);
    inputs.push_back(it->second);
  }
  const auto fn = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{head->loss(head->forward(in[0]), targets, labels)};
  };
  CHECK(fn(inputs)[0].item<double>() > 0);
  // A mean over 3 x 8 x 8 pixels: entries near 1e-4, so atol well below the default.
  CHECK_GRADCHECK(fn, inputs, {.eps = 1e-6, .atol = 1e-9, .rtol = 1e-4});
}

// The FPN maps P2..P6 of one 64x96 image for the narrow mask branch (16 channels), drawn in
// float32 on the CPU whatever the dtype and device asked for.
std::vector<Tensor> random_feats(Device device = Device::cpu(), DType dtype = DType::f32) {
  Generator gen(9);
  std::vector<Tensor> feats;
  for (int64_t s : {16, 8, 4, 2, 1})
    feats.push_back(
        ops::to(ops::to(ops::randn({1, 16, s, s * 3 / 2 + (s == 1)}, {}, &gen), dtype), device));
  return feats;
}

models::ImageInfo one_info() {
  return {.img_shape = {64, 96},
          .pad_shape = {64, 96},
          .ori_shape = {128, 192},
          .scale_w = 0.5,
          .scale_h = 0.5};
}

} // namespace

TEST_CASE(
    "mask head: float64 gradcheck of loss_mask with respect to the RoI features and weights") {
  std::vector<std::string> params;
  for (const auto& [name, p] : small_head(Device::cpu())->named_parameters())
    params.push_back(name);
  CHECK(params.size() == 2 * 3 + 4); // 2 x (conv weight, bn weight and bias), upsample, conv_logits
  check_mask_loss_gradients(Device::cpu(), params);
}

TEST_CASE("mask head: parameter shapes, keys and mmdet's init") {
  manual_seed(3);
  models::FCNMaskHead head(models::FCNMaskHeadConfig{});
  const auto state = head.state_dict();
  CHECK(state.size() == 4 * 6 + 4);
  CHECK(state.at("convs.3.conv.weight").shape() == Shape{256, 256, 3, 3});
  CHECK(state.count("convs.0.conv.bias") == 0); // a norm follows: no bias
  CHECK(state.at("convs.0.bn.running_var").shape() == Shape{256});
  CHECK(state.at("upsample.weight").shape() == Shape{256, 256, 2, 2});
  CHECK(state.at("conv_logits.weight").shape() == Shape{80, 256, 1, 1});
  CHECK(head.num_parameters() == 2'644'304); // spec 6.4: Mask minus Faster RoI head
  // kaiming normal, fan_out, relu: std sqrt(2 / (out * kh * kw)); zero biases.
  const auto std_of = [](const Tensor& t) {
    return std::sqrt(ops::mean(ops::mul(t, t)).item<double>());
  };
  CHECK(std_of(head.upsample->weight) == doctest::Approx(std::sqrt(2.0 / (256 * 4))).epsilon(0.02));
  CHECK(std_of(head.conv_logits->weight) == doctest::Approx(std::sqrt(2.0 / 80)).epsilon(0.02));
  CHECK(ops::sum(ops::abs(head.upsample->bias)).item<double>() == 0);
  CHECK(ops::sum(ops::abs(head.conv_logits->bias)).item<double>() == 0);
}

TEST_CASE("mask head: an image without GT boxes gives loss_mask 0 that still back-propagates") {
  manual_seed(5);
  models::MaskRoiHead head(test::narrow_mask_roi_head_config(), test::narrow_mask_branch_config());
  head.train();
  models::DetectorInput input;
  input.infos = {one_info()};
  input.targets = {
      {boxes({}, Device::cpu(), DType::f32),
       ops::zeros({0}, {.dtype = DType::i64}),
       {},
       std::make_shared<models::BitmapMasks>(ops::zeros({0, 64, 96}, {.dtype = DType::u8}))}};
  const std::vector<models::Proposals> proposals{
      {boxes({4, 4, 30, 30, 40, 10, 90, 60}, Device::cpu(), DType::f32), {}}};
  const models::LossMap losses = head.loss(random_feats(), proposals, input, nullptr);
  REQUIRE(losses.count("loss_mask"));
  CHECK(losses.at("loss_mask").item<double>() == 0);
  autograd::backward(models::total_loss(losses));
  for (const auto& [name, p] : head.mask_head->named_parameters()) {
    CAPTURE(name);
    REQUIRE(p.grad().defined());
    CHECK(ops::sum(ops::abs(p.grad())).item<double>() == 0);
  }
}

TEST_CASE("mask head: no detections give (0, H, W) masks over the original or the resized image") {
  manual_seed(6);
  models::StandardRoiHeadConfig box = test::narrow_mask_roi_head_config();
  box.test.score_thr = 1.0; // no softmax score exceeds it
  models::MaskRoiHead head(box, test::narrow_mask_branch_config());
  head.eval();
  const std::vector<models::Proposals> proposals{
      {boxes({4, 4, 30, 30, 40, 10, 90, 60}, Device::cpu(), DType::f32), {}}};
  for (const bool rescale : {true, false}) {
    CAPTURE(rescale);
    const auto dets = head.predict(random_feats(), proposals, {one_info()}, rescale);
    REQUIRE(dets.size() == 1);
    CHECK(dets[0].boxes.size(0) == 0);
    CHECK(dets[0].masks.dtype() == DType::b8);
    CHECK(dets[0].masks.shape() == (rescale ? Shape{0, 128, 192} : Shape{0, 64, 96}));
  }
}

TEST_CASE("mask head: detections get one mask each, over the original image, boxes rescaled") {
  manual_seed(7);
  models::StandardRoiHeadConfig box = test::narrow_mask_roi_head_config();
  box.test.score_thr = 0; // every (box, class) pair survives the threshold
  models::MaskRoiHead head(box, test::narrow_mask_branch_config());
  head.eval();
  const std::vector<models::Proposals> proposals{
      {boxes({4, 4, 30, 30, 40, 10, 90, 60}, Device::cpu(), DType::f32), {}}};
  const auto resized = head.predict(random_feats(), proposals, {one_info()}, false);
  const auto original = head.predict(random_feats(), proposals, {one_info()}, true);
  REQUIRE(resized[0].boxes.size(0) > 0);
  CHECK(resized[0].masks.shape() == Shape{resized[0].boxes.size(0), 64, 96});
  CHECK(original[0].masks.shape() == Shape{resized[0].boxes.size(0), 128, 192});
  test::check_close(original[0].boxes, ops::mul(resized[0].boxes, 2.0), 1e-6, 1e-5);
}

TEST_CASE("mask head: a full mask pasted over its box is exactly the box's pixels") {
  // Box [10, 20, 30, 40] in a 64x96 resized image, scale 0.5: [20, 40, 60, 80] in the 128x192
  // original. A pixel is in when its centre is (u >= -0.5 reads half the edge value: 0.5).
  std::vector<models::Detections> dets(1);
  dets[0].boxes = boxes({10, 20, 30, 40}, Device::cpu(), DType::f32);
  dets[0].labels = ops::zeros({1}, {.dtype = DType::i64});
  dets[0].scores = ops::ones({1});
  models::paste_detections(dets, {ops::ones({1, 28, 28})}, {one_info()}, /*rescale=*/true, 0.5);
  test::check_equal(dets[0].boxes, boxes({20, 40, 60, 80}, Device::cpu(), DType::f32));
  REQUIRE(dets[0].masks.shape() == Shape{1, 128, 192});
  const auto m = test::to_vector<int64_t>(dets[0].masks);
  int64_t wrong = 0;
  for (int64_t y = 0; y < 128; ++y)
    for (int64_t x = 0; x < 192; ++x)
      wrong += m[y * 192 + x] != (x >= 20 && x < 60 && y >= 40 && y < 80);
  CHECK(wrong == 0);
}

TEST_CASE("mask head: training without GT masks, or with too few, names the image") {
  manual_seed(8);
  models::MaskRoiHead head(test::narrow_mask_roi_head_config(), test::narrow_mask_branch_config());
  head.train();
  models::DetectorInput input;
  input.infos = {one_info()};
  input.targets = {{boxes({8, 6, 40, 50}, Device::cpu(), DType::f32),
                    ops::zeros({1}, {.dtype = DType::i64}),
                    {}}};
  const std::vector<models::Proposals> proposals{
      {boxes({4, 4, 30, 30}, Device::cpu(), DType::f32), {}}};
  CHECK_THROWS_WITH_AS(head.loss(random_feats(), proposals, input, nullptr),
                       doctest::Contains("image 0 has no ground-truth masks"), Error);
  input.targets[0].masks =
      std::make_shared<models::BitmapMasks>(ops::zeros({2, 64, 96}, {.dtype = DType::u8}));
  CHECK_THROWS_WITH_AS(head.loss(random_feats(), proposals, input, nullptr),
                       doctest::Contains("image 0 has 2 masks for 1 boxes"), Error);
}

TEST_SUITE_BEGIN("cuda detection models" * doctest::skip(splat::test::no_cuda_device()));

// Each numeric evaluation runs the head in the emulator; a subset of the parameters: the first
// BN's scale (through both convs), the upsampler's weight and conv_logits' bias.
TEST_CASE(
    "cuda mask head: float64 gradcheck of loss_mask with respect to the RoI features and weights") {
  check_mask_loss_gradients(Device::cuda(0),
                            {"convs.0.bn.weight", "upsample.weight", "conv_logits.bias"});
}

TEST_CASE("cuda mask head: detections and their masks equal the CPU's") {
  manual_seed(7);
  models::StandardRoiHeadConfig box = test::narrow_mask_roi_head_config();
  box.test.score_thr = 0;
  models::MaskRoiHead cpu(box, test::narrow_mask_branch_config()),
      gpu(box, test::narrow_mask_branch_config());
  cpu.to(DType::f64);
  gpu.to(DType::f64);
  gpu.load_state_dict(cpu.state_dict());
  gpu.to(Device::cuda(0));
  cpu.eval();
  gpu.eval();
  const Tensor proposals = boxes({4, 4, 30, 30, 40, 10, 90, 60, 10, 30, 50, 62});
  const auto dc =
      cpu.predict(random_feats(Device::cpu(), DType::f64), {{proposals, {}}}, {one_info()}, true);
  const auto dg = gpu.predict(random_feats(Device::cuda(0), DType::f64),
                              {{ops::to(proposals, Device::cuda(0)), {}}}, {one_info()}, true);
  REQUIRE(dc[0].boxes.size(0) > 0);
  CHECK(dg[0].masks.device() == Device::cuda(0));
  test::check_close(ops::to(dg[0].boxes, Device::cpu()), dc[0].boxes, 1e-10, 1e-10);
  test::check_equal(ops::to(dg[0].labels, Device::cpu()), dc[0].labels);
  test::check_equal(ops::to(dg[0].masks, Device::cpu()), dc[0].masks);
}

TEST_SUITE_END();
