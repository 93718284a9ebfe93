// `splat bench detector`: images per second of a detector's training step (forward, losses,
// backward, SGD update) and of its inference, plus the device memory of each timed training step
// (train/bench/iteration_memory.h) and peak RSS.
// scripts/bench_detector_vs_mmdet.py runs the same workload in MMDetection and compares.
//
// Workload (the script's): B random-normal images, already normalised, of S x L with L =
// round(S * 1.375 / 32) * 32 (512 -> 704, landscape) unless --width gives L, 4 random GT boxes
// each; img_shape = (S, L), pad_shape = (S, L) padded up to multiples of 32 (--width 1333 with
// --size 800 is MMDetection's 1333x800 batch, padded to 800x1344), scale factor 1; a mask config's GT masks are the filled boxes. Inference
// runs first so that the peak RSS printed for it is its own.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/json_writer.h"
#include "core/threads.h"
#include "ops/copy.h"
#include "ops/random.h"
#include "train/bench/bench.h"
#include "train/bench/iteration_memory.h"
#include "train/config/experiment.h"
#include "train/optim/sgd.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

#include <sys/resource.h>

namespace splat::train {
namespace {

struct DetectorBenchOptions {
  std::string config, device = "cpu";
  int64_t batch = 2, size = 512, width = 0;  // width 0: from size
  int iters = 3;
  bool json = false;
  std::vector<std::string> overrides;
};

int64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;
}

// (G, h, w) u8 bitmaps of the filled boxes (G x 4 floats, x1 y1 x2 y2).
Tensor box_bitmaps(const std::vector<float>& boxes, int64_t h, int64_t w, Device device) {
  const auto g = static_cast<int64_t>(boxes.size() / 4);
  Tensor m = ops::zeros({g, h, w}, {.dtype = DType::u8});
  uint8_t* p = m.data<uint8_t>();
  for (int64_t i = 0; i < g; ++i)
    for (int64_t y = std::lround(boxes[4 * i + 1]); y < std::lround(boxes[4 * i + 3]); ++y)
      for (int64_t x = std::lround(boxes[4 * i]); x < std::lround(boxes[4 * i + 2]); ++x) p[(i * h + y) * w + x] = 1;
  return ops::to(m, device);
}

models::DetectorInput bench_input(const DetectorBenchOptions& o, int64_t num_classes, bool with_masks,
                                  Device device) {
  const int64_t h = o.size, w = o.width > 0 ? o.width : std::lround(o.size * 1.375 / 32.0) * 32;
  const auto padded = [](int64_t n) { return (n + 31) / 32 * 32; };
  Generator gen(1);
  models::DetectorInput in;
  in.images = ops::randn({o.batch, 3, padded(h), padded(w)}, {.device = device}, &gen);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1);
  for (int64_t b = 0; b < o.batch; ++b) {
    in.infos.push_back({.img_shape = {h, w}, .pad_shape = {padded(h), padded(w)}, .ori_shape = {h, w}});
    std::vector<float> boxes;
    std::vector<int64_t> labels;
    for (int k = 0; k < 4; ++k) {
      const float x = u(rng) * 0.7f * w, y = u(rng) * 0.7f * h;
      const float bw = (u(rng) * 0.25f + 0.05f) * w, bh = (u(rng) * 0.25f + 0.05f) * h;
      boxes.insert(boxes.end(), {x, y, std::min(x + bw, w - 1.0f), std::min(y + bh, h - 1.0f)});
      labels.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(num_classes)));
    }
    in.targets.push_back({.boxes = ops::from_vector(boxes, {4, 4}, device),
                          .labels = ops::from_vector(labels, {4}, device)});
    if (with_masks) in.targets.back().masks = std::make_shared<models::BitmapMasks>(box_bitmaps(boxes, h, w, device));
  }
  return in;
}

void bench_detector(const DetectorBenchOptions& o) {
  const Device device = o.device == "cuda" ? Device::cuda(0) : Device::cpu();
  const config::Experiment exp = config::load_experiment(o.config, o.overrides);
  auto model = config::build_detector(exp.model);
  model->to(device);
  const models::DetectorInput input = bench_input(o, exp.model.num_classes, exp.model.mask.has_value(), device);
  models::DetectorInput test_input = input;
  test_input.targets.clear();
  model->eval();
  std::vector<IterationSample> infer;
  {
    autograd::NoGradGuard no_grad;
    const auto infer_step = [&] { (void)model->predict(test_input); };
    infer = timed_iterations(device, o.iters, infer_step);
    profile_once("one inference", [&] { infer_step(); wait_for(device); });
  }
  const int64_t infer_rss = peak_rss_bytes();

  std::vector<Tensor> params;
  for (const Tensor& p : model->parameters())
    if (p.requires_grad()) params.push_back(p);
  // The spec's SGD (section 5) at its base learning rate, without warm-up.
  Sgd sgd(params, {.lr = 0.02, .momentum = 0.9, .weight_decay = 1e-4});
  model->train();
  Generator sampler_gen(2);
  const auto train_step = [&] {
    sgd.zero_grad();
    autograd::backward({models::total_loss(model->forward_train(input, &sampler_gen))}, {});
    sgd.step();
  };
  const std::vector<IterationSample> train = timed_iterations(device, o.iters, train_step);
  profile_once("one training step", [&] { train_step(); wait_for(device); });
  const IterationSummary ts = summarize(train);
  const double train_ips = o.batch / ts.best_seconds, infer_ips = o.batch / summarize(infer).best_seconds;
  const int64_t rss = peak_rss_bytes();
  const int64_t h = input.images.size(2), w = input.images.size(3);
  if (o.json) {
    std::string config;
    append_json_string(config, o.config);
    std::printf("{\"config\": %s, \"batch\": %lld, \"height\": %lld, \"width\": %lld, "
                "\"device\": \"%s\", \"threads\": %d, \"train_images_per_s\": %.4f, "
                "\"inference_images_per_s\": %.4f, \"peak_memory_bytes\": %lld, \"peak_reserved_bytes\": %lld, "
                "\"peak_rss_bytes\": %lld, \"inference_peak_rss_bytes\": %lld, %s}\n",
                config.c_str(), static_cast<long long>(o.batch), static_cast<long long>(h),
                static_cast<long long>(w), o.device.c_str(), num_threads(), train_ips, infer_ips,
                static_cast<long long>(ts.max_peak_allocated_bytes), static_cast<long long>(ts.max_peak_reserved_bytes),
                static_cast<long long>(rss), static_cast<long long>(infer_rss),
                iterations_json("train_iterations", train).c_str());
  } else {
    print_iterations("train", train);
    std::printf("detector %s batch=%lld %lldx%lld device=%s threads=%d: train %.3f images/s, "
                "inference %.3f images/s, peak memory %.1f MiB (reserved %.1f MiB), peak RSS %.1f MiB\n",
                o.config.c_str(), static_cast<long long>(o.batch), static_cast<long long>(h),
                static_cast<long long>(w), o.device.c_str(), num_threads(), train_ips, infer_ips,
                ts.max_peak_allocated_bytes / 1048576.0, ts.max_peak_reserved_bytes / 1048576.0, rss / 1048576.0);
  }
  std::fflush(stdout);
}

} // namespace

void add_bench_detector_command(CLI::App& bench, Commands& out) {
  auto o = std::make_shared<DetectorBenchOptions>();
  CLI::App* cmd = bench.add_subcommand("detector", "Training step and inference images/s of a detector");
  cmd->add_option("--config", o->config, "Detector config (configs/*.toml)")->required();
  cmd->add_option("--batch", o->batch, "Images per batch (training needs 2 or more)")
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  cmd->add_option("--size", o->size, "Image height (the short side)")
      ->check(CLI::Range(int64_t{32}, int64_t{1} << 16));
  cmd->add_option("--width", o->width, "Image width (default: 1.375 times the height, rounded to a multiple of 32)")
      ->check(CLI::Range(int64_t{32}, int64_t{1} << 16));
  cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--iters", o->iters, "Timed iterations after one warm-up (the best time and the largest peak memory are reported)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--set", o->overrides, "Config overrides key.path=value (repeatable)");
  cmd->add_flag("--json", o->json, "Print one JSON object instead of a line");
  out.push_back({cmd, [o] { bench_detector(*o); }});
}

} // namespace splat::train
