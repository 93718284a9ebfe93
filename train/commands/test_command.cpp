// `splat test CONFIG CKPT [--data DIR] [--out results.json] [--device cpu|cuda] [--json]`: a
// trained detector on its config's val split (train/detection/evaluate.h), printing the 12 COCO
// numbers as pycocotools' summarize() prints them (or one JSON line), for a detector with masks
// bbox then segm, and optionally writing the COCO results file, which `splat eval` or
// pycocotools score the same way. Under `mpirun -np N splat test ...` the ranks split the val
// batches and rank 0 gathers, scores and prints (train/detection/evaluate.h); an error on any rank
// ends the job naming it (train::abort_job).
#include "core/atomic_file.h"
#include "models/detection/detector_weights.h"
#include "train/commands/command.h"
#include "train/detection/evaluate.h"
#include "train/distributed.h"
#include "train/log/progress_bar.h"
#include "train/trainer/rank_setup.h"
#include "train/trainer/train_data.h"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>

namespace splat::train {

namespace {

struct TestOptions {
  std::string config, checkpoint, data, out, device = "cpu";
  std::vector<std::string> overrides;
  bool json = false;
};

void run_test(const TestOptions& o) {
  const config::Experiment exp = config::load_experiment(o.config, o.overrides, o.data);
  SPLAT_CHECK(std::filesystem::is_regular_file(o.checkpoint), o.checkpoint, ": no such checkpoint file");
  const std::shared_ptr<Communicator> comm = make_communicator();
  const Device device = rank_device(o.device, *comm);
  // One rank generates the shapes set; the others wait for it.
  if (comm->rank() == 0) prepare_dataset(exp.data.dataset);
  comm->barrier();
  auto detector = config::build_detector(exp.model);
  models::load_detector_weights(*detector, o.checkpoint);
  detector->to(device);
  // Images done, on stderr (rank 0's share under mpirun): redrawn on a terminal, a line per 10%
  // elsewhere.
  std::optional<ProgressBar> bar;
  const EvalProgress progress = [&](int64_t done, int64_t total) {
    if (comm->rank() != 0) return;
    if (!bar) bar.emplace("test", total, stderr);
    bar->update(done);
  };
  const std::optional<DetectorEvaluation> evaluation =
      comm->world_size() > 1 ? evaluate_detector(*detector, exp, device, *comm, progress)
                             : evaluate_detector(*detector, exp, device, progress);
  if (bar) bar->finish();
  if (!evaluation) return; // not rank 0
  const DetectorEvaluation& e = *evaluation;
  if (!o.out.empty()) {
    AtomicFile f(o.out, str("writing '", o.out, "'"));
    f.write(e.results_json);
    f.commit();
  }
  // With masks: the segm scores after the bbox ones (a second JSON line, a second table).
  if (o.json) {
    std::printf("%s\n", coco_summary_json(e.bbox).c_str());
    if (e.segm) std::printf("%s\n", coco_summary_json(*e.segm).c_str());
  } else {
    if (e.segm) std::fputs("IoU metric: bbox\n", stdout);
    std::fputs(coco_summary(e.bbox).c_str(), stdout);
    if (e.segm) std::printf("IoU metric: segm\n%s", coco_summary(*e.segm).c_str());
    std::printf("splat test: %lld images, %lld detections, %.1f s%s%s\n", static_cast<long long>(e.images),
                static_cast<long long>(e.detections), e.seconds, o.out.empty() ? "" : "; results in ",
                o.out.c_str());
  }
}

} // namespace

void add_test_command(CLI::App& app, Commands& out) {
  auto o = std::make_shared<TestOptions>();
  CLI::App* cmd = app.add_subcommand("test", "COCO box AP of a trained detector on its config's val split");
  cmd->add_option("config", o->config, "Detector config (configs/*.toml)")->required();
  cmd->add_option("checkpoint", o->checkpoint, "Weights: splat .safetensors or MMDetection .pth")->required();
  cmd->add_option("--data", o->data, "Dataset folder (the shapes dir or the COCO root)");
  cmd->add_option("--out", o->out, "Also write the detections here as COCO results JSON");
  cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--set", o->overrides, "Config overrides key.path=value (repeatable)");
  cmd->add_flag("--json", o->json, "Print one JSON line per IoU type (stats and per-category AP)");
  out.push_back({cmd, [o] {
    try {
      run_test(*o);
    } catch (const std::exception& e) {
      abort_job(e.what());
    }
  }});
}

} // namespace splat::train
