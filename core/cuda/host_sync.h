// Counting the calls that make the host wait for a CUDA device.
//
// A training step on a GPU runs at full speed only while the host queues kernels ahead of the
// device; each device-to-host copy, stream or device synchronise and blocking event wait drains
// that queue. The runtime layer (runtime_real.cpp and emu/runtime_emu.cpp alike) reports every
// such call here, so a test or a benchmark counts them in the emulated build exactly as a GPU run
// would make them:
//
//   cuda::HostSyncCounter counter;   // counts from here ...
//   step();
//   CHECK(counter.counts().total() == 0);   // ... to here, on every thread of the process
//
// Counters nest and never need resetting; a call is counted by every counter alive when it is
// made. Code that must wait says why with a HostSyncReasonScope, so a count can be checked
// reason by reason (and a new, unexplained wait shows up as `unstated`). Asynchronous copies to the host count as copies: the host reads their result only after
// a wait, and the copy itself orders after all earlier work on its stream.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <source_location>
#include <string>
#include <vector>

namespace splat::cuda {

enum class HostSync { device_to_host_copy, stream_synchronize, device_synchronize, event_synchronize };

// Why the host waits.
enum class HostSyncReason {
  unstated,          // no HostSyncReasonScope around the call
  bounds_check,      // validating device values on the host (index ranges, labels, batch indices)
  output_size,       // a data-dependent output shape (nonzero, masked_select, NMS keep count)
  host_computation,  // device values a host computation needs (RoI levels, a loss normaliser)
  logging,           // values read to print or log them
};
inline constexpr int kHostSyncReasons = 5;
static_assert(static_cast<int>(HostSyncReason::logging) + 1 == kHostSyncReasons);

struct HostSyncCounts {
  int64_t device_to_host_copies = 0;  // memcpy / memcpy_async with CopyKind::device_to_host
  int64_t stream_synchronizes = 0;    // synchronize(stream)
  int64_t device_synchronizes = 0;    // device_synchronize()
  int64_t event_synchronizes = 0;     // synchronize_event(event)
  std::array<int64_t, kHostSyncReasons> by_reason{};  // the same calls, by HostSyncReason
  int64_t total() const {
    return device_to_host_copies + stream_synchronizes + device_synchronizes + event_synchronizes;
  }
  int64_t of(HostSyncReason r) const { return by_reason[static_cast<size_t>(r)]; }
};

// States the reason for the host syncs this thread makes while it is alive (the innermost
// scope wins).
class HostSyncReasonScope {
public:
  explicit HostSyncReasonScope(HostSyncReason reason);
  ~HostSyncReasonScope();
  HostSyncReasonScope(const HostSyncReasonScope&) = delete;
  HostSyncReasonScope& operator=(const HostSyncReasonScope&) = delete;

private:
  HostSyncReason previous_;
};

// Counts the host synchronisations of the whole process (all threads) while it is alive.
class HostSyncCounter {
public:
  HostSyncCounter();
  ~HostSyncCounter();
  HostSyncCounter(const HostSyncCounter&) = delete;
  HostSyncCounter& operator=(const HostSyncCounter&) = delete;

  HostSyncCounts counts() const;
  // One line per counted call, in call order: what it was, its reason and the runtime call's
  // site, e.g. "device_to_host_copy (bounds_check) at ../core/tensor.cpp:73" (for failure
  // messages).
  std::vector<std::string> calls() const;

  struct State;  // shared with the runtime's recording hook (host_sync.cpp)

private:
  std::unique_ptr<State> state_;
};

// Called by the runtime layer for every host synchronisation; counts it in every live counter.
void record_host_sync(HostSync kind, const std::source_location& where);

const char* host_sync_name(HostSync kind);
const char* host_sync_reason_name(HostSyncReason reason);

} // namespace splat::cuda
