#include "train/trainer/trainer.h"

#include "autograd/engine.h"
#include "core/allocator.h"
#include "core/atomic_file.h"
#include "core/cuda/runtime.h"
#include "core/error.h"
#include "ops/copy.h"
#include "train/checkpoint/checkpoint.h"
#include "train/config/experiment.h"
#include "train/detection/detector_batch.h"
#include "train/detection/evaluate.h"
#include "train/log/json_lines.h"
#include "train/log/log_line.h"
#include "train/log/progress_bar.h"
#include "train/log/tfevents_writer.h"
#include "train/optim/from_config.h"
#include "train/optim/grad_clip.h"
#include "train/trainer/train_data.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>

namespace splat::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The losses and metrics in MMDetection's log order: the total, the RPN's, then the RoI head's.
std::vector<std::pair<std::string, double>> log_values(const models::LossMap& losses, double total) {
  static const char* const kOrder[] = {"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "acc", "loss_bbox", "loss_mask"};
  std::vector<std::pair<std::string, double>> out{{"loss", total}};
  auto value = [](const Tensor& t) { return ops::to(ops::to(t, DType::f64), Device::cpu()).item<double>(); };
  for (const char* name : kOrder)
    if (auto it = losses.find(name); it != losses.end()) out.emplace_back(name, value(it->second));
  for (const auto& [name, t] : losses)
    if (std::find(std::begin(kOrder), std::end(kOrder), name) == std::end(kOrder)) out.emplace_back(name, value(t));
  return out;
}

// Means over the last `window` iterations, as mmengine's LogProcessor smooths the line.
class Window {
public:
  explicit Window(size_t n) : n_(n) {}
  void add(const std::vector<std::pair<std::string, double>>& values) {
    rows_.push_back(values);
    if (rows_.size() > n_) rows_.pop_front();
  }
  std::vector<std::pair<std::string, double>> means() const {
    std::vector<std::pair<std::string, double>> out = rows_.back();
    for (auto& [name, v] : out) {
      double sum = 0;
      size_t count = 0;
      for (const auto& row : rows_)
        for (const auto& [n, x] : row)
          if (n == name) sum += x, ++count;
      v = sum / static_cast<double>(count);
    }
    return out;
  }

private:
  size_t n_;
  std::deque<std::vector<std::pair<std::string, double>>> rows_;
};

// The epoch-end evaluation on the val split: pycocotools' table (one per IoU type, as mmdet's
// CocoMetric prints them), then mmengine's Epoch(val) line.
template <class Log>
CocoScores validate(models::TwoStageDetector& model, const config::Experiment& exp, Device device,
                    const TrainProgress& progress, const Log& log) {
  const DetectorEvaluation e = evaluate_detector(model, exp, device);
  for (const CocoEvalResult* r : {&e.bbox, e.segm ? &*e.segm : nullptr}) {
    if (r == nullptr) continue;
    std::string table = coco_summary(*r);
    table.pop_back(); // the last newline
    log(str("Evaluating ", r->iou_type == IouType::bbox ? "bbox" : "segm", "...\n", table));
  }
  std::string line = str("Epoch(val) [", progress.epoch, "][", e.images, "/", e.images, "]");
  char buf[64];
  for (const auto& [name, v] : coco_metric_values(e)) {
    std::snprintf(buf, sizeof buf, "  %s: %.4f", name.c_str(), v);
    line += buf;
  }
  std::snprintf(buf, sizeof buf, "  time: %.1f s", e.seconds);
  log(line + buf);
  return e;
}

void write_text_atomically(const std::string& path, const std::string& text) {
  AtomicFile f(path, str("writing '", path, "'"));
  f.write(text);
  f.commit();
}

} // namespace

TrainSummary run_training(const TrainOptions& o) {
  const auto start = Clock::now();
  SPLAT_CHECK(o.log_interval >= 1, "splat train: --log-interval must be at least 1");
  const config::Experiment exp = config::load_experiment(o.config, o.overrides, o.data);
  const Device device = o.device == "cuda" ? Device::cuda(0) : Device::cpu();
  prepare_dataset(exp.data.dataset);
  TrainData data(exp.data);
  const auto iters_per_epoch = static_cast<int64_t>(data.batches_per_epoch());
  SPLAT_CHECK(iters_per_epoch > 0, exp.path, ": the training set makes no batch of ", exp.data.train.batch_size, " images");

  // The run depends on the config alone, not on what the process drew before: the default
  // generator (weight init, the ops' random numbers) restarts from the config's seed.
  manual_seed(exp.data.seed);
  auto model = config::build_detector(exp.model);
  model->to(device);
  const std::unique_ptr<Optimizer> optimizer = make_optimizer(exp.schedule, *model);
  const LrSchedule schedule = make_lr_schedule(exp.schedule, iters_per_epoch);
  const int64_t total_iters = o.max_iters > 0 ? std::min(o.max_iters, schedule.total_iters()) : schedule.total_iters();
  Generator sampler_gen(exp.data.seed); // the anchor and RoI samplers' picks
  const CheckpointRngs rngs{{{"sampler", &sampler_gen}, {"default", &default_generator()}}};
  TrainProgress progress;
  if (!o.resume.empty()) progress = load_checkpoint(o.resume, *model, *optimizer, rngs).progress;

  const std::string work_dir = o.work_dir.empty() ? (fs::path("work_dirs") / fs::path(o.config).stem()).string() : o.work_dir;
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  SPLAT_CHECK(fs::is_directory(work_dir), work_dir, ": cannot create the work folder", ec ? ": " + ec.message() : "");
  JsonLinesWriter json_log((fs::path(work_dir) / "log.jsonl").string());
  TfEventsWriter tensorboard((fs::path(work_dir) / "tensorboard").string());
  std::ofstream text_log(fs::path(work_dir) / "train.log", std::ios::app);
  // On a terminal, a progress bar over all iterations sits under the log lines (which go
  // through it so they do not land on its line); elsewhere the log lines are the progress.
  std::optional<ProgressBar> bar;
  auto log = [&](const std::string& line) {
    if (bar) {
      bar->write(line);
    } else if (!o.quiet) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
    text_log << line << '\n' << std::flush;
  };
  log(str("splat train ", exp.path, ": ", iters_per_epoch, " iterations per epoch, ", exp.schedule.epochs,
          " epochs, ", model->num_parameters(), " parameters, on ", o.device,
          o.resume.empty() ? std::string() : str(", resumed from ", o.resume, " at iteration ", progress.iter)));

  TrainSummary summary;
  int64_t saved_iter = progress.iter; // a resumed run's state is already in its checkpoint
  auto save = [&](const std::string& name) {
    const std::string path = (fs::path(work_dir) / name).string();
    save_checkpoint(path, *model, *optimizer, progress, rngs, {{"config", exp.path}});
    write_text_atomically((fs::path(work_dir) / "last_checkpoint").string(), path + "\n");
    summary.last_checkpoint = path;
    saved_iter = progress.iter;
    log("saved " + path);
  };

  model->train();
  if (!o.quiet && progress.iter < total_iters && progress_mode_for(stdout) == ProgressMode::redraw)
    bar.emplace("train", total_iters, stdout, ProgressMode::redraw, progress.iter);
  allocator_for(device).reset_peak();
  Window window(static_cast<size_t>(o.log_interval));
  const int64_t first_iter = progress.iter;
  double time_sum = 0;
  while (progress.iter < total_iters && progress.epoch < exp.schedule.epochs) {
    auto batches = data.batches(progress.epoch);
    batches.erase(batches.begin(), batches.begin() + std::min<int64_t>(progress.iter_in_epoch, static_cast<int64_t>(batches.size())));
    data::Loader loader(data.dataset(), std::move(batches), progress.epoch, exp.data.train_loader(device));
    auto tick = Clock::now();
    bool epoch_done = false;
    while (progress.iter < total_iters) {
      std::optional<data::Batch> batch = loader.next();
      if (!batch) { // all batches (fewer when corrupt images were skipped)
        epoch_done = true;
        break;
      }
      const double data_time = seconds_since(tick);
      const double lr = schedule.lr(progress.iter);
      optimizer->set_lr(lr);
      const models::LossMap losses = model->forward_train(to_detector_input(*batch, device, true), &sampler_gen);
      const Tensor total = models::total_loss(losses);
      const auto values = log_values(losses, ops::to(ops::to(total, DType::f64), Device::cpu()).item<double>());
      for (const auto& [name, v] : values)
        SPLAT_CHECK(std::isfinite(v), "splat train: ", name, " is ", v, " at iteration ", progress.iter + 1,
                    " (epoch ", progress.epoch + 1, ", lr ", lr, "); stopped, the last checkpoint is ",
                    summary.last_checkpoint.empty() ? (o.resume.empty() ? std::string("none") : o.resume) : summary.last_checkpoint);
      optimizer->zero_grad();
      autograd::backward({total}, {});
      std::vector<std::pair<std::string, double>> row = values;
      if (exp.schedule.grad_clip > 0) {
        std::vector<Tensor> params;
        for (const ParamGroup& g : optimizer->groups()) params.insert(params.end(), g.params.begin(), g.params.end());
        row.emplace_back("grad_norm", clip_grad_norm(params, exp.schedule.grad_clip));
      }
      optimizer->step();
      if (device.is_cuda()) cuda::synchronize({});
      ++progress.iter;
      ++progress.iter_in_epoch;
      summary.losses.push_back(values[0].second);
      if (bar) bar->update(progress.iter);
      const double time = seconds_since(tick);
      tick = Clock::now();
      time_sum += time;
      window.add(row);

      if (progress.iter_in_epoch % o.log_interval == 0 || progress.iter_in_epoch == iters_per_epoch ||
          progress.iter == total_iters) {
        const double mean_time = time_sum / static_cast<double>(progress.iter - first_iter);
        const int64_t memory = allocator_for(device).stats().peak_bytes >> 20;
        const auto means = window.means();
        log(format_log_line({.epoch = progress.epoch + 1, .max_epochs = exp.schedule.epochs,
                             .iter = progress.iter_in_epoch, .iters_per_epoch = iters_per_epoch, .lr = lr,
                             .eta_seconds = mean_time * static_cast<double>(total_iters - progress.iter),
                             .time = time, .data_time = data_time, .memory_mib = memory, .values = means}));
        LogRecord record{{"epoch", progress.epoch + 1}, {"iter", progress.iter}, {"lr", lr},
                         {"time", time}, {"data_time", data_time}, {"memory", memory}};
        for (const auto& [name, v] : means) {
          record.emplace_back(name, v);
          tensorboard.add_scalar("train/" + name, v, progress.iter);
        }
        tensorboard.add_scalar("train/lr", lr, progress.iter);
        tensorboard.flush();
        json_log.write(record);
      }
    }
    if (epoch_done || progress.iter_in_epoch == iters_per_epoch) {
      ++progress.epoch;
      progress.iter_in_epoch = 0;
      if (progress.epoch % exp.schedule.checkpoint_interval == 0 || progress.epoch == exp.schedule.epochs)
        save(str("epoch_", progress.epoch, ".safetensors"));
      if (o.validate && (progress.epoch % exp.schedule.eval_interval == 0 || progress.epoch == exp.schedule.epochs)) {
        const CocoScores scores = validate(*model, exp, device, progress, log);
        summary.evaluation = scores.bbox;
        summary.segm_evaluation = scores.segm;
        LogRecord record{{"epoch", progress.epoch}, {"iter", progress.iter}};
        for (const auto& [name, v] : coco_metric_values(scores)) {
          record.emplace_back(name, v);
          tensorboard.add_scalar(name, v, progress.iter);
        }
        tensorboard.flush();
        json_log.write(record);
        model->train();
      }
    }
  }
  if (bar) bar->finish();
  bar.reset();
  if (saved_iter != progress.iter) save(str("iter_", progress.iter, ".safetensors"));
  summary.iterations = progress.iter;
  summary.seconds = seconds_since(start);
  return summary;
}

} // namespace splat::train
