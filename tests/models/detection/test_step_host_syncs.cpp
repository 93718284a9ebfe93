// How often one training step of a tiny Faster and Mask R-CNN (the narrow models, the spec's
// random samplers: 256 anchors and 512 RoIs per image) on the emulated CUDA device makes the
// host wait for the device, counted by the runtime layer (core/cuda/host_sync.h) reason by
// reason. On a GPU each wait drains the launch queue, so the design's target is none but the
// logged scalars; every count below is exact, so a new wait, or one that moves to another
// reason, fails here and the message lists every call.
//
// All of them are device-to-host copies (no stream, device or event synchronisation). Per step
// of the Faster R-CNN (2 images, 5 FPN levels; found with a breakpoint on record_host_sync):
//  * output_size, 15 (inherent: a data-dependent shape sizes a tensor on the host, as in
//    PyTorch): nonzero in the RPN and R-CNN samplers' positive/negative splits (8), in
//    anchor_targets (2), in generate_proposals (2) and in BBoxHead::loss (1); the NMS keep
//    count of each image's proposals (2).
//  * host_computation, 2 (inherent with the present APIs): multi_level_roi_align sorting the
//    RoIs into FPN levels on the host (1), BBoxHead::loss's avg_factor, a host double in
//    LossOptions (an .item() in mmdet too) (1).
//  * bounds_check, 95 (not inherent; the bulk): index_select, gather and scatter_add check their
//    index values on the host before their kernels run (ops/index.cpp check_index_values):
//    generate_proposals 37 (6 of them in batched_nms), the samplers 26, anchor_targets 6 and
//    10 scatter_adds, BBoxHead::loss 4, select_class_deltas 1, multi_level_roi_align 2; and
//    roi_align's batch indices (1), cross_entropy's targets (1), select_class_deltas's labels (1).
//    Removing them needs device-side checks reported at the next synchronisation and
//    bounds-safe index kernels; until then they are counted here.
// The Mask R-CNN adds the mask branch's RoI extraction (host_computation +1; its
// multi_level_roi_align index_select 2 and roi_align 1), mask_target's assignment check and
// roi_align per image (2 + 2) and select_class_masks's labels and gather (2): bounds_check +9.
// The step does no logging: the trainer then reads the total and each entry of the loss map,
// one copy each (checked at the end).
#include "autograd/engine.h"
#include "core/cuda/host_sync.h"
#include "tests/helpers.h"
#include "tests/models/detection/narrow_mask_rcnn.h"
#include "tests/models/detection/tiny_detector_input.h"
#include "train/optim/sgd.h"

using namespace splat;
using cuda::HostSyncReason;

namespace {

struct ExpectedSyncs {
  int64_t output_size, host_computation, bounds_check;
};

std::string joined(const std::vector<std::string>& calls) {
  std::string s;
  for (const std::string& c : calls) s += "\n  " + c;
  return s;
}

void check_step_syncs(const std::shared_ptr<models::TwoStageDetector>& model, bool with_masks,
                      const ExpectedSyncs& expected) {
  model->to(Device::cuda(0));
  model->train();
  models::DetectorInput input = test::tiny_detector_input(DType::f32, Device::cuda(0));
  if (with_masks) input = test::with_ellipse_masks(input);
  std::vector<Tensor> params;
  for (const Tensor& p : model->parameters())
    if (p.requires_grad()) params.push_back(p);
  train::Sgd sgd(params, {.lr = 0.02, .momentum = 0.9, .weight_decay = 1e-4});
  Generator gen(3);
  models::LossMap losses;
  Tensor total;
  // The second step is the steady state (SGD's momentum buffers exist).
  for (int step = 0; step < 2; ++step) {
    cuda::HostSyncCounter counter;
    losses = model->forward_train(input, &gen);
    total = models::total_loss(losses);
    sgd.zero_grad();
    autograd::backward({total}, {});
    sgd.step();
    const cuda::HostSyncCounts c = counter.counts();
    const std::string calls = joined(counter.calls());
    CAPTURE(step);
    CHECK_MESSAGE(c.of(HostSyncReason::unstated) == 0, calls);
    CHECK_MESSAGE(c.of(HostSyncReason::logging) == 0, calls);
    CHECK_MESSAGE(c.of(HostSyncReason::output_size) == expected.output_size, calls);
    CHECK_MESSAGE(c.of(HostSyncReason::host_computation) == expected.host_computation, calls);
    CHECK_MESSAGE(c.of(HostSyncReason::bounds_check) == expected.bounds_check, calls);
    CHECK(c.device_to_host_copies == c.total());
  }
  cuda::HostSyncCounter counter;
  cuda::HostSyncReasonScope reason(HostSyncReason::logging);
  (void)total.item<float>();
  for (const auto& [name, value] : losses) (void)value.item<float>();
  CHECK(counter.counts().of(HostSyncReason::logging) == static_cast<int64_t>(losses.size()) + 1);
  CHECK(counter.counts().total() == static_cast<int64_t>(losses.size()) + 1);
}

models::TwoStageConfig spec_rpn_sampler() {
  models::TwoStageConfig c = test::narrow_two_stage_config();
  c.rpn_train = models::RpnTrainConfig{};
  return c;
}

} // namespace

TEST_SUITE_BEGIN("cuda detection models" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("a Faster R-CNN training step waits for the device only where counted") {
  manual_seed(8);
  models::StandardRoiHeadConfig roi = test::narrow_roi_head_config();
  roi.train = models::RcnnTrainConfig{};
  check_step_syncs(std::make_shared<models::TwoStageDetector>(
                       spec_rpn_sampler(), std::make_shared<models::StandardRoiHead>(roi)),
                   /*with_masks=*/false, {.output_size = 15, .host_computation = 2, .bounds_check = 95});
}

TEST_CASE("a Mask R-CNN training step waits for the device only where counted") {
  manual_seed(8);
  models::StandardRoiHeadConfig roi = test::narrow_mask_roi_head_config();
  roi.train = models::RcnnTrainConfig{};
  roi.train.assigner.match_low_quality = true;
  check_step_syncs(std::make_shared<models::TwoStageDetector>(
                       spec_rpn_sampler(),
                       std::make_shared<models::MaskRoiHead>(roi, test::narrow_mask_branch_config())),
                   /*with_masks=*/true, {.output_size = 15, .host_computation = 3, .bounds_check = 104});
}

TEST_SUITE_END();
