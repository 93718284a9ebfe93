// The caching allocator under every CUDA tensor, one per device, in both builds.
//
// Driver allocations (cudaMalloc) are slow and synchronise the device, so memory is taken from
// the driver in segments, carved into blocks and kept when tensors free it: a training step that
// repeats the previous step's allocations is served entirely from the cache. The design follows
// PyTorch's CUDACachingAllocator:
// - Requests round up to multiples of 512 bytes. Requests up to 1 MiB come from the small pool,
//   whose segments are 2 MiB; larger ones from the large pool, whose segments are the request
//   rounded up to a multiple of 2 MiB. A block is split when the remainder is worth keeping
//   (small pool: at least 512 bytes; large pool: more than 1 MiB) and a freed block merges with
//   its free neighbours in the same segment.
// - Free blocks are kept per (pool, stream), ordered by (size, address): best fit is one
//   lower_bound. A block is only reused by the stream it was allocated on, because work on that
//   stream is ordered after the tensor's last use; `record_stream` tells the allocator that
//   another stream also uses the block, and on free the block waits for an event recorded on
//   each such stream.
// - On driver out-of-memory the cache is emptied and the driver asked once more; a second failure
//   throws splat::Error stating the request and the device's free memory.
// Only core/cuda/runtime.h reaches the device, so the emulated and the real build share this code.
// All public members are thread-safe (one mutex per allocator).
#pragma once

#include "core/allocator.h"
#include "core/cuda/runtime.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace splat::cuda {

// Counters beyond MemoryStats, about the memory held from the driver.
struct CachingStats {
  int64_t reserved_bytes = 0;      // bytes in segments obtained from the driver, not released
  int64_t peak_reserved_bytes = 0; // high-water mark of reserved_bytes since the last reset
  int64_t requested_bytes = 0;     // bytes the live blocks were asked for (before rounding)
  int64_t driver_allocations = 0;  // device_malloc calls that succeeded
  int64_t driver_frees = 0;        // device_free calls
  int64_t cache_hits = 0;          // allocations served without a driver allocation
  int64_t pending_blocks = 0;      // freed blocks waiting for events on other streams
};

class CachingAllocator final : public Allocator {
public:
  // The allocator for one device (0 <= device < device_count()). Everything it obtained from the
  // driver is released on destruction; the per-device singletons are never destroyed.
  explicit CachingAllocator(int device);
  ~CachingAllocator() override;
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  int device() const { return device_; }

  // nbytes of device memory for use on `stream` (the default stream for the one-argument form);
  // nullptr for 0 bytes. Throws Error when the device is out of memory even after emptying the
  // cache.
  void* allocate(size_t nbytes) override;
  void* allocate(size_t nbytes, Stream stream);
  // Frees a block from allocate; nbytes must be the size it was allocated with. Throws Error for
  // a pointer this allocator does not hold.
  void deallocate(void* ptr, size_t nbytes) override;
  // Marks the block at ptr (as returned by allocate) as also used by `stream`: when freed it is
  // reused only after the work issued on `stream` up to the free has completed.
  void record_stream(void* ptr, Stream stream);

  // allocated_bytes and peak_bytes count whole blocks (requests rounded to the block size handed
  // out), so reserved_bytes - allocated_bytes is the memory sitting in the cache. Zero-byte
  // requests allocate nothing and are not counted.
  MemoryStats stats() const override;
  CachingStats caching_stats() const;
  // Resets peak_bytes and peak_reserved_bytes to the current values.
  void reset_peak() override;

  // Waits for the events of pending blocks, then returns every free, unsplit segment to the
  // driver. Segments holding a live block stay.
  void empty_cache();

  // Test hook: replaces the "has this event completed" query (nullptr restores the default).
  // The emulated runtime completes every event at once, so this is how tests hold a block back.
  void set_event_query_for_testing(std::function<bool(Event)> query);

private:
  struct Impl;
  int device_;
  std::unique_ptr<Impl> impl_;
};

// The allocator of device `device`, created on first use; throws Error for a device that does
// not exist. CUDA storages get their memory here.
CachingAllocator& caching_allocator(int device);

} // namespace splat::cuda
