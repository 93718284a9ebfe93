// `splat bench ...`: throughput measurements (never tests). Each benchmark prints one line per
// configuration so scripts/bench_vs_torch.py can parse and compare it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace splat::train {

// Runs fn at least 3 times and for at least min_seconds after one warm-up; returns the fastest
// run in seconds (the least disturbed by other processes on a shared machine).
template <class F> double best_seconds(F&& fn, double min_seconds) {
  using clock = std::chrono::steady_clock;
  fn();
  double best = 1e30, total = 0;
  for (int reps = 0; reps < 3 || total < min_seconds; ++reps) {
    const auto t0 = clock::now();
    fn();
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::min(best, s);
    total += s;
  }
  return best;
}

// Square f32 GEMMs: prints "matmul n=N gflops=G threads=T" per size.
void bench_matmul(const std::vector<int64_t>& sizes, double min_seconds);

} // namespace splat::train
