#include "train/trainer/trainer.h"

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
#include "train/distributed.h"
#include "train/reducer.h"
#include "train/trainer/lr_rule.h"
#include "train/trainer/rank_setup.h"
#include "train/trainer/train_data.h"
#include "train/trainer/train_step.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

namespace splat::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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

// The epoch-end evaluation on the val split, every rank predicting its shard: on rank 0,
// pycocotools' table (one per IoU type, as mmdet's CocoMetric prints them), then mmengine's
// Epoch(val) line, and the scores; nullopt on the other ranks.
template <class Log>
std::optional<CocoScores> validate(models::TwoStageDetector& model, const config::Experiment& exp, Device device,
                                   Communicator& comm, const TrainProgress& progress, const Log& log) {
  const std::optional<DetectorEvaluation> e = evaluate_detector(model, exp, device, comm);
  if (!e) return std::nullopt;
  for (const CocoEvalResult* r : {&e->bbox, e->segm ? &*e->segm : nullptr}) {
    if (r == nullptr) continue;
    std::string table = coco_summary(*r);
    table.pop_back(); // the last newline
    log(str("Evaluating ", r->iou_type == IouType::bbox ? "bbox" : "segm", "...\n", table));
  }
  std::string line = str("Epoch(val) [", progress.epoch, "][", e->images, "/", e->images, "]");
  char buf[64];
  for (const auto& [name, v] : coco_metric_values(*e)) {
    std::snprintf(buf, sizeof buf, "  %s: %.4f", name.c_str(), v);
    line += buf;
  }
  std::snprintf(buf, sizeof buf, "  time: %.1f s", e->seconds);
  log(line + buf);
  return static_cast<const CocoScores&>(*e);
}

void write_text_atomically(const std::string& path, const std::string& text) {
  AtomicFile f(path, str("writing '", path, "'"));
  f.write(text);
  f.commit();
}

// Rank r's generators after a checkpoint was restored (which holds rank 0's key, the seed): the
// same position under the rank's own key (train/trainer/rank_setup.h).
void rekey_for_rank(const CheckpointRngs& rngs, int rank) {
  for (const auto& [name, g] : rngs.generators) g->set_state({rank_seed(g->state().seed, rank), g->state().offset});
}

// Before a checkpoint every rank moves each generator to the largest offset any rank reached, so
// the one position the file stores (rank 0's) is where every rank continues, straight on or
// resumed, and no rank redraws counters it has used.
void align_offsets(const CheckpointRngs& rngs, Communicator& comm) {
  std::vector<int64_t> offsets;
  for (const auto& [name, g] : rngs.generators) offsets.push_back(static_cast<int64_t>(g->state().offset));
  Tensor t = ops::from_vector<int64_t>(offsets, {static_cast<int64_t>(offsets.size())});
  comm.all_reduce(t, ReduceOp::max);
  size_t i = 0;
  for (const auto& [name, g] : rngs.generators) g->set_state({g->state().seed, static_cast<uint64_t>(t.data<int64_t>()[i++])});
}

int64_t metadata_int(const std::map<std::string, std::string>& m, const std::string& key, int64_t fallback,
                     const std::string& path) {
  const auto it = m.find(key);
  if (it == m.end()) return fallback;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  SPLAT_CHECK(ec == std::errc() && end == it->second.data() + it->second.size() && v >= 0, path, ": metadata ", key,
              " = '", it->second, "' is not a count");
  return v;
}

} // namespace

TrainSummary run_training(const TrainOptions& o) {
  const auto start = Clock::now();
  SPLAT_CHECK(o.log_interval >= 1, "splat train: --log-interval must be at least 1");
  const std::shared_ptr<Communicator> comm = make_communicator();
  const int rank = comm->rank(), world = comm->world_size();
  config::Experiment exp = config::load_experiment(o.config, o.overrides, o.data);
  synchronize_norms(exp.model, comm);
  const Device device = rank_device(o.device, *comm);
  // One rank generates the shapes set; the others wait for it (a failure there ends the job).
  if (rank == 0) prepare_dataset(exp.data.dataset);
  comm->barrier();
  TrainData data(exp.data, rank, world);
  const auto iters_per_epoch = static_cast<int64_t>(data.batches_per_epoch());
  const auto global_batches = data.global_batches_per_epoch();
  SPLAT_CHECK(iters_per_epoch > 0, exp.path, ": the training set makes no batch of ", exp.data.train.batch_size, " images");
  const double lr_factor = lr_scale(exp.schedule, world, static_cast<int64_t>(exp.data.train.batch_size), exp.path);

  // The run depends on the config alone, not on what the process drew before: the default
  // generator (weight init, the ops' random numbers) restarts from the config's seed, so every
  // rank builds the same model; what each then draws comes from its own key.
  manual_seed(exp.data.seed);
  auto model = config::build_detector(exp.model);
  model->to(device);
  const std::unique_ptr<Optimizer> optimizer = make_optimizer(exp.schedule, *model, lr_factor);
  const LrSchedule schedule = make_lr_schedule(exp.schedule, iters_per_epoch, lr_factor);
  const int64_t total_iters = o.max_iters > 0 ? std::min(o.max_iters, schedule.total_iters()) : schedule.total_iters();
  Generator sampler_gen(exp.data.seed); // the anchor and RoI samplers' picks
  const CheckpointRngs rngs{{{"sampler", &sampler_gen}, {"default", &default_generator()}}};
  TrainProgress progress;
  // Global batches of the current epoch done (the sampler position, train_data.h).
  size_t epoch_position = 0;
  int64_t resumed_processes = world;
  if (!o.resume.empty()) {
    const LoadedCheckpoint c = load_checkpoint(o.resume, *model, *optimizer, rngs);
    progress = c.progress;
    // Checkpoints of one-process runs before the position was stored hold it as iter_in_epoch.
    resumed_processes = metadata_int(c.metadata, "processes", 1, o.resume);
    epoch_position = static_cast<size_t>(metadata_int(c.metadata, "sampler_position", progress.iter_in_epoch, o.resume));
    if (resumed_processes != world) {
      // Steps count this run's iterations: re-based so the schedule's epochs fall where they did.
      progress.iter_in_epoch = static_cast<int64_t>((epoch_position + world - 1) / world);
      progress.iter = progress.epoch * iters_per_epoch + progress.iter_in_epoch;
    }
  }
  rekey_for_rank(rngs, rank);
  // After the checkpoint: every rank starts from rank 0's parameters and buffers.
  std::unique_ptr<Reducer> reducer = world > 1 ? std::make_unique<Reducer>(*model, comm) : nullptr;

  const std::string work_dir = o.work_dir.empty() ? (fs::path("work_dirs") / fs::path(o.config).stem()).string() : o.work_dir;
  // Logs, TensorBoard and checkpoints are rank 0's.
  std::optional<JsonLinesWriter> json_log;
  std::optional<TfEventsWriter> tensorboard;
  std::ofstream text_log;
  if (rank == 0) {
    std::error_code ec;
    fs::create_directories(work_dir, ec);
    SPLAT_CHECK(fs::is_directory(work_dir), work_dir, ": cannot create the work folder", ec ? ": " + ec.message() : "");
    json_log.emplace((fs::path(work_dir) / "log.jsonl").string());
    tensorboard.emplace((fs::path(work_dir) / "tensorboard").string());
    text_log.open(fs::path(work_dir) / "train.log", std::ios::app);
  }
  // On a terminal, a progress bar over all iterations sits under the log lines (which go
  // through it so they do not land on its line); elsewhere the log lines are the progress.
  std::optional<ProgressBar> bar;
  auto log = [&](const std::string& line) {
    if (rank != 0) return;
    if (bar) {
      bar->write(line);
    } else if (!o.quiet) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
    text_log << line << '\n' << std::flush;
  };
  const std::string processes =
      world == 1 ? std::string() : str(", ", world, " processes x ", exp.data.train.batch_size, " images");
  log(str("splat train ", exp.path, ": ", iters_per_epoch, " iterations per epoch, ", exp.schedule.epochs,
          " epochs, ", model->num_parameters(), " parameters, on ", o.device, processes,
          lr_factor == 1.0 ? std::string() : str(", lr scaled linearly by ", lr_factor, " to ", exp.schedule.lr * lr_factor),
          o.resume.empty() ? std::string() : str(", resumed from ", o.resume, " at iteration ", progress.iter),
          resumed_processes == world ? std::string() : str(" (saved by ", resumed_processes, " processes)")));

  TrainSummary summary;
  int64_t saved_iter = progress.iter; // a resumed run's state is already in its checkpoint
  auto save = [&](const std::string& name) {
    align_offsets(rngs, *comm);
    const std::string path = (fs::path(work_dir) / name).string();
    if (rank == 0) {
      save_checkpoint(path, *model, *optimizer, progress, rngs,
                      {{"config", exp.path}, {"processes", std::to_string(world)},
                       {"sampler_position", std::to_string(epoch_position)}});
      write_text_atomically((fs::path(work_dir) / "last_checkpoint").string(), path + "\n");
      log("saved " + path);
    }
    // No rank goes on before the checkpoint is written (a failed write ends the job from rank 0).
    Tensor saved = ops::from_vector<int64_t>({rank == 0 ? progress.iter : -1}, {1});
    comm->broadcast(saved, 0);
    SPLAT_CHECK(saved.data<int64_t>()[0] == progress.iter, "rank ", rank, " is at iteration ", progress.iter,
                " but rank 0 saved iteration ", saved.data<int64_t>()[0]);
    summary.last_checkpoint = path;
    saved_iter = progress.iter;
  };

  model->train();
  if (rank == 0 && !o.quiet && progress.iter < total_iters && progress_mode_for(stdout) == ProgressMode::redraw)
    bar.emplace("train", total_iters, stdout, ProgressMode::redraw, progress.iter);
  allocator_for(device).reset_peak();
  Window window(static_cast<size_t>(o.log_interval));
  const int64_t first_iter = progress.iter;
  double time_sum = 0;
  const StepParts step{.model = *model, .optimizer = *optimizer, .comm = *comm, .reducer = reducer.get(),
                       .grad_clip = exp.schedule.grad_clip, .sampler_gen = &sampler_gen};
  while (progress.iter < total_iters && progress.epoch < exp.schedule.epochs) {
    data::Loader loader(data.dataset(), data.batches(progress.epoch, epoch_position), progress.epoch,
                        exp.data.train_loader(device));
    auto tick = Clock::now();
    bool epoch_done = epoch_position >= global_batches;
    while (!epoch_done && progress.iter < total_iters) {
      std::optional<data::Batch> batch = loader.next();
      if (!batch) { // all batches (fewer when corrupt images were skipped)
        epoch_done = true;
        break;
      }
      const double data_time = seconds_since(tick);
      const double lr = schedule.lr(progress.iter);
      optimizer->set_lr(lr);
      const StepResult r = train_step(step, to_detector_input(*batch, device, true), [&](const LogValues& values) {
        for (const auto& [name, v] : values)
          SPLAT_CHECK(std::isfinite(v), "splat train: ", name, " is ", v, " at iteration ", progress.iter + 1,
                      " (epoch ", progress.epoch + 1, ", lr ", lr, "); stopped, the last checkpoint is ",
                      summary.last_checkpoint.empty() ? (o.resume.empty() ? std::string("none") : o.resume) : summary.last_checkpoint);
      });
      LogValues row = r.values;
      if (r.grad_norm) row.emplace_back("grad_norm", *r.grad_norm);
      if (device.is_cuda()) cuda::synchronize({});
      ++progress.iter;
      ++progress.iter_in_epoch;
      epoch_position = std::min(global_batches, epoch_position + static_cast<size_t>(world));
      epoch_done = epoch_position >= global_batches;
      summary.losses.push_back(r.values[0].second);
      if (bar) bar->update(progress.iter);
      const double time = seconds_since(tick);
      tick = Clock::now();
      time_sum += time;
      window.add(row);

      if (rank == 0 && (progress.iter_in_epoch % o.log_interval == 0 || epoch_done || progress.iter == total_iters)) {
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
          tensorboard->add_scalar("train/" + name, v, progress.iter);
        }
        tensorboard->add_scalar("train/lr", lr, progress.iter);
        tensorboard->flush();
        json_log->write(record);
      }
    }
    if (epoch_done) {
      ++progress.epoch;
      progress.iter_in_epoch = 0;
      epoch_position = 0;
      if (progress.epoch % exp.schedule.checkpoint_interval == 0 || progress.epoch == exp.schedule.epochs)
        save(str("epoch_", progress.epoch, ".safetensors"));
      if (o.validate && (progress.epoch % exp.schedule.eval_interval == 0 || progress.epoch == exp.schedule.epochs)) {
        if (const std::optional<CocoScores> scores = validate(*model, exp, device, *comm, progress, log)) {
          summary.evaluation = scores->bbox;
          summary.segm_evaluation = scores->segm;
          LogRecord record{{"epoch", progress.epoch}, {"iter", progress.iter}};
          for (const auto& [name, v] : coco_metric_values(*scores)) {
            record.emplace_back(name, v);
            tensorboard->add_scalar(name, v, progress.iter);
          }
          tensorboard->flush();
          json_log->write(record);
        }
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
