// Device memory allocators and their statistics.
//
// Every Storage gets its bytes from the allocator of its device. The CPU allocator hands out
// 64-byte aligned heap blocks and counts them; each CUDA device has a caching allocator.
#pragma once

#include "core/device.h"

#include <cstddef>
#include <cstdint>

namespace splat {

struct MemoryStats {
  int64_t allocated_bytes = 0;  // bytes in live blocks
  int64_t peak_bytes = 0;       // high-water mark of allocated_bytes since the last reset
  int64_t live_blocks = 0;      // number of live blocks
  int64_t total_allocations = 0;
};

class Allocator {
public:
  virtual ~Allocator() = default;
  // Returns memory for nbytes (nullptr for 0 bytes); throws Error when out of memory.
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual MemoryStats stats() const = 0;
  virtual void reset_peak() = 0;
};

Allocator& cpu_allocator();

// The allocator for a device: the CPU allocator, or the CUDA caching allocator of that device
// (core/cuda/caching_allocator.h). Throws when the device index is out of range.
Allocator& allocator_for(Device device);

} // namespace splat
