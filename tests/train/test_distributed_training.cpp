// splat train's step over 2 MPI ranks (run by `mpirun -np 2`) against one process on the union
// batch: a tiny Faster R-CNN in float64 with SyncBN in the backbone and the box head, each rank
// holding 2 of 4 images, trained 3 SGD steps through the trainer's own pieces (rank_setup.h's
// SyncBN and seeds, train_step.h with the reducer). The oracle is the same model with SyncBN over
// a one-process communicator (BatchNorm over the union) stepped on all 4 images.
//
// Data parallelism averages the ranks' losses, each normalised by its own sample counts, while
// the oracle normalises by the union's: they agree when every image contributes the same count.
// So the samplers take every candidate (no random picks, which would differ between the ranks'
// and the oracle's streams), the assigners leave no candidate unassigned (ignored ones are not
// counted), and every image has the same size, the same number of GT boxes and the same number
// of proposals (max_per_img, well below what the RPN's NMS leaves).
//
// What is left is rounding (Chan's merge of the ranks' statistics against one pass over the
// union, sums in another order) amplified by BN over a few values per channel: measured, the
// losses agree to 1.3e-9 relative and the weights after 3 steps to 1.1e-10 absolute (2e-9 of
// each tensor's largest value), on both devices; the tolerances below leave a factor of about 8.
// Anything float32 in the path, or one image counted on the wrong rank, is orders larger.
#include "core/philox.h"
#include "ops/copy.h"
#include "ops/random.h"
#include "tests/helpers.h"
#include "train/config/experiment.h"
#include "train/distributed.h"
#include "train/optim/from_config.h"
#include "train/reducer.h"
#include "train/trainer/rank_setup.h"
#include "train/trainer/train_step.h"

using namespace splat;
using namespace splat::train;
using splat::test::check_close;

namespace {

constexpr int64_t kImages = 4, kSide = 64;

config::Experiment tiny_experiment() {
  config::Experiment exp = config::load_experiment(
      SPLAT_SOURCE_DIR "/configs/shapes/faster_rcnn_s18_fpn_shapes.toml",
      std::vector<std::string>{"model.backbone.blocks=[1, 1, 1, 1]", "model.backbone.stem_channels=8",
                               "model.backbone.base_channels=4", "model.backbone.norm=\"SyncBN\"",
                               "model.neck.in_channels=[16, 32, 64, 128]", "model.neck.out_channels=8",
                               "model.rpn_head.in_channels=8", "model.rpn_head.feat_channels=8",
                               "model.roi_head.bbox_head.num_shared_convs=1",
                               "model.roi_head.bbox_head.conv_out_channels=8",
                               "model.roi_head.bbox_head.fc_out_channels=16",
                               "model.roi_head.bbox_head.norm=\"SyncBN\"", "model.train.rpn_proposal.max_per_img=16"});
  exp.model.two_stage.rpn_train.sampler.num = 1 << 20;
  // No anchor between the thresholds, which the RPN would leave out of the count.
  exp.model.two_stage.rpn_train.assigner.neg_iou_thr = exp.model.two_stage.rpn_train.assigner.pos_iou_thr;
  exp.model.roi_head.train.sampler.num = 1 << 20;
  return exp;
}

// Step `step`'s union batch (the same on every rank), or rank r's half of it.
models::DetectorInput batch(int step, Device device, int64_t first, int64_t count) {
  Generator g(500 + static_cast<uint64_t>(step));
  const Tensor images = ops::randn({kImages, 3, kSide, kSide}, {.dtype = DType::f64}, &g);
  models::DetectorInput in;
  in.images = ops::to(ops::contiguous(ops::narrow(images, 0, first, count)), device);
  for (int64_t i = first; i < first + count; ++i) {
    const double o = 3.0 * static_cast<double>(i + step);
    in.infos.push_back({.img_shape = {kSide, kSide}, .pad_shape = {kSide, kSide}, .ori_shape = {kSide, kSide}});
    in.targets.push_back({.boxes = ops::to(ops::from_vector<double>({4 + o, 6, 30 + o, 40, 20, 10 + o, 60, 58}, {2, 4}), device),
                          .labels = ops::to(ops::from_vector<int64_t>({i % 5, (i + 2) % 5}, {2}), device)});
  }
  return in;
}

struct Trained {
  std::vector<double> losses;
  std::map<std::string, Tensor> state;
};

// 3 steps on comm's ranks, each rank on its kImages / world images.
Trained train_3_steps(const std::shared_ptr<Communicator>& comm, Device device) {
  config::Experiment exp = tiny_experiment();
  synchronize_norms(exp.model, comm);
  manual_seed(exp.data.seed);
  auto model = config::build_detector(exp.model);
  model->to(DType::f64);
  model->to(device);
  model->train();
  const std::unique_ptr<Optimizer> optimizer = make_optimizer(exp.schedule, *model);
  std::unique_ptr<Reducer> reducer =
      comm->world_size() > 1 ? std::make_unique<Reducer>(*model, comm, ReducerOptions{.bucket_cap_mb = 0.005}) : nullptr;
  if (reducer) CHECK(reducer->buckets().size() > 2); // several buckets, launched during backward
  Generator sampler_gen(rank_seed(exp.data.seed, comm->rank()));
  const StepParts parts{.model = *model, .optimizer = *optimizer, .comm = *comm, .reducer = reducer.get(),
                        .grad_clip = 0, .sampler_gen = &sampler_gen};
  const int64_t per_rank = kImages / comm->world_size();
  Trained out;
  for (int step = 0; step < 3; ++step) {
    optimizer->set_lr(0.02);
    out.losses.push_back(train_step(parts, batch(step, device, comm->rank() * per_rank, per_rank)).values[0].second);
  }
  for (const auto& [key, t] : model->state_dict()) out.state.emplace(key, ops::to(t, Device::cpu()));
  return out;
}

} // namespace

TEST_CASE("splat train's step on 2 ranks equals one process on the union batch, float64, SyncBN over ranks") {
  const auto comm = make_communicator();
  REQUIRE(comm->world_size() == 2);
  for (Device device : test::cpu_and_cuda()) {
    CAPTURE(device);
    const Trained ranks = train_3_steps(comm, device);
    const Trained whole = train_3_steps(make_single_process_communicator(), device);
    for (size_t i = 0; i < whole.losses.size(); ++i) {
      CAPTURE(i);
      CHECK(ranks.losses[i] == doctest::Approx(whole.losses[i]).epsilon(1e-8));
    }
    CHECK(whole.losses.back() != whole.losses.front()); // the steps changed the model
    REQUIRE(ranks.state.size() == whole.state.size());
    for (const auto& [key, t] : whole.state) {
      CAPTURE(key);
      check_close(ranks.state.at(key), t, 1e-8, 1e-9);
      // Bit-identical across ranks.
      Tensor rank0 = ops::clone(ranks.state.at(key));
      comm->broadcast(rank0, 0);
      check_close(ranks.state.at(key), rank0, 0, 0);
    }
  }
}
