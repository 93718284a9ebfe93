// Distributed evaluation (train/detection/evaluate.h) over 2 MPI ranks (run by `mpirun -np 2`):
// each rank predicts its shard of the val split and rank 0 scores the gathered results; its
// results text and its 12 numbers must be exactly those of one process predicting everything.
#include "ops/copy.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/config/experiment.h"
#include "train/detection/evaluate.h"
#include "train/distributed.h"
#include "train/trainer/train_data.h"

#include <optional>

using namespace splat;
using namespace splat::train;

namespace {

// Rank 0's string on every rank (at most 4095 bytes).
std::string broadcast_string(Communicator& comm, const std::string& s) {
  Tensor t = ops::zeros({4096}, {.dtype = DType::u8});
  REQUIRE(s.size() < 4096);
  std::copy(s.begin(), s.end(), t.data<uint8_t>());
  comm.broadcast(t, 0);
  return reinterpret_cast<const char*>(t.data<uint8_t>());
}

} // namespace

TEST_CASE("distributed evaluation on 2 ranks scores exactly what one process scores") {
  const auto comm = make_communicator();
  REQUIRE(comm->world_size() == 2);
  std::optional<test::TempDir> tmp;
  if (comm->rank() == 0) tmp.emplace();
  const std::string dir = broadcast_string(*comm, tmp ? tmp->dir.string() : std::string());
  // 5 val images in batches of 2: rank 0 predicts batches 0 and 2, rank 1 batch 1. A tiny
  // untrained detector: its scores barely pass score_thr, so every image has many detections.
  const config::Experiment exp = config::load_experiment(
      SPLAT_SOURCE_DIR "/configs/shapes/faster_rcnn_s18_fpn_shapes.toml",
      std::vector<std::string>{"data.dataset.train=2", "data.dataset.val=5", "data.dataset.min_size=64",
                               "data.dataset.max_size=96", "data.test.batch_size=2", "data.test.scale=[128, 96]",
                               "model.backbone.blocks=[1, 1, 1, 1]", "model.backbone.stem_channels=8",
                               "model.backbone.base_channels=4", "model.neck.in_channels=[16, 32, 64, 128]",
                               "model.neck.out_channels=8", "model.rpn_head.in_channels=8",
                               "model.rpn_head.feat_channels=8", "model.roi_head.bbox_head.num_shared_convs=1",
                               "model.roi_head.bbox_head.conv_out_channels=8",
                               "model.roi_head.bbox_head.fc_out_channels=16"},
      dir + "/shapes");
  if (comm->rank() == 0) prepare_dataset(exp.data.dataset);
  comm->barrier();
  for (Device device : test::cpu_and_cuda()) {
    CAPTURE(device);
    manual_seed(exp.data.seed); // the same (untrained) detector on both ranks
    auto detector = config::build_detector(exp.model);
    detector->to(device);
    const std::optional<DetectorEvaluation> shared = evaluate_detector(*detector, exp, device, *comm);
    CHECK(shared.has_value() == (comm->rank() == 0));
    if (!shared) continue;
    const DetectorEvaluation alone = evaluate_detector(*detector, exp, device);
    CHECK(alone.images == 5);
    CHECK(alone.detections > 0);
    CHECK(shared->images == alone.images);
    CHECK(shared->detections == alone.detections);
    CHECK(shared->results_json == alone.results_json);
    for (size_t i = 0; i < alone.bbox.stats.size(); ++i) {
      CAPTURE(i);
      CHECK(shared->bbox.stats[i] == alone.bbox.stats[i]);
    }
  }
  comm->barrier(); // rank 0 removes the folder after everyone is done with it
}
