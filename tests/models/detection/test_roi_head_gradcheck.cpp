// Float64 gradient check of the R-CNN training path: the multi-level RoIAlign extractor (7x7,
// aligned, adaptive sampling) -> Shared4Conv1FCBBoxHead (4 convs with SyncBN, which is BN in one
// process, then fc) -> loss_cls and loss_bbox, with respect to the four FPN maps and the box
// head's weights, on the CPU and on the emulated CUDA device. The RoIs and their targets are
// sampled once beforehand (StandardRoiHead::sample), so the function is deterministic.
//
// Sizes are cut down to keep the numeric Jacobian cheap: 2 channels, fc 8, 3 classes, a 32x48
// image. So that RoIs this small still reach all four levels, the extractor's finest_scale is 4
// instead of the spec's 56 (level = floor(log2(sqrt(wh) / 4)) clamped to 0..3: sides below 8 go
// to P2, below 16 to P3, below 32 to P4, the rest to P5); the level rule itself is checked in
// tests/ops/test_roi_align.cpp.
#include "models/detection/roi_head.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/roi_align.h"
#include "tests/autograd/grad_helpers.h"

#include <algorithm>

using namespace splat;

namespace {

models::StandardRoiHeadConfig small_head_config() {
  models::StandardRoiHeadConfig c;
  c.bbox_roi_extractor.finest_scale = 4;
  c.bbox_head.in_channels = 2;
  c.bbox_head.conv_out_channels = 2;
  c.bbox_head.fc_out_channels = 8;
  c.bbox_head.num_classes = 3;
  return c;
}

Tensor boxes(std::vector<double> v, Device device) {
  return ops::to(ops::from_vector<double>(v, {static_cast<int64_t>(v.size() / 4), 4}), device);
}

struct Case {
  std::shared_ptr<models::StandardRoiHead> head;
  std::vector<Tensor> feats; // P2..P5 of 2 images of 32x48: (2, 2, 8, 12) ... (2, 2, 1, 2)
  Tensor rois;
  models::BBoxTargets targets;
};

Case make_case(Device device) {
  manual_seed(13);
  Case c;
  c.head = std::make_shared<models::StandardRoiHead>(small_head_config());
  c.head->to(DType::f64);
  c.head->to(device);
  c.head->train();
  for (int64_t s : {8, 4, 2, 1}) c.feats.push_back(test::leaf({2, 2, s, s * 3 / 2 + (s == 1)}, -1, 1, device));
  // GTs: image 0 a 12x10 (P3) and a 24x22 (P4) box, image 1 a 30x22 (P5) box. Proposals of
  // every level, some overlapping the GTs (IoU >= 0.5: positives), some not.
  const std::vector<models::Proposals> proposals{
      {boxes({4, 4, 15, 15, 21, 6, 44, 27, 2, 20, 8, 26, 30, 2, 36, 8, 0, 0, 40, 30, 26, 16, 40, 30}, device), {}},
      {boxes({11, 8, 40, 31, 12, 10, 42, 29, 2, 2, 8, 8, 34, 20, 46, 30, 5, 5, 20, 20}, device), {}}};
  models::DetectorInput input;
  input.targets = {{boxes({4, 4, 16, 14, 20, 6, 44, 28}, device), ops::from_vector<int64_t>({0, 2}, {2}, device), {}},
                   {boxes({10, 8, 40, 30}, device), ops::from_vector<int64_t>({1}, {1}, device), {}}};
  Generator gen(2);
  const auto samples = c.head->sample(proposals, input, &gen);
  c.rois = models::sampled_rois(samples);
  c.targets = c.head->bbox_head->targets(samples);
  return c;
}

// loss_cls and loss_bbox from the FPN maps in[0..3]; the head's parameters are read from the
// module, whose tensors gradcheck perturbs in place when they are among its inputs.
std::vector<Tensor> losses(Case& c, const std::vector<Tensor>& in) {
  const std::vector<Tensor> feats(in.begin(), in.begin() + 4);
  const models::LossMap l = c.head->bbox_head->loss(c.head->forward_boxes(feats, c.rois), c.targets);
  return {l.at("loss_cls"), l.at("loss_bbox")};
}

// Checks the gradients of the FPN levels `levels` and of the parameters `params`.
void check_case(Case& c, const std::vector<int64_t>& levels_checked, const std::vector<std::string>& params) {
  // The RoIs reach every level and both labels kinds.
  const auto levels = test::to_vector<int64_t>(ops::map_roi_levels(c.rois, 4, 4));
  for (int64_t l = 0; l < 4; ++l) CHECK_MESSAGE(std::count(levels.begin(), levels.end(), l) > 0, "no RoI on level ", l);
  const auto labels = test::to_vector<int64_t>(c.targets.labels);
  CHECK(std::count(labels.begin(), labels.end(), 3) > 0); // negatives
  CHECK(std::count_if(labels.begin(), labels.end(), [](int64_t k) { return k < 3; }) >= 3);
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
  const auto fn = [&](const std::vector<Tensor>& in) { return losses(c, in); };
  const auto out = fn(inputs);
  CHECK(out[0].item<double>() > 0);
  CHECK(out[1].item<double>() > 0);
  // The losses are means over the RoIs, so many Jacobian entries are below 1e-4: the
  // default atol (1e-5) would hide a wrong factor on them. Float64 central differences of
  // O(1) losses are good to about 1e-10 here.
  CHECK_GRADCHECK(fn, inputs, {.eps = 1e-6, .atol = 1e-8, .rtol = 1e-4});
}

} // namespace

TEST_CASE("roi head: float64 gradcheck of RoIAlign + box head + losses") {
  Case c = make_case(Device::cpu());
  std::vector<std::string> params;
  for (const auto& [name, p] : c.head->named_parameters()) params.push_back(name);
  CHECK(params.size() == 4 * 3 + 6); // 4 x (conv weight, bn weight and bias), fc, fc_cls, fc_reg
  check_case(c, {0, 1, 2, 3}, params);
}

TEST_SUITE_BEGIN("cuda detection models" * doctest::skip(splat::test::no_cuda_device()));

// Each numeric evaluation costs about 80 ms in the emulator, so the device checks a subset:
// the two coarsest levels (gradients routed back to two different maps), the first conv's BN
// scale (through all four convs and BNs) and fc_reg's bias. Every parameter's gradient on the
// device is also compared with the CPU's in test_detector_cuda.cpp.
TEST_CASE("cuda roi head: float64 gradcheck of RoIAlign + box head + losses") {
  Case c = make_case(Device::cuda(0));
  check_case(c, {2, 3}, {"bbox_head.shared_convs.0.bn.weight", "bbox_head.fc_reg.bias"});
}

TEST_SUITE_END();
