// The runtime layer of the emulated build: devices are host memory, streams and events run in
// issue order on the calling thread. Checks mirror the real runtime's errors (unknown pointers,
// bad device indices, out of memory) so misuse fails here as it would on a GPU.
#include "core/cuda/runtime.h"

#include "core/cuda/host_sync.h"
#include "core/error.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace splat::cuda {
namespace {

// SPLAT_EMU_DEVICES (default 2, so multi-device code paths run) and SPLAT_EMU_DEVICE_MEMORY
// (bytes per device, default 8 GiB) size the emulated machine.
int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr) return fallback;
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  SPLAT_CHECK(end != v && *end == '\0' && n > 0, name, "='", v, "' is not a positive integer");
  return n;
}

struct Emulated {
  int devices = static_cast<int>(env_int("SPLAT_EMU_DEVICES", 2));
  size_t capacity = static_cast<size_t>(env_int("SPLAT_EMU_DEVICE_MEMORY", int64_t{8} << 30));
  std::mutex mu;
  std::unordered_map<void*, std::pair<size_t, int>> live;  // pointer -> (bytes, device)
  std::vector<size_t> used = std::vector<size_t>(static_cast<size_t>(devices), 0);
};

Emulated& emu() {
  static Emulated e;
  return e;
}

thread_local int t_device = 0;

[[noreturn]] void fail(const char* call, const std::string& what, const std::source_location& where) {
  throw Error(str(call, " failed at ", where.file_name(), ":", where.line(), ": ", what));
}

struct EventState {
  std::chrono::steady_clock::time_point when;
  bool recorded = false;
};

} // namespace

bool is_real_build() { return false; }

int device_count() { return emu().devices; }

DeviceProps device_props(int device) {
  SPLAT_CHECK(device >= 0 && device < device_count(), "device_props: no device ", device, " (",
              device_count(), " emulated devices)");
  DeviceProps p;
  p.name = "splat emulated sm_90 device " + std::to_string(device);
  p.major = 9;
  p.minor = 0;
  p.multiprocessors = 132;
  p.total_memory = emu().capacity;
  return p;
}

void set_device(int device, std::source_location where) {
  if (device < 0 || device >= device_count())
    fail("cudaSetDevice", str("invalid device ordinal ", device, " (", device_count(), " devices)"), where);
  t_device = device;
}

int current_device() { return t_device; }

Stream create_stream(std::source_location) { return Stream{new int(0)}; }
void destroy_stream(Stream s, std::source_location where) {
  if (s.handle == nullptr) fail("cudaStreamDestroy", "the default stream cannot be destroyed", where);
  delete static_cast<int*>(s.handle);
}
// Nothing to wait for here, but counted as on a GPU (core/cuda/host_sync.h).
void synchronize(Stream, std::source_location where) { record_host_sync(HostSync::stream_synchronize, where); }
void device_synchronize(std::source_location where) { record_host_sync(HostSync::device_synchronize, where); }

Event create_event(std::source_location) { return Event{new EventState()}; }
void destroy_event(Event e, std::source_location where) {
  if (e.handle == nullptr) fail("cudaEventDestroy", "invalid event", where);
  delete static_cast<EventState*>(e.handle);
}
void record_event(Event e, Stream, std::source_location where) {
  if (e.handle == nullptr) fail("cudaEventRecord", "invalid event", where);
  auto* st = static_cast<EventState*>(e.handle);
  st->when = std::chrono::steady_clock::now();
  st->recorded = true;
}
void synchronize_event(Event e, std::source_location where) {
  if (e.handle == nullptr) fail("cudaEventSynchronize", "invalid event", where);
  record_host_sync(HostSync::event_synchronize, where);
}
bool query_event(Event e, std::source_location where) {
  if (e.handle == nullptr) fail("cudaEventQuery", "invalid event", where);
  return true;  // work runs synchronously at issue
}
float elapsed_ms(Event start, Event end, std::source_location where) {
  auto* a = static_cast<EventState*>(start.handle);
  auto* b = static_cast<EventState*>(end.handle);
  if (a == nullptr || b == nullptr || !a->recorded || !b->recorded)
    fail("cudaEventElapsedTime", "both events must have been recorded", where);
  return std::chrono::duration<float, std::milli>(b->when - a->when).count();
}
void stream_wait_event(Stream, Event e, std::source_location where) {
  if (e.handle == nullptr) fail("cudaStreamWaitEvent", "invalid event", where);
}

void func_set_max_dynamic_shared(const void*, size_t, std::source_location) {}

// Kernels are host functions here: the symbol table names them where the binary exports them.
const char* kernel_symbol(const void* kernel) {
  Dl_info info{};
  if (dladdr(kernel, &info) == 0 || info.dli_sname == nullptr || info.dli_saddr != kernel) return nullptr;
  return info.dli_sname;
}

void* device_malloc(size_t bytes, std::source_location where) {
  Emulated& e = emu();
  std::lock_guard lock(e.mu);
  size_t& used = e.used[static_cast<size_t>(t_device)];
  if (bytes > e.capacity - used)
    fail("cudaMalloc", str("out of memory: requested ", bytes, " bytes, ", e.capacity - used,
                           " free of ", e.capacity, " on emulated device ", t_device), where);
  // 256-byte alignment, as cudaMalloc guarantees, and exactly the requested size (at least one
  // byte, so every pointer is unique), so ASan builds catch kernels that run past the end.
  void* p = nullptr;
  if (posix_memalign(&p, 256, std::max<size_t>(bytes, 1)) != 0)
    fail("cudaMalloc", str("host allocation of ", bytes, " bytes failed"), where);
  e.live[p] = {bytes, t_device};
  used += bytes;
  return p;
}

void device_free(void* ptr, std::source_location where) {
  if (ptr == nullptr) return;
  Emulated& e = emu();
  std::lock_guard lock(e.mu);
  auto it = e.live.find(ptr);
  if (it == e.live.end()) fail("cudaFree", str("pointer ", ptr, " was not returned by cudaMalloc"), where);
  e.used[static_cast<size_t>(it->second.second)] -= it->second.first;
  e.live.erase(it);
  std::free(ptr);
}

// Host memory needs no pinning here; the alignment matches what cudaHostAlloc gives (a page).
void* host_alloc_pinned(size_t bytes, std::source_location where) {
  void* p = nullptr;
  if (posix_memalign(&p, 4096, std::max<size_t>(bytes, 1)) != 0)
    fail("cudaHostAlloc", str("host allocation of ", bytes, " bytes failed"), where);
  return p;
}
void host_free_pinned(void* ptr, std::source_location) { std::free(ptr); }

void mem_get_info(size_t& free_bytes, size_t& total_bytes, std::source_location) {
  Emulated& e = emu();
  std::lock_guard lock(e.mu);
  total_bytes = e.capacity;
  free_bytes = e.capacity - e.used[static_cast<size_t>(t_device)];
}

namespace {
void copy(void* dst, const void* src, size_t bytes, CopyKind kind, const char* call, const std::source_location& where) {
  if (bytes == 0) return;
  if (dst == nullptr || src == nullptr) fail(call, "null pointer", where);
  if (kind == CopyKind::device_to_host) record_host_sync(HostSync::device_to_host_copy, where);
  std::memmove(dst, src, bytes);
}
} // namespace

void memcpy(void* dst, const void* src, size_t bytes, CopyKind kind, std::source_location where) {
  copy(dst, src, bytes, kind, "cudaMemcpy", where);
}

void memcpy_async(void* dst, const void* src, size_t bytes, CopyKind kind, Stream, std::source_location where) {
  copy(dst, src, bytes, kind, "cudaMemcpyAsync", where);
}

void memset(void* dst, int value, size_t bytes, Stream, std::source_location where) {
  if (bytes == 0) return;
  if (dst == nullptr) fail("cudaMemset", "null pointer", where);
  std::memset(dst, value, bytes);
}

} // namespace splat::cuda
