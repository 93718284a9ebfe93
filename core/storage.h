// A Storage is one allocation on one device, shared by every tensor that views it.
//
// It also carries the version counter of autograd: in-place writes through any view bump it, and
// backward refuses saved tensors whose storage changed after they were saved.
#pragma once

#include "core/device.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace splat {

class Allocator;

class Storage {
public:
  Storage(size_t nbytes, Device device);
  // Memory from a specific allocator (e.g. a pool of pinned host blocks) that reports `device`;
  // the allocator must outlive the storage.
  Storage(size_t nbytes, Device device, Allocator& allocator);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

  // Number of Storage objects alive in the process (leak checks in tests).
  static int64_t live_count();

private:
  void* data_;
  size_t nbytes_;
  Device device_;
  Allocator* allocator_;
  std::atomic<uint64_t> version_{0};
};

} // namespace splat
