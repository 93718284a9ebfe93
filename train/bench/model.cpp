// `splat bench model`: images per second of a classifier's training step (forward, cross-entropy,
// backward, SGD update) and of its eval forward, after warm-up, plus the peak tensor memory of
// the device. scripts/bench_vs_torch.py model runs the same workload in PyTorch.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/allocator.h"
#include "core/cuda/runtime.h"
#include "core/threads.h"
#include "models/resnest.h"
#include "ops/copy.h"
#include "ops/loss.h"
#include "ops/random.h"
#include "train/bench/bench.h"
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

void wait_for(Device d) {
  if (d.is_cuda()) cuda::synchronize({});
}

void bench_model(const ModelBenchOptions& o) {
  const Device device = o.device == "cuda" ? Device::cuda(0) : Device::cpu();
  auto model = models::make_classifier(o.model);
  model->to(device);
  const Tensor x = ops::randn({o.batch, 3, o.size, o.size}, {.device = device});
  const Tensor labels = ops::randint(0, model->config.num_classes, {o.batch}, {.dtype = DType::i64, .device = device});
  Sgd sgd(model->parameters(), {.lr = 0.01});
  allocator_for(device).reset_peak();

  model->train();
  auto train_step = [&] {
    sgd.zero_grad();
    autograd::backward({ops::cross_entropy(model->forward(x), labels)}, {});
    sgd.step();
    wait_for(device);
  };
  // min_seconds 0: exactly `iters` timed runs after the warm-up (a step takes seconds on a CPU).
  const double train_s = best_seconds(train_step, 0, o.iters);
  profile_once("one training step", train_step);
  model->eval();
  autograd::NoGradGuard no_grad;
  auto infer = [&] { (void)model->forward(x); wait_for(device); };
  const double infer_s = best_seconds(infer, 0, o.iters);
  profile_once("one inference", infer);
  const double train_ips = o.batch / train_s, infer_ips = o.batch / infer_s;
  const int64_t peak = allocator_for(device).stats().peak_bytes;
  if (o.json) {
    std::printf("{\"model\": \"%s\", \"batch\": %lld, \"size\": %lld, \"device\": \"%s\", \"threads\": %d, "
                "\"train_images_per_s\": %.3f, \"infer_images_per_s\": %.3f, \"peak_memory_bytes\": %lld}\n",
                o.model.c_str(), static_cast<long long>(o.batch), static_cast<long long>(o.size),
                o.device.c_str(), num_threads(), train_ips, infer_ips, static_cast<long long>(peak));
  } else {
    std::printf("model %s batch=%lld size=%lld device=%s threads=%d: train %.2f images/s, "
                "inference %.2f images/s, peak memory %.1f MiB\n",
                o.model.c_str(), static_cast<long long>(o.batch), static_cast<long long>(o.size),
                o.device.c_str(), num_threads(), train_ips, infer_ips, peak / 1048576.0);
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
  cmd->add_option("--iters", o->iters, "Timed iterations after one warm-up (the best is reported)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json, "Print one JSON object instead of a line");
  out.push_back({cmd, [o] { bench_model(*o); }});
}

} // namespace splat::train
