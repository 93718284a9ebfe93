// `splat bench ...`: throughput measurements (never tests). Each benchmark prints one line per
// configuration so scripts/bench_vs_torch.py can parse and compare it.
#pragma once

#include "core/profile.h"
#include "train/commands/command.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace splat::train {

// Runs fn at least min_reps times and for at least min_seconds after one warm-up; returns the
// fastest run in seconds (the least disturbed by other processes on a shared machine).
template <class F> double best_seconds(F&& fn, double min_seconds, int min_reps = 3) {
  using clock = std::chrono::steady_clock;
  fn();
  double best = 1e30, total = 0;
  for (int reps = 0; reps < min_reps || total < min_seconds; ++reps) {
    const auto t0 = clock::now();
    fn();
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::min(best, s);
    total += s;
  }
  return best;
}

// With SPLAT_PROFILE set, runs fn once more and prints the per-op table of that run
// (core/profile.h), titled `title`.
template <class F> void profile_once(std::string_view title, F&& fn) {
  if (!profile::enabled()) return;
  profile::reset();
  fn();
  profile::print_and_reset(title);
}

// Square f32 GEMMs: prints "matmul n=N gflops=G threads=T" per size.
void bench_matmul(const std::vector<int64_t>& sizes, double min_seconds);

// The distinct conv2d shapes of ResNeSt-50 at 224x224 (train/bench/conv.cpp): prints one line per
// shape with ms and GFLOP/s, forward and, with backward, forward+backward, then the total.
void bench_conv(int64_t batch, double min_seconds, bool backward);
// Declares `splat bench conv [--batch N] [--min-seconds S] [--backward]`.
void add_bench_conv_command(CLI::App& bench, Commands& out);
// `splat bench model` (train/bench/model.cpp), `splat bench detector` (train/bench/detector.cpp)
// and `splat bench allreduce` (train/bench/allreduce.cpp).
void add_bench_model_command(CLI::App& bench, Commands& out);
void add_bench_detector_command(CLI::App& bench, Commands& out);
void add_bench_allreduce_command(CLI::App& bench, Commands& out);
// `splat bench eval` (train/bench/eval.cpp): COCO evaluation on a synthetic COCO-val-sized set.
void add_bench_eval_command(CLI::App& bench, Commands& out);

} // namespace splat::train
