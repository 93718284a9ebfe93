// The `splat` command. Subcommands grow with the roadmap (design.md section 8); errors print one
// line and exit non-zero.
#include "core/error.h"
#include "core/threads.h"
#include "train/bench.h"
#include "train/demo.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"splat: ResNeSt and R-CNN detectors from scratch in C++20/CUDA"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads (default: SPLAT_NUM_THREADS or all cores)")
      ->check(CLI::PositiveNumber);

  CLI::App* bench = app.add_subcommand("bench", "Measure throughput");
  bench->require_subcommand(1);
  CLI::App* bench_mm = bench->add_subcommand("matmul", "Square f32 GEMM GFLOP/s");
  std::vector<int64_t> sizes{512, 1024, 2048};
  double min_seconds = 1.0;
  bench_mm->add_option("--sizes", sizes, "Matrix sizes")->check(CLI::PositiveNumber);
  bench_mm->add_option("--min-seconds", min_seconds, "Minimum timed seconds per size");

  CLI::App* demo = app.add_subcommand(
      "demo", "Train an MLP on synthetic spirals end to end (the demo until the detectors exist)");
  splat::train::DemoOptions demo_opts;
  demo->add_option("--steps", demo_opts.steps, "SGD steps")->check(CLI::PositiveNumber);
  demo->add_option("--lr", demo_opts.lr, "Learning rate")->check(CLI::PositiveNumber);
  demo->add_option("--checkpoint", demo_opts.checkpoint, "Where to save the trained weights");

  CLI11_PARSE(app, argc, argv);
  try {
    if (threads > 0) splat::set_num_threads(threads);
    if (bench_mm->parsed()) splat::train::bench_matmul(sizes, min_seconds);
    if (demo->parsed()) splat::train::run_demo(demo_opts);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "splat: error: %s\n", e.what());
    return 1;
  }
}
