// The CUDA runtime layer: the only way host code reaches a CUDA device.
//
// Two implementations share this header: runtime_real.cpp calls the CUDA runtime (meson
// -Dcuda=enabled) and emu/runtime_emu.cpp runs everything on the host for the kernel emulator
// (the default build). Device memory in the emulated build is host heap memory, but host code
// still reaches it only through these calls, so code that works here is right on a GPU.
// Every call is checked: a failure throws splat::Error naming the call, the source file and line
// of the caller and the runtime's error string. Both implementations report every call that
// makes the host wait for the device (device-to-host copies, synchronisations) to
// core/cuda/host_sync.h, where tests and benchmarks count them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

namespace splat::cuda {

// True for the nvcc build (kernels run on a GPU), false for the emulated build.
bool is_real_build();

struct DeviceProps {
  std::string name;
  int major = 0, minor = 0;          // compute capability
  int multiprocessors = 0;
  size_t total_memory = 0;           // bytes
  int max_threads_per_block = 1024;
  size_t max_shared_per_block = 48 * 1024;        // static + default dynamic
  size_t max_shared_per_block_optin = 227 * 1024; // with cudaFuncAttributeMaxDynamicSharedMemorySize
  int warp_size = 32;
};

// Devices present (0 on a machine without GPUs in the real build).
int device_count();
DeviceProps device_props(int device);
void set_device(int device, std::source_location where = std::source_location::current());
int current_device();

// A stream handle; the default-constructed one is the legacy default stream. In the emulated
// build every operation runs synchronously, in issue order, which is one valid schedule.
struct Stream {
  void* handle = nullptr;
  friend bool operator==(Stream, Stream) = default;
};
Stream create_stream(std::source_location where = std::source_location::current());
void destroy_stream(Stream s, std::source_location where = std::source_location::current());
void synchronize(Stream s, std::source_location where = std::source_location::current());
void device_synchronize(std::source_location where = std::source_location::current());

struct Event {
  void* handle = nullptr;
};
Event create_event(std::source_location where = std::source_location::current());
void destroy_event(Event e, std::source_location where = std::source_location::current());
void record_event(Event e, Stream s, std::source_location where = std::source_location::current());
void synchronize_event(Event e, std::source_location where = std::source_location::current());
// Whether all work recorded before e has finished (never blocks).
bool query_event(Event e, std::source_location where = std::source_location::current());
// Milliseconds between two recorded events.
float elapsed_ms(Event start, Event end, std::source_location where = std::source_location::current());
// Makes work later issued on s wait for e.
void stream_wait_event(Stream s, Event e, std::source_location where = std::source_location::current());

// Raw driver allocations on the current device. Tensors never call these directly: they go
// through the caching allocator (core/cuda/caching_allocator.h).
void* device_malloc(size_t bytes, std::source_location where = std::source_location::current());
void device_free(void* ptr, std::source_location where = std::source_location::current());
// Page-locked (pinned) host memory, which the device reads by DMA so memcpy_async from it is truly
// asynchronous (cudaHostAlloc / cudaFreeHost). The emulated build returns plain aligned host
// memory. Pinning is slow: callers cache these blocks rather than allocate per use.
void* host_alloc_pinned(size_t bytes, std::source_location where = std::source_location::current());
void host_free_pinned(void* ptr, std::source_location where = std::source_location::current());
// Free and total bytes of the current device.
void mem_get_info(size_t& free_bytes, size_t& total_bytes,
                  std::source_location where = std::source_location::current());

// Lets kernel use more than 48 KiB of dynamic shared memory (cudaFuncSetAttribute); called by
// set_max_dynamic_shared (core/cuda/launch_config.h).
void func_set_max_dynamic_shared(const void* kernel, size_t bytes,
                                 std::source_location where = std::source_location::current());
// The (mangled) symbol of a kernel for error messages: cudaFuncGetName in the real build, the
// symbol table in the emulated one; nullptr where none is found. kernel_name
// (core/cuda/launch_config.h) demangles it.
const char* kernel_symbol(const void* kernel);

enum class CopyKind { host_to_device, device_to_host, device_to_device, host_to_host };
void memcpy(void* dst, const void* src, size_t bytes, CopyKind kind,
            std::source_location where = std::source_location::current());
void memcpy_async(void* dst, const void* src, size_t bytes, CopyKind kind, Stream s,
                  std::source_location where = std::source_location::current());
void memset(void* dst, int value, size_t bytes, Stream s = {},
            std::source_location where = std::source_location::current());

} // namespace splat::cuda
