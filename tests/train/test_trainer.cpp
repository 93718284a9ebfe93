// splat train on a tiny shapes set: resuming mid-epoch continues bit-exactly, a diverging run
// stops naming the loss, and bad inputs are one clear error.
#include "core/safetensors.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/trainer/trainer.h"

#include <filesystem>
#include <fstream>

using namespace splat;
using namespace splat::train;
namespace fs = std::filesystem;

namespace {

const std::string kShapes = SPLAT_SOURCE_DIR "/configs/shapes/faster_rcnn_s18_fpn_shapes.toml";

// 8 training images of 96-128 px, batches of 2: 4 iterations per epoch, about 0.4 s each.
TrainOptions tiny_run(const fs::path& dir, const std::string& work, int64_t max_iters,
                      const std::string& device = "cpu") {
  return {.config = kShapes,
          .overrides = {"data.dataset.train=8", "data.dataset.val=2", "data.dataset.min_size=96",
                        "data.dataset.max_size=128", "data.train.batch_size=2",
                        "data.train.scales=[[192, 96], [192, 128]]", "data.workers=2"},
          .data = (dir / "shapes").string(),
          .work_dir = (dir / work).string(),
          .device = device,
          .log_interval = 2,
          .max_iters = max_iters,
          .quiet = true};
}

// `half` iterations, a checkpoint, a fresh optimizer and model resumed from it, and `half` more
// against 2 * half straight: the losses and every tensor of the final checkpoints equal exactly.
// (CPU only for now: the CUDA RoIAlign backward adds with float atomics, whose order differs
// from run to run on the emulator as on a GPU, and training-mode BN over two images amplifies
// that last-bit noise into visibly different gradients within two steps.)
void check_resume(const fs::path& dir, int64_t half, const std::string& device) {
  const TrainSummary straight = run_training(tiny_run(dir, device + "_straight", 2 * half, device));
  const TrainSummary first = run_training(tiny_run(dir, device + "_split", half, device));
  TrainOptions rest = tiny_run(dir, device + "_split", 2 * half, device);
  rest.resume = first.last_checkpoint;
  const TrainSummary second = run_training(rest);
  CHECK(second.iterations == 2 * half);
  REQUIRE(second.losses.size() == static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    CAPTURE(i);
    CHECK(second.losses[static_cast<size_t>(i)] == straight.losses[static_cast<size_t>(half + i)]);
  }
  const auto a = load_safetensors(straight.last_checkpoint), b = load_safetensors(second.last_checkpoint);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [key, t] : a.tensors) {
    CAPTURE(key);
    test::check_equal(b.tensors.at(key), t);
  }
  CHECK(a.metadata.at("rng.sampler.offset") == b.metadata.at("rng.sampler.offset"));
  CHECK(a.metadata.at("rng.default.offset") == b.metadata.at("rng.default.offset"));
}

} // namespace

TEST_CASE("splat train: N iterations straight equal N/2, a checkpoint and N/2 more, bit for bit") {
  test::TempDir tmp;
  check_resume(tmp.dir, 3, "cpu"); // the checkpoint is mid-epoch, the run crosses into epoch 2
  CHECK(fs::exists(tmp.dir / "cpu_straight" / "epoch_1.safetensors"));
  CHECK(fs::exists(tmp.dir / "cpu_straight" / "iter_6.safetensors"));

  // The logs: one JSON line per log interval (and epoch end), the last checkpoint named.
  std::ifstream last(tmp.dir / "cpu_split" / "last_checkpoint");
  std::string named;
  std::getline(last, named);
  CHECK(named == (tmp.dir / "cpu_split" / "iter_6.safetensors").string());
  std::ifstream jsonl(tmp.dir / "cpu_straight" / "log.jsonl");
  int lines = 0;
  for (std::string line; std::getline(jsonl, line); ++lines) CHECK(line.find("\"loss_rpn_cls\": ") != std::string::npos);
  CHECK(lines == 3); // iterations 2, 4 (epoch end) and 6
}

TEST_CASE("splat train: a diverging loss stops the run, naming it, and writes no checkpoint") {
  test::TempDir tmp;
  TrainOptions o = tiny_run(tmp.dir, "diverge", 8);
  o.overrides.insert(o.overrides.end(), {"schedule.lr=1e6", "schedule.warmup_ratio=1"});
  const std::string msg = test::error_of([&] { run_training(o); });
  CHECK(msg.find("splat train: loss is ") != std::string::npos);
  CHECK(msg.find("at iteration ") != std::string::npos);
  CHECK(msg.find("the last checkpoint is none") != std::string::npos);
  int checkpoints = 0;
  for (const auto& e : fs::directory_iterator(tmp.dir / "diverge")) checkpoints += e.path().extension() == ".safetensors";
  CHECK(checkpoints == 0);
}

TEST_CASE("splat train: bad inputs are one clear error") {
  test::TempDir tmp;
  TrainOptions o = tiny_run(tmp.dir, "bad", 1);
  o.config = SPLAT_SOURCE_DIR "/configs/resnest/faster_rcnn_s50_fpn_syncbn-backbone+head_mstrain-range_1x_coco.toml";
  o.overrides.clear();
  o.data = (tmp.dir / "no_coco_here").string();
  CHECK_THROWS_WITH_ALL(run_training(o), "no_coco_here/annotations/instances_train2017.json: no such annotation file");

  o = tiny_run(tmp.dir, "bad", 1);
  o.overrides.push_back("schedule.warmup_iter=3");
  CHECK_THROWS_WITH_ALL(run_training(o), "schedule.warmup_iter");

  // A checkpoint of another model (the S-50 detector's weights would not fit; a weights-only
  // file is refused for resuming).
  o = tiny_run(tmp.dir, "bad", 1);
  o.resume = (tmp.dir / "weights.safetensors").string();
  save_safetensors(o.resume, {{"x", Tensor::empty({1}, DType::f32)}});
  CHECK_THROWS_WITH_ALL(run_training(o), "weights.safetensors: not a splat training checkpoint");
}
