#include "train/bench/iteration_memory.h"

#include "core/allocator.h"
#include "core/cuda/caching_allocator.h"
#include "core/cuda/runtime.h"
#include "core/error.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace splat::train {
namespace {

int64_t peak_reserved(Device device) {
  if (device.is_cuda()) return cuda::caching_allocator(device.index).caching_stats().peak_reserved_bytes;
  return allocator_for(device).stats().peak_bytes;
}

} // namespace

void wait_for(Device device) {
  if (device.is_cuda()) cuda::synchronize({});
}

std::vector<IterationSample> timed_iterations(Device device, int iters, const std::function<void()>& fn) {
  SPLAT_CHECK(iters >= 1, "timed_iterations: need at least 1 timed iteration, got ", iters);
  using clock = std::chrono::steady_clock;
  fn();
  wait_for(device);
  std::vector<IterationSample> samples;
  Allocator& alloc = allocator_for(device);
  for (int i = 0; i < iters; ++i) {
    alloc.reset_peak();
    const auto t0 = clock::now();
    fn();
    wait_for(device);
    samples.push_back({.seconds = std::chrono::duration<double>(clock::now() - t0).count(),
                       .peak_allocated_bytes = alloc.stats().peak_bytes,
                       .peak_reserved_bytes = peak_reserved(device)});
  }
  return samples;
}

IterationSummary summarize(const std::vector<IterationSample>& samples) {
  SPLAT_CHECK(!samples.empty(), "summarize: no iterations");
  IterationSummary s{.best_seconds = samples.front().seconds};
  for (const IterationSample& x : samples) {
    s.best_seconds = std::min(s.best_seconds, x.seconds);
    s.max_peak_allocated_bytes = std::max(s.max_peak_allocated_bytes, x.peak_allocated_bytes);
    s.max_peak_reserved_bytes = std::max(s.max_peak_reserved_bytes, x.peak_reserved_bytes);
  }
  return s;
}

std::string iterations_json(const std::string& key, const std::vector<IterationSample>& samples) {
  std::string out = "\"" + key + "\": [";
  for (size_t i = 0; i < samples.size(); ++i) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s{\"seconds\": %.4f, \"peak_allocated_bytes\": %lld, \"peak_reserved_bytes\": %lld}",
                  i == 0 ? "" : ", ", samples[i].seconds, static_cast<long long>(samples[i].peak_allocated_bytes),
                  static_cast<long long>(samples[i].peak_reserved_bytes));
    out += buf;
  }
  return out + "]";
}

void print_iterations(const std::string& label, const std::vector<IterationSample>& samples) {
  for (size_t i = 0; i < samples.size(); ++i)
    std::printf("  %s iteration %zu: %.3f s, peak allocated %.1f MiB, reserved %.1f MiB\n", label.c_str(), i + 1,
                samples[i].seconds, samples[i].peak_allocated_bytes / 1048576.0,
                samples[i].peak_reserved_bytes / 1048576.0);
}

} // namespace splat::train
