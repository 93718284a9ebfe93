// `splat bench model`: images per second of a classifier's training step (forward, cross-entropy,
// backward, SGD update) and of its eval forward, after warm-up, plus the device memory of each
// timed training step (train/bench/iteration_memory.h). scripts/bench_vs_torch.py model runs
// the same workload in PyTorch.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/threads.h"
#include "models/resnest.h"
#include "ops/copy.h"
#include "ops/loss.h"
#include "ops/random.h"
#include "train/bench/bench.h"
#include "train/bench/iteration_memory.h"
#include "train/commands/command.h"
#include "train/optim/sgd.h"

#include <cstdio>
#include <memory>

namespace splat::train {
namespace {

struct ModelBenchOptions {
  std::string model = "resnest50", device = "cpu";
  int64_t batch = 8, size = 224;
  int iters = 3;
  bool json = false;
};

void bench_model(const ModelBenchOptions& o) {
  const Device device = o.device == "cuda" ? Device::cuda(0) : Device::cpu();
  auto model = models::make_classifier(o.model);
  model->to(device);
  const Tensor x = ops::randn({o.batch, 3, o.size, o.size}, {.device = device});
  const Tensor labels = ops::randint(0, model->config.num_classes, {o.batch}, {.dtype = DType::i64, .device = device});
  Sgd sgd(model->parameters(), {.lr = 0.01});

  model->train();
  const auto train_step = [&] {
    sgd.zero_grad();
    autograd::backward({ops::cross_entropy(model->forward(x), labels)}, {});
    sgd.step();
  };
  const std::vector<IterationSample> train = timed_iterations(device, o.iters, train_step);
  profile_once("one training step", [&] { train_step(); wait_for(device); });
  model->eval();
  autograd::NoGradGuard no_grad;
  const auto infer_step = [&] { (void)model->forward(x); };
  const std::vector<IterationSample> infer = timed_iterations(device, o.iters, infer_step);
  profile_once("one inference", [&] { infer_step(); wait_for(device); });
  const IterationSummary ts = summarize(train), is = summarize(infer);
  const double train_ips = o.batch / ts.best_seconds, infer_ips = o.batch / is.best_seconds;
  if (o.json) {
    std::printf("{\"model\": \"%s\", \"batch\": %lld, \"size\": %lld, \"device\": \"%s\", \"threads\": %d, "
                "\"train_images_per_s\": %.3f, \"infer_images_per_s\": %.3f, \"peak_memory_bytes\": %lld, "
                "\"peak_reserved_bytes\": %lld, %s}\n",
                o.model.c_str(), static_cast<long long>(o.batch), static_cast<long long>(o.size),
                o.device.c_str(), num_threads(), train_ips, infer_ips,
                static_cast<long long>(ts.max_peak_allocated_bytes),
                static_cast<long long>(ts.max_peak_reserved_bytes), iterations_json("train_iterations", train).c_str());
  } else {
    print_iterations("train", train);
    std::printf("model %s batch=%lld size=%lld device=%s threads=%d: train %.2f images/s, "
                "inference %.2f images/s, peak memory %.1f MiB (reserved %.1f MiB)\n",
                o.model.c_str(), static_cast<long long>(o.batch), static_cast<long long>(o.size),
                o.device.c_str(), num_threads(), train_ips, infer_ips, ts.max_peak_allocated_bytes / 1048576.0,
                ts.max_peak_reserved_bytes / 1048576.0);
  }
  std::fflush(stdout);
}

} // namespace

void add_bench_model_command(CLI::App& bench, Commands& out) {
  auto o = std::make_shared<ModelBenchOptions>();
  CLI::App* cmd = bench.add_subcommand("model", "Training step and inference images/s of a classifier");
  cmd->add_option("--model", o->model, "resnest50, resnest101, resnest200 or resnest269");
  cmd->add_option("--batch", o->batch, "Images per batch")->check(CLI::PositiveNumber);
  cmd->add_option("--size", o->size, "Image height and width")->check(CLI::PositiveNumber);
  cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--iters", o->iters, "Timed iterations after one warm-up (the best time and the largest peak memory are reported)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json, "Print one JSON object instead of a line");
  out.push_back({cmd, [o] { bench_model(*o); }});
}

} // namespace splat::train
