#include "core/cuda/host_sync.h"

#include "core/error.h"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace splat::cuda {

struct HostSyncCounter::State {
  HostSyncCounts counts;
  std::vector<std::string> calls;
};

namespace {

// The live counters. The atomic lets the runtime's hot paths skip the lock when none is alive.
struct Registry {
  std::mutex mu;
  std::vector<HostSyncCounter::State*> live;
  std::atomic<int> size{0};
};

Registry& registry() {
  static Registry r;
  return r;
}

int64_t& field(HostSyncCounts& c, HostSync kind) {
  switch (kind) {
  case HostSync::device_to_host_copy: return c.device_to_host_copies;
  case HostSync::stream_synchronize: return c.stream_synchronizes;
  case HostSync::device_synchronize: return c.device_synchronizes;
  case HostSync::event_synchronize: return c.event_synchronizes;
  }
  throw Error(str("host sync kind ", static_cast<int>(kind), " unknown"));
}

thread_local HostSyncReason t_reason = HostSyncReason::unstated;

} // namespace

HostSyncReasonScope::HostSyncReasonScope(HostSyncReason reason) : previous_(t_reason) { t_reason = reason; }
HostSyncReasonScope::~HostSyncReasonScope() { t_reason = previous_; }

const char* host_sync_reason_name(HostSyncReason reason) {
  switch (reason) {
  case HostSyncReason::unstated: return "unstated";
  case HostSyncReason::bounds_check: return "bounds_check";
  case HostSyncReason::output_size: return "output_size";
  case HostSyncReason::host_computation: return "host_computation";
  case HostSyncReason::logging: return "logging";
  }
  return "unknown reason";
}

const char* host_sync_name(HostSync kind) {
  switch (kind) {
  case HostSync::device_to_host_copy: return "device_to_host_copy";
  case HostSync::stream_synchronize: return "stream_synchronize";
  case HostSync::device_synchronize: return "device_synchronize";
  case HostSync::event_synchronize: return "event_synchronize";
  }
  return "unknown host sync";
}

HostSyncCounter::HostSyncCounter() : state_(std::make_unique<State>()) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.live.push_back(state_.get());
  r.size.store(static_cast<int>(r.live.size()), std::memory_order_release);
}

HostSyncCounter::~HostSyncCounter() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.live.erase(std::find(r.live.begin(), r.live.end(), state_.get()));
  r.size.store(static_cast<int>(r.live.size()), std::memory_order_release);
}

HostSyncCounts HostSyncCounter::counts() const {
  std::lock_guard lock(registry().mu);
  return state_->counts;
}

std::vector<std::string> HostSyncCounter::calls() const {
  std::lock_guard lock(registry().mu);
  return state_->calls;
}

void record_host_sync(HostSync kind, const std::source_location& where) {
  Registry& r = registry();
  if (r.size.load(std::memory_order_acquire) == 0) return;
  const HostSyncReason reason = t_reason;
  const std::string call = str(host_sync_name(kind), " (", host_sync_reason_name(reason), ") at ",
                               where.file_name(), ":", where.line());
  std::lock_guard lock(r.mu);
  for (HostSyncCounter::State* s : r.live) {
    ++field(s->counts, kind);
    ++s->counts.by_reason[static_cast<size_t>(reason)];
    s->calls.push_back(call);
  }
}

} // namespace splat::cuda
