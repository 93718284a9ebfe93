// Timed iterations with the device memory each one used, shared by `splat bench model` and
// `splat bench detector` so both report time and memory the same way.
//
// Before every timed iteration the device's peak counters are reset, so an iteration's peaks are
// its own: peak allocated = the most bytes live tensors held at once (whole caching-allocator
// blocks on CUDA, what torch.cuda.max_memory_allocated reports), peak reserved = the most bytes
// held from the driver (torch.cuda.max_memory_reserved; on the CPU, which caches nothing, the
// same as allocated). The emulated CUDA device's caching allocator is the real build's, so these
// are the bytes a GPU run allocates (cuDNN workspaces aside).
#pragma once

#include "core/device.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace splat::train {

struct IterationSample {
  double seconds = 0;
  int64_t peak_allocated_bytes = 0;
  int64_t peak_reserved_bytes = 0;
};

// Runs fn once as a warm-up, then `iters` timed times, each followed by a device synchronise so
// the time covers the device's work.
std::vector<IterationSample> timed_iterations(Device device, int iters, const std::function<void()>& fn);

// Waits for the device's queued work (nothing on the CPU).
void wait_for(Device device);

struct IterationSummary {
  double best_seconds = 0;                // the fastest iteration (least disturbed on a shared machine)
  int64_t max_peak_allocated_bytes = 0;   // over all iterations
  int64_t max_peak_reserved_bytes = 0;
};
IterationSummary summarize(const std::vector<IterationSample>& samples);

// `"<key>": [{"seconds": S, "peak_allocated_bytes": A, "peak_reserved_bytes": R}, ...]`, for the
// benchmarks' one-line JSON.
std::string iterations_json(const std::string& key, const std::vector<IterationSample>& samples);
// One line per iteration: "  <label> iteration i: S s, peak allocated A MiB, reserved R MiB".
void print_iterations(const std::string& label, const std::vector<IterationSample>& samples);

} // namespace splat::train
