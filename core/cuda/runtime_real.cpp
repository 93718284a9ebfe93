// The runtime layer of the real build: thin checked wrappers over the CUDA runtime API.
#include "core/cuda/runtime.h"

#include "core/cuda/host_sync.h"
#include "core/cuda/launch_config.h"
#include "core/error.h"

#include <cuda_runtime.h>

#include <optional>

namespace splat::cuda {
namespace {

// The last kernel this thread launched: kernels run asynchronously, so a fault one causes (an
// illegal address, a device-side trap) is reported by whichever call comes next.
struct LastLaunch {
  const void* kernel = nullptr;
  std::optional<LaunchConfig> cfg;
};
thread_local LastLaunch t_last_launch;

std::string error_text(cudaError_t err) { return str(cudaGetErrorName(err), ": ", cudaGetErrorString(err)); }

void check(cudaError_t status, const char* call, const std::source_location& where) {
  if (status == cudaSuccess) return;
  const LastLaunch& last = t_last_launch;
  throw Error(str(call, " failed at ", where.file_name(), ":", where.line(), ": ", error_text(status),
                  last.cfg ? str(" (the last kernel launched on this thread, which may have caused it: ",
                                 describe(last.kernel, *last.cfg), ")")
                           : std::string()));
}
cudaStream_t raw(Stream s) { return static_cast<cudaStream_t>(s.handle); }
cudaEvent_t raw(Event e) { return static_cast<cudaEvent_t>(e.handle); }
cudaMemcpyKind raw(CopyKind k) {
  switch (k) {
  case CopyKind::host_to_device: return cudaMemcpyHostToDevice;
  case CopyKind::device_to_host: return cudaMemcpyDeviceToHost;
  case CopyKind::device_to_device: return cudaMemcpyDefault;  // also between devices (UVA)
  case CopyKind::host_to_host: return cudaMemcpyHostToHost;
  }
  return cudaMemcpyDefault;
}
} // namespace

void check_launched(int status, const void* kernel, const LaunchConfig& cfg) {
  const auto err = static_cast<cudaError_t>(status);
  if (err != cudaSuccess) throw Error(str(describe(kernel, cfg), " failed: ", error_text(err)));
  t_last_launch.kernel = kernel;
  t_last_launch.cfg = cfg;
}

const char* kernel_symbol(const void* kernel) {
  const char* name = nullptr;
  if (cudaFuncGetName(&name, kernel) != cudaSuccess) {
    (void)cudaGetLastError();
    return nullptr;
  }
  return name;
}

bool is_real_build() { return true; }

int device_count() {
  int n = 0;
  // No driver or no device both mean "no GPU here": CUDA tests skip, CPU work goes on.
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

DeviceProps device_props(int device) {
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties", std::source_location::current());
  DeviceProps d;
  d.name = p.name;
  d.major = p.major;
  d.minor = p.minor;
  d.multiprocessors = p.multiProcessorCount;
  d.total_memory = p.totalGlobalMem;
  d.max_threads_per_block = p.maxThreadsPerBlock;
  d.max_shared_per_block = p.sharedMemPerBlock;
  d.max_shared_per_block_optin = p.sharedMemPerBlockOptin;
  d.warp_size = p.warpSize;
  return d;
}

void set_device(int device, std::source_location where) { check(cudaSetDevice(device), "cudaSetDevice", where); }

int current_device() {
  int d = 0;
  check(cudaGetDevice(&d), "cudaGetDevice", std::source_location::current());
  return d;
}

Stream create_stream(std::source_location where) {
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate", where);
  return Stream{s};
}
void destroy_stream(Stream s, std::source_location where) { check(cudaStreamDestroy(raw(s)), "cudaStreamDestroy", where); }
void synchronize(Stream s, std::source_location where) {
  record_host_sync(HostSync::stream_synchronize, where);
  check(cudaStreamSynchronize(raw(s)), "cudaStreamSynchronize", where);
}
void device_synchronize(std::source_location where) {
  record_host_sync(HostSync::device_synchronize, where);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize", where);
}

Event create_event(std::source_location where) {
  cudaEvent_t e = nullptr;
  check(cudaEventCreate(&e), "cudaEventCreate", where);
  return Event{e};
}
void destroy_event(Event e, std::source_location where) { check(cudaEventDestroy(raw(e)), "cudaEventDestroy", where); }
void record_event(Event e, Stream s, std::source_location where) { check(cudaEventRecord(raw(e), raw(s)), "cudaEventRecord", where); }
void synchronize_event(Event e, std::source_location where) {
  record_host_sync(HostSync::event_synchronize, where);
  check(cudaEventSynchronize(raw(e)), "cudaEventSynchronize", where);
}
bool query_event(Event e, std::source_location where) {
  const cudaError_t status = cudaEventQuery(raw(e));
  if (status == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  check(status, "cudaEventQuery", where);
  return true;
}
float elapsed_ms(Event start, Event end, std::source_location where) {
  float ms = 0;
  check(cudaEventElapsedTime(&ms, raw(start), raw(end)), "cudaEventElapsedTime", where);
  return ms;
}
void stream_wait_event(Stream s, Event e, std::source_location where) {
  check(cudaStreamWaitEvent(raw(s), raw(e), 0), "cudaStreamWaitEvent", where);
}

void* device_malloc(size_t bytes, std::source_location where) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes), "cudaMalloc", where);
  return p;
}
void device_free(void* ptr, std::source_location where) { check(cudaFree(ptr), "cudaFree", where); }
void* host_alloc_pinned(size_t bytes, std::source_location where) {
  void* p = nullptr;
  check(cudaHostAlloc(&p, bytes, cudaHostAllocDefault), "cudaHostAlloc", where);
  return p;
}
void host_free_pinned(void* ptr, std::source_location where) {
  check(cudaFreeHost(ptr), "cudaFreeHost", where);
}
void mem_get_info(size_t& free_bytes, size_t& total_bytes, std::source_location where) {
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo", where);
}

void memcpy(void* dst, const void* src, size_t bytes, CopyKind kind, std::source_location where) {
  if (bytes == 0) return;  // as the emulated runtime: an empty copy is no host sync
  if (kind == CopyKind::device_to_host) record_host_sync(HostSync::device_to_host_copy, where);
  check(cudaMemcpy(dst, src, bytes, raw(kind)), "cudaMemcpy", where);
}
void memcpy_async(void* dst, const void* src, size_t bytes, CopyKind kind, Stream s, std::source_location where) {
  if (bytes == 0) return;
  if (kind == CopyKind::device_to_host) record_host_sync(HostSync::device_to_host_copy, where);
  check(cudaMemcpyAsync(dst, src, bytes, raw(kind), raw(s)), "cudaMemcpyAsync", where);
}
void memset(void* dst, int value, size_t bytes, Stream s, std::source_location where) {
  check(cudaMemsetAsync(dst, value, bytes, raw(s)), "cudaMemsetAsync", where);
}

void func_set_max_dynamic_shared(const void* kernel, size_t bytes, std::source_location where) {
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
        "cudaFuncSetAttribute", where);
}

} // namespace splat::cuda
