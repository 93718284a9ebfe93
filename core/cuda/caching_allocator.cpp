// Conventions: a segment is one device_malloc result, cut into blocks that form a doubly linked
// list in address order (prev/next). Every block is in exactly one of three places: a pool set
// (free), the live map (handed out), or the pending list (freed, waiting for events of other
// streams). Free neighbours are always merged, so a free block's neighbours are never free and
// a segment whose blocks are all free is a single block with no neighbours. All driver and
// event calls run with the allocator's device current (DeviceGuard).
#include "core/cuda/caching_allocator.h"

#include "core/device.h"
#include "core/error.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace splat::cuda {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kMinBlockSize = 512;      // every block size is a multiple of this
constexpr size_t kSmallRequest = kMiB;     // largest request served by the small pool
constexpr size_t kSmallSegment = 2 * kMiB; // segment size of the small pool
constexpr size_t kLargeSegmentRounding = 2 * kMiB;
// A large block is split only when the rest can serve another large request (> 1 MiB): smaller
// rests would only fragment the large pool, since small requests never come from it.
constexpr size_t kLargeSplitRemainder = kMiB;
// Far beyond any device; rejecting larger requests up front keeps the rounding from overflowing.
constexpr size_t kMaxRequest = size_t{1} << 60;

enum class PoolKind : uint8_t { small = 0, large = 1 };
enum class BlockState : uint8_t { free, live, pending };

struct Block {
  char* ptr = nullptr;
  size_t size = 0;
  Stream stream; // the stream the segment was allocated for; its blocks are reused only there
  PoolKind pool = PoolKind::small;
  BlockState state = BlockState::free;
  size_t requested = 0; // nbytes of the allocate call, while live
  Block* prev = nullptr;
  Block* next = nullptr;
  std::vector<Stream> other_streams; // from record_stream, while live
  int pending_events = 0;            // events still to complete, while pending
};

// (stream, size, address): the blocks of one stream are contiguous in the set, so best fit for
// (stream, size) is the lower_bound of (stream, size, null).
struct BlockOrder {
  bool operator()(const Block* a, const Block* b) const {
    const auto sa = reinterpret_cast<uintptr_t>(a->stream.handle);
    const auto sb = reinterpret_cast<uintptr_t>(b->stream.handle);
    if (sa != sb) return sa < sb;
    if (a->size != b->size) return a->size < b->size;
    return reinterpret_cast<uintptr_t>(a->ptr) < reinterpret_cast<uintptr_t>(b->ptr);
  }
};
using FreeBlocks = std::set<Block*, BlockOrder>;

size_t round_up(size_t n, size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

PoolKind pool_for(size_t size) { return size <= kSmallRequest ? PoolKind::small : PoolKind::large; }

size_t segment_size(PoolKind pool, size_t size) {
  return pool == PoolKind::small ? kSmallSegment : round_up(size, kLargeSegmentRounding);
}

bool worth_splitting(const Block& b, size_t size) {
  const size_t rest = b.size - size;
  return b.pool == PoolKind::small ? rest >= kMinBlockSize : rest > kLargeSplitRemainder;
}

std::string format_bytes(size_t n) {
  if (n < 1024) return str(n, " bytes");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(n) / 1024.0;
  size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", v, kUnits[unit]);
  return buf;
}

// Makes `device` current for its lifetime and restores the caller's device, so allocating on
// cuda:1 never changes which device the caller's later calls go to.
class DeviceGuard {
public:
  explicit DeviceGuard(int device) : saved_(current_device()) {
    if (saved_ != device) set_device(device);
  }
  ~DeviceGuard() {
    if (current_device() != saved_) set_device(saved_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

private:
  int saved_;
};

// Whether a block's pending stream work is done, without blocking (cudaEventQuery).
bool default_event_complete(Event e) { return query_event(e); }

} // namespace

struct CachingAllocator::Impl {
  int device;
  std::string name; // "cuda:N", for messages
  mutable std::mutex mu;
  FreeBlocks pools[2];
  std::unordered_map<void*, Block*> live;
  std::vector<std::pair<Event, Block*>> pending; // one entry per (freed block, other stream)
  std::vector<Event> spare_events;               // recycled: creating events is not free
  std::function<bool(Event)> event_query;
  MemoryStats stats;
  CachingStats cstats;

  FreeBlocks& pool(PoolKind kind) { return pools[static_cast<int>(kind)]; }

  // Removes and returns the smallest free block of `stream` in `kind` that holds `size` bytes.
  Block* take_free(PoolKind kind, Stream stream, size_t size) {
    FreeBlocks& set = pool(kind);
    Block key;
    key.stream = stream;
    key.size = size;
    auto it = set.lower_bound(&key);
    if (it == set.end() || (*it)->stream != stream) return nullptr;
    Block* b = *it;
    set.erase(it);
    return b;
  }

  // Returns b to its pool, merged with free neighbours.
  void free_block(Block* b) {
    b->state = BlockState::free;
    b->requested = 0;
    FreeBlocks& set = pool(b->pool);
    if (Block* p = b->prev; p != nullptr && p->state == BlockState::free) {
      set.erase(p);
      b->ptr = p->ptr;
      b->size += p->size;
      b->prev = p->prev;
      if (b->prev != nullptr) b->prev->next = b;
      delete p;
    }
    if (Block* n = b->next; n != nullptr && n->state == BlockState::free) {
      set.erase(n);
      b->size += n->size;
      b->next = n->next;
      if (b->next != nullptr) b->next->prev = b;
      delete n;
    }
    set.insert(b);
  }

  // Cuts b down to size bytes when the rest is worth keeping; the rest becomes a free block.
  void split(Block* b, size_t size) {
    if (!worth_splitting(*b, size)) return;
    auto* rest = new Block;
    rest->ptr = b->ptr + size;
    rest->size = b->size - size;
    rest->stream = b->stream;
    rest->pool = b->pool;
    rest->prev = b;
    rest->next = b->next;
    if (b->next != nullptr) b->next->prev = rest;
    b->next = rest;
    b->size = size;
    free_block(rest);
  }

  bool event_complete(Event e) { return event_query ? event_query(e) : default_event_complete(e); }

  Event take_event() {
    if (!spare_events.empty()) {
      const Event e = spare_events.back();
      spare_events.pop_back();
      return e;
    }
    DeviceGuard guard(device);
    return create_event();
  }

  void event_done(Event e, Block* b) {
    spare_events.push_back(e);
    if (--b->pending_events == 0) {
      --cstats.pending_blocks;
      free_block(b);
    }
  }

  // Frees the pending blocks whose events have all completed, without waiting.
  void process_events() {
    std::erase_if(pending, [&](const std::pair<Event, Block*>& entry) {
      if (!event_complete(entry.first)) return false;
      event_done(entry.first, entry.second);
      return true;
    });
  }

  // Waits for every pending event and frees its block.
  void synchronize_pending() {
    DeviceGuard guard(device);
    for (auto& [e, b] : pending) {
      synchronize_event(e);
      event_done(e, b);
    }
    pending.clear();
  }

  // Returns every free single-block segment to the driver.
  void release_cached() {
    synchronize_pending();
    DeviceGuard guard(device);
    for (FreeBlocks& set : pools) {
      for (auto it = set.begin(); it != set.end();) {
        Block* b = *it;
        if (b->prev != nullptr || b->next != nullptr) {
          ++it;
          continue;
        }
        it = set.erase(it);
        device_free(b->ptr);
        cstats.reserved_bytes -= static_cast<int64_t>(b->size);
        ++cstats.driver_frees;
        delete b;
      }
    }
  }

  void* try_device_malloc(size_t bytes, std::string& why) {
    DeviceGuard guard(device);
    try {
      return device_malloc(bytes);
    } catch (const Error& e) {
      why = e.what();
      return nullptr;
    }
  }

  [[noreturn]] void throw_out_of_memory(size_t nbytes, const std::string& why) {
    size_t free_bytes = 0, total_bytes = 0;
    {
      DeviceGuard guard(device);
      mem_get_info(free_bytes, total_bytes);
    }
    size_t cached = 0;
    for (const FreeBlocks& set : pools)
      for (const Block* b : set) cached += b->size;
    throw Error(str(name, " out of memory: tried to allocate ", format_bytes(nbytes), " (", nbytes,
                    " bytes); ", format_bytes(free_bytes), " free of ", format_bytes(total_bytes),
                    " on the device, ", format_bytes(static_cast<size_t>(cstats.reserved_bytes)),
                    " reserved by splat of which ", format_bytes(cached),
                    " is free in the cache (in segments that also hold live tensors). ", why));
  }

  // A fresh segment for a request of `size` (rounded) bytes; empties the cache and retries once
  // when the driver is out of memory.
  Block* new_segment(PoolKind kind, Stream stream, size_t size, size_t nbytes) {
    const size_t bytes = segment_size(kind, size);
    std::string why;
    void* p = try_device_malloc(bytes, why);
    if (p == nullptr) {
      release_cached();
      p = try_device_malloc(bytes, why);
    }
    if (p == nullptr) throw_out_of_memory(nbytes, "The driver said: " + why);
    cstats.reserved_bytes += static_cast<int64_t>(bytes);
    cstats.peak_reserved_bytes = std::max(cstats.peak_reserved_bytes, cstats.reserved_bytes);
    ++cstats.driver_allocations;
    auto* b = new Block;
    b->ptr = static_cast<char*>(p);
    b->size = bytes;
    b->stream = stream;
    b->pool = kind;
    return b;
  }

  Block* find_live(void* ptr, const char* what) {
    auto it = live.find(ptr);
    SPLAT_CHECK(it != live.end(), name, " caching allocator: ", what, " of unknown pointer ", ptr,
                " (not allocated by this allocator, or already freed)");
    return it->second;
  }
};

CachingAllocator::CachingAllocator(int device) : device_(device), impl_(std::make_unique<Impl>()) {
  SPLAT_CHECK(device >= 0 && device < device_count(), "CachingAllocator: no device cuda:", device,
              " (", device_count(), " devices)");
  impl_->device = device;
  impl_->name = Device::cuda(device).str();
}

CachingAllocator::~CachingAllocator() {
  Impl& m = *impl_;
  m.synchronize_pending();
  DeviceGuard guard(device_);
  // Every block is free or live now; walk each segment once from its first block.
  std::unordered_set<Block*> heads;
  auto add_head = [&](Block* b) {
    while (b->prev != nullptr) b = b->prev;
    heads.insert(b);
  };
  for (FreeBlocks& set : m.pools)
    for (Block* b : set) add_head(b);
  for (auto& [ptr, b] : m.live) add_head(b);
  for (Block* head : heads) {
    device_free(head->ptr);
    for (Block* b = head; b != nullptr;) delete std::exchange(b, b->next);
  }
  for (Event e : m.spare_events) destroy_event(e);
}

void* CachingAllocator::allocate(size_t nbytes) { return allocate(nbytes, Stream{}); }

void* CachingAllocator::allocate(size_t nbytes, Stream stream) {
  if (nbytes == 0) return nullptr;
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (nbytes > kMaxRequest) m.throw_out_of_memory(nbytes, "No device has that much memory.");
  const size_t size = round_up(nbytes, kMinBlockSize);
  const PoolKind kind = pool_for(size);
  Block* b = m.take_free(kind, stream, size);
  if (b == nullptr) {
    // Blocks waiting for other streams may have become reusable since they were freed.
    m.process_events();
    b = m.take_free(kind, stream, size);
  }
  if (b != nullptr)
    ++m.cstats.cache_hits;
  else
    b = m.new_segment(kind, stream, size, nbytes);
  b->state = BlockState::live;
  b->requested = nbytes;
  m.split(b, size);
  m.live.emplace(b->ptr, b);

  m.stats.allocated_bytes += static_cast<int64_t>(b->size);
  m.stats.peak_bytes = std::max(m.stats.peak_bytes, m.stats.allocated_bytes);
  ++m.stats.live_blocks;
  ++m.stats.total_allocations;
  m.cstats.requested_bytes += static_cast<int64_t>(nbytes);
  return b->ptr;
}

void CachingAllocator::deallocate(void* ptr, size_t nbytes) {
  if (ptr == nullptr) return;
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  Block* b = m.find_live(ptr, "deallocate");
  SPLAT_CHECK(nbytes == b->requested, m.name, " caching allocator: deallocate of ", ptr, " with ",
              nbytes, " bytes, but it was allocated with ", b->requested, " bytes");
  m.live.erase(ptr);
  m.stats.allocated_bytes -= static_cast<int64_t>(b->size);
  --m.stats.live_blocks;
  m.cstats.requested_bytes -= static_cast<int64_t>(nbytes);
  if (b->other_streams.empty()) {
    m.free_block(b);
    return;
  }
  // The other streams may still have work reading or writing the block: it becomes reusable
  // once an event recorded on each of them now has completed.
  b->state = BlockState::pending;
  b->requested = 0;
  ++m.cstats.pending_blocks;
  DeviceGuard guard(m.device);
  for (Stream s : b->other_streams) {
    const Event e = m.take_event();
    record_event(e, s);
    m.pending.emplace_back(e, b);
    ++b->pending_events;
  }
  b->other_streams.clear();
}

void CachingAllocator::record_stream(void* ptr, Stream stream) {
  if (ptr == nullptr) return;
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  Block* b = m.find_live(ptr, "record_stream");
  // Work on the allocating stream is ordered before any reuse anyway.
  if (stream == b->stream) return;
  if (std::find(b->other_streams.begin(), b->other_streams.end(), stream) == b->other_streams.end())
    b->other_streams.push_back(stream);
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

CachingStats CachingAllocator::caching_stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->cstats;
}

void CachingAllocator::reset_peak() {
  std::lock_guard lock(impl_->mu);
  impl_->stats.peak_bytes = impl_->stats.allocated_bytes;
  impl_->cstats.peak_reserved_bytes = impl_->cstats.reserved_bytes;
}

void CachingAllocator::empty_cache() {
  std::lock_guard lock(impl_->mu);
  impl_->release_cached();
}

void CachingAllocator::set_event_query_for_testing(std::function<bool(Event)> query) {
  std::lock_guard lock(impl_->mu);
  impl_->event_query = std::move(query);
}

CachingAllocator& caching_allocator(int device) {
  // Never destroyed: storages may be freed during static destruction, after a destroyed
  // allocator (or the emulated runtime's state) would be gone. Held through a static pointer so
  // leak checkers see them as reachable.
  static const std::vector<std::unique_ptr<CachingAllocator>>* const all = [] {
    auto* v = new std::vector<std::unique_ptr<CachingAllocator>>();
    for (int d = 0; d < device_count(); ++d) v->push_back(std::make_unique<CachingAllocator>(d));
    return v;
  }();
  SPLAT_CHECK(device >= 0 && device < static_cast<int>(all->size()),
              "caching_allocator: no device cuda:", device, " (", all->size(), " devices)");
  return *(*all)[static_cast<size_t>(device)];
}

} // namespace splat::cuda
