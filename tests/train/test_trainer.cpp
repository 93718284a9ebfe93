// splat train on a tiny shapes set: resuming mid-epoch continues bit-exactly, the epoch-end
// evaluation scores what `splat infer` detects, a diverging run stops naming the loss, and bad
// inputs are one clear error.
#include "core/safetensors.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "models/detection/detector_weights.h"
#include "train/config/experiment.h"
#include "train/detection/evaluate.h"
#include "train/detection/infer.h"
#include "train/eval/detection_results.h"
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
                        "data.dataset.max_size=128", "data.train.batch_size=2", "schedule.total_batch=2",
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
// On the CUDA device this needs every kernel of the step to be deterministic (the RoIAlign
// backward accumulates in fixed point for it): training-mode BN over two images would amplify
// any last-bit difference into visibly different gradients within two steps.
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
  // The epoch end's evaluation is a line of its own, after the epoch's last training line.
  std::ifstream jsonl(tmp.dir / "cpu_straight" / "log.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(jsonl, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4); // iterations 2, 4 (epoch end), the evaluation, 6
  for (size_t i : {0, 1, 3}) CHECK(lines[i].find("\"loss_rpn_cls\": ") != std::string::npos);
  CHECK(lines[2].find("{\"epoch\": 1, \"iter\": 4, \"coco/bbox_mAP\": ") == 0);
}

TEST_CASE("splat train: resuming on the emulated CUDA device continues bit for bit" *
          doctest::skip(test::no_cuda_device())) {
  test::TempDir tmp;
  check_resume(tmp.dir, 2, "cuda");
}

TEST_CASE("splat train: the val split is evaluated at epoch ends as splat infer sees its images") {
  test::TempDir tmp;
  // One epoch (4 iterations), test batches of 1 image as `splat infer` runs them.
  TrainOptions o = tiny_run(tmp.dir, "eval", 4);
  o.overrides.push_back("data.test.batch_size=1");
  const TrainSummary s = run_training(o);
  REQUIRE(s.evaluation.has_value());
  std::ifstream log(tmp.dir / "eval" / "train.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(text.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = ") != std::string::npos);
  CHECK(text.find("Epoch(val) [1][2/2]  coco/bbox_mAP: ") != std::string::npos);

  // The same detections as `splat infer` on the val images, each in its own pixels.
  const config::Experiment exp = config::load_experiment(o.config, o.overrides, o.data);
  const data::CocoDataset val = data::CocoDataset::load(exp.data.dataset.val.annotations);
  auto detector = config::build_detector(exp.model);
  models::load_detector_weights(*detector, s.last_checkpoint);
  const DetectorEvaluation e = evaluate_detector(*detector, exp, Device::cpu());
  CHECK(e.images == 2);
  for (size_t k = 0; k < 12; ++k) CHECK(e.bbox.stats[k] == s.evaluation->stats[k]);
  InferOptions io{.config = o.config, .checkpoint = s.last_checkpoint, .out = (tmp.dir / "infer").string(), .overrides = o.overrides};
  for (const data::CocoImage& image : val.images()) io.images.push_back(exp.data.dataset.val.images + "/" + image.file_name);
  run_infer(io);
  std::ifstream f(tmp.dir / "infer" / "results.json");
  std::string infer_json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // splat infer numbers images by position: map them to the val file's ids (through a marker, so
  // a new id is never mistaken for a position still to map).
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (size_t at = infer_json.find(from); at != std::string::npos; at = infer_json.find(from, at + to.size()))
      infer_json.replace(at, from.size(), to);
  };
  for (size_t i = 0; i < val.images().size(); ++i) replace_all(str("\"image_id\": ", i, ","), str("\"image_id\": #", i, ","));
  for (size_t i = 0; i < val.images().size(); ++i) replace_all(str("\"image_id\": #", i, ","), str("\"image_id\": ", val.images()[i].id, ","));
  const auto a = parse_detection_results(e.results_json, "evaluate", val, IouType::bbox).detections;
  const auto b = parse_detection_results(infer_json, "infer", val, IouType::bbox).detections;
  REQUIRE(a.size() == b.size());
  CHECK(!a.empty());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].image_index == b[i].image_index);
    CHECK(a[i].category_id == b[i].category_id);
    CHECK(a[i].score == doctest::Approx(b[i].score).epsilon(1e-5));
    for (int k = 0; k < 4; ++k) CHECK(a[i].bbox[k] == doctest::Approx(b[i].bbox[k]).epsilon(1e-4));
  }

  // Without a val split there is nothing to score, and the error names the file.
  fs::remove(exp.data.dataset.val.annotations);
  CHECK_THROWS_WITH_ALL(evaluate_detector(*detector, exp, Device::cpu()), "instances_val.json: no such annotation file");
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
