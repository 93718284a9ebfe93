#include "train/bench.h"

#include "core/threads.h"
#include "ops/matmul.h"
#include "ops/random.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace splat::train {
namespace {

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

} // namespace

void bench_matmul(const std::vector<int64_t>& sizes, double min_seconds) {
  for (int64_t n : sizes) {
    const Tensor a = ops::randn({n, n}), b = ops::randn({n, n});
    const double s = best_seconds([&] { (void)ops::mm(a, b); }, min_seconds);
    const double gflops = 2.0 * n * n * n / s / 1e9;
    std::printf("matmul n=%lld gflops=%.1f threads=%d\n", static_cast<long long>(n), gflops,
                num_threads());
    std::fflush(stdout);
  }
}

} // namespace splat::train
