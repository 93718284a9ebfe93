// parallel_for: the one way CPU kernels split work over OpenMP threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <omp.h>

namespace splat::ops::cpu {

// Below this many elements of work a kernel runs on the calling thread: spawning a team costs
// a few microseconds, more than small tensors take.
constexpr int64_t kGrainSize = 32768;

// Calls fn(begin, end) on disjoint chunks covering [0, n), in parallel when cost = n * work_per
// _item is large enough. Chunks are contiguous so each thread streams through memory.
template <class F> void parallel_for(int64_t n, int64_t work_per_item, F&& fn) {
  if (n <= 0) return;
  const int64_t work = n * std::max<int64_t>(work_per_item, 1);
  if (work < kGrainSize || omp_get_max_threads() == 1 || omp_in_parallel()) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads();
    const int64_t tid = omp_get_thread_num();
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t b = tid * chunk;
    const int64_t e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  }
}

} // namespace splat::ops::cpu
