// The CUDA caching allocator, driven directly (no tensors). Each test builds its own allocator on
// the last emulated device, so counts are exact and independent of other tests; the destructor
// hands everything back to the driver. Sizes below follow the allocator's size classes: requests
// round up to 512 bytes, the small pool (<= 1 MiB) uses 2 MiB segments, the large pool rounds
// segments up to 2 MiB.
#include "core/cuda/caching_allocator.h"
#include "tests/helpers.h"

#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

using namespace splat;
using namespace splat::cuda;

namespace {

constexpr size_t kKiB = size_t{1} << 10;
constexpr size_t kMiB = size_t{1} << 20;

int test_device() { return device_count() - 1; }

size_t device_free_bytes(int device) {
  const int saved = current_device();
  set_device(device);
  size_t free_bytes = 0, total_bytes = 0;
  mem_get_info(free_bytes, total_bytes);
  set_device(saved);
  return free_bytes;
}

char* as_bytes(void* p) { return static_cast<char*>(p); }

// Frees every pointer of `live` (allocated with the paired sizes).
void free_all(CachingAllocator& a, std::vector<std::pair<void*, size_t>>& live) {
  for (auto& [p, n] : live) a.deallocate(p, n);
  live.clear();
}

} // namespace

// Every case needs a CUDA device (real or emulated).
TEST_SUITE_BEGIN("caching allocator" * doctest::skip(splat::test::no_cuda_device()));

TEST_CASE("caching allocator: a freed block is handed out again without the driver") {
  CachingAllocator a(test_device());
  void* p = a.allocate(1000);
  REQUIRE(p != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(p) % 256 == 0);
  // The memory is real device memory: it round-trips through the runtime.
  cuda::memset(p, 0x5a, 1000);
  std::vector<unsigned char> host(1000);
  cuda::memcpy(host.data(), p, 1000, CopyKind::device_to_host);
  CHECK(std::count(host.begin(), host.end(), 0x5a) == 1000);
  a.deallocate(p, 1000);
  CHECK(a.caching_stats().driver_allocations == 1);
  CHECK(a.caching_stats().cache_hits == 0);

  void* q = a.allocate(1000);
  CHECK(q == p);
  a.deallocate(q, 1000);
  // 700 bytes round to the same 1 KiB block.
  void* r = a.allocate(700);
  CHECK(r == p);
  a.deallocate(r, 700);
  CHECK(a.caching_stats().driver_allocations == 1);
  CHECK(a.caching_stats().cache_hits == 2);
}

TEST_CASE("caching allocator: small requests split one 2 MiB segment") {
  CachingAllocator a(test_device());
  void* p1 = a.allocate(1000); // 1 KiB block
  void* p2 = a.allocate(5000); // 5 KiB block, right after it
  void* p3 = a.allocate(512);
  CHECK(as_bytes(p2) == as_bytes(p1) + 1 * kKiB);
  CHECK(as_bytes(p3) == as_bytes(p1) + 6 * kKiB);
  CachingStats c = a.caching_stats();
  CHECK(c.driver_allocations == 1);
  CHECK(c.reserved_bytes == int64_t(2 * kMiB));
  CHECK(c.cache_hits == 2);
  CHECK(a.stats().allocated_bytes == int64_t(6 * kKiB + 512));

  // 1 MiB still fits in the rest; a second one does not (1 MiB - 6.5 KiB are left)...
  void* big = a.allocate(kMiB);
  CHECK(as_bytes(big) == as_bytes(p1) + 6 * kKiB + 512);
  CHECK(a.caching_stats().driver_allocations == 1);
  void* big2 = a.allocate(kMiB);
  CHECK(a.caching_stats().driver_allocations == 2);
  // ...but two share the next segment exactly, with nothing left over.
  void* big3 = a.allocate(kMiB);
  CHECK(as_bytes(big3) == as_bytes(big2) + kMiB);
  CHECK(a.caching_stats().driver_allocations == 2);
  CHECK(a.caching_stats().reserved_bytes == int64_t(4 * kMiB));
  a.deallocate(p1, 1000);
  a.deallocate(p2, 5000);
  a.deallocate(p3, 512);
  a.deallocate(big, kMiB);
  a.deallocate(big2, kMiB);
  a.deallocate(big3, kMiB);
}

TEST_CASE("caching allocator: large blocks split only when the rest is over 1 MiB") {
  CachingAllocator a(test_device());
  // 2.5 MiB takes a 4 MiB segment; the 1.5 MiB rest serves the next large request.
  void* p = a.allocate(2 * kMiB + 512 * kKiB);
  void* q = a.allocate(kMiB + 512 * kKiB);
  CHECK(as_bytes(q) == as_bytes(p) + 2 * kMiB + 512 * kKiB);
  CHECK(a.caching_stats().driver_allocations == 1);
  CHECK(a.stats().allocated_bytes == int64_t(4 * kMiB));
  // 3.5 MiB also takes a 4 MiB segment, but the 0.5 MiB rest stays part of the block.
  void* r = a.allocate(3 * kMiB + 512 * kKiB);
  CHECK(a.caching_stats().driver_allocations == 2);
  CHECK(a.stats().allocated_bytes == int64_t(8 * kMiB));
  CHECK(a.caching_stats().requested_bytes == int64_t(7 * kMiB + 512 * kKiB));
  a.deallocate(p, 2 * kMiB + 512 * kKiB);
  a.deallocate(q, kMiB + 512 * kKiB);
  a.deallocate(r, 3 * kMiB + 512 * kKiB);
  CHECK(a.stats().allocated_bytes == 0);
  CHECK(a.caching_stats().requested_bytes == 0);
}

TEST_CASE("caching allocator: freed neighbours merge back into one block") {
  CachingAllocator a(test_device());
  void* x = a.allocate(512 * kKiB);
  void* y = a.allocate(512 * kKiB);
  void* z = a.allocate(512 * kKiB);
  REQUIRE(as_bytes(y) == as_bytes(x) + 512 * kKiB);
  REQUIRE(as_bytes(z) == as_bytes(y) + 512 * kKiB);
  // Free the outer two first: y separates them, so only z merges (with the segment's tail).
  a.deallocate(x, 512 * kKiB);
  a.deallocate(z, 512 * kKiB);
  // 1 MiB fits in z + tail (exactly 1 MiB) but not in x.
  void* w = a.allocate(kMiB);
  CHECK(w == z);
  a.deallocate(w, kMiB);
  // Freeing y joins x, y and z + tail into the whole segment: 1 MiB now starts at x.
  a.deallocate(y, 512 * kKiB);
  void* v = a.allocate(kMiB);
  CHECK(v == x);
  a.deallocate(v, kMiB);
  CHECK(a.caching_stats().driver_allocations == 1);
  // Only a fully merged segment can go back to the driver.
  a.empty_cache();
  CHECK(a.caching_stats().driver_frees == 1);
  CHECK(a.caching_stats().reserved_bytes == 0);
}

TEST_CASE("caching allocator: the smallest free block that fits is chosen") {
  CachingAllocator a(test_device());
  // Free holes of 1, 3 and 2 KiB, kept apart by live 512-byte separators.
  void* h1 = a.allocate(1 * kKiB);
  void* s1 = a.allocate(512);
  void* h3 = a.allocate(3 * kKiB);
  void* s2 = a.allocate(512);
  void* h2 = a.allocate(2 * kKiB);
  void* s3 = a.allocate(512);
  a.deallocate(h1, 1 * kKiB);
  a.deallocate(h3, 3 * kKiB);
  a.deallocate(h2, 2 * kKiB);
  CHECK(a.allocate(1536) == h2); // 2 KiB hole, leaving a 512-byte rest
  CHECK(a.allocate(2560) == h3); // 3 KiB hole
  CHECK(a.allocate(1 * kKiB) == h1);
  // The 512-byte rests of h3 and h2 tie on size; the lower address wins.
  CHECK(a.allocate(512) == as_bytes(h3) + 2560);
  CHECK(a.allocate(512) == as_bytes(h2) + 1536);
  CHECK(a.caching_stats().driver_allocations == 1);
  (void)s1, (void)s2, (void)s3; // released with the allocator
}

TEST_CASE("caching allocator: small and large requests use separate pools") {
  CachingAllocator a(test_device());
  // 1 MiB is the largest small request: two share one 2 MiB segment.
  void* s1 = a.allocate(kMiB);
  void* s2 = a.allocate(kMiB);
  CHECK(as_bytes(s2) == as_bytes(s1) + kMiB);
  CHECK(a.caching_stats().driver_allocations == 1);
  // One byte more is large: its own 2 MiB segment, not split (the rest is under 1 MiB).
  void* l = a.allocate(kMiB + 1);
  CHECK(a.caching_stats().driver_allocations == 2);
  CHECK(a.stats().allocated_bytes == int64_t(4 * kMiB));
  a.deallocate(l, kMiB + 1);
  // A free large block is never used for a small request.
  void* s3 = a.allocate(4 * kKiB);
  CHECK(s3 != l);
  CHECK(a.caching_stats().driver_allocations == 3);
  // ...and a free small block is never used for a large one.
  a.deallocate(s3, 4 * kKiB);
  void* l2 = a.allocate(kMiB + 1);
  CHECK(l2 == l);
  CHECK(a.caching_stats().driver_allocations == 3);
  CHECK(a.caching_stats().reserved_bytes == int64_t(6 * kMiB));
  // Large segments round up to 2 MiB multiples.
  void* l3 = a.allocate(5 * kMiB + 1);
  CHECK(a.caching_stats().reserved_bytes == int64_t(12 * kMiB));
  void* l4 = a.allocate(12 * kMiB + 100);
  CHECK(a.caching_stats().reserved_bytes == int64_t(26 * kMiB));
  a.deallocate(s1, kMiB);
  a.deallocate(s2, kMiB);
  a.deallocate(l2, kMiB + 1);
  a.deallocate(l3, 5 * kMiB + 1);
  a.deallocate(l4, 12 * kMiB + 100);
}

TEST_CASE("caching allocator: a block freed on one stream is not reused by another") {
  const Stream sa = create_stream(), sb = create_stream();
  {
    CachingAllocator a(test_device());
    void* p = a.allocate(4 * kKiB, sa);
    a.deallocate(p, 4 * kKiB);
    void* q = a.allocate(4 * kKiB, sb);
    CHECK(q != p);
    CHECK(a.caching_stats().driver_allocations == 2);
    void* d = a.allocate(4 * kKiB); // the default stream is a stream of its own
    CHECK(d != p);
    CHECK(a.caching_stats().driver_allocations == 3);
    void* r = a.allocate(4 * kKiB, sa);
    CHECK(r == p);
    CHECK(a.caching_stats().driver_allocations == 3);
    a.deallocate(q, 4 * kKiB);
    a.deallocate(r, 4 * kKiB);
    a.deallocate(d, 4 * kKiB);
  }
  destroy_stream(sa);
  destroy_stream(sb);
}

TEST_CASE("caching allocator: record_stream holds a freed block until its events complete") {
  const Stream sa = create_stream(), sb = create_stream(), sc = create_stream();
  {
    CachingAllocator a(test_device());
    // The test decides which events have completed; the allocator only asks.
    std::set<void*> completed;
    int queries = 0;
    a.set_event_query_for_testing([&](Event e) {
      ++queries;
      return completed.count(e.handle) > 0;
    });
    // Fill a segment so that a further request misses the free pool.
    void* p = a.allocate(kMiB, sa);
    void* fill = a.allocate(kMiB, sa);
    a.record_stream(p, sb);
    a.record_stream(p, sb); // recorded once
    a.record_stream(p, sc);
    a.record_stream(p, sa); // the allocating stream needs no event
    a.deallocate(p, kMiB);
    CHECK(a.caching_stats().pending_blocks == 1);
    CHECK(a.stats().allocated_bytes == int64_t(kMiB)); // no tensor holds p any more

    // Neither event has completed: the miss asks about both, then goes to the driver.
    void* q = a.allocate(kMiB, sa);
    CHECK(q != p);
    CHECK(queries == 2);
    CHECK(a.caching_stats().driver_allocations == 2);
    CHECK(a.caching_stats().pending_blocks == 1);

    // One of the two events completing is not enough. q's segment still has 1 MiB free, so the
    // next request hits without asking; the one after misses and asks.
    std::vector<void*> queried;
    a.set_event_query_for_testing([&](Event e) {
      queried.push_back(e.handle);
      return queried.size() == 1 || completed.count(e.handle) > 0;
    });
    void* q2 = a.allocate(kMiB, sa);
    CHECK(as_bytes(q2) == as_bytes(q) + kMiB);
    CHECK(queried.empty());
    void* q3 = a.allocate(kMiB, sa);
    CHECK(q3 != p);
    REQUIRE(queried.size() == 2);
    CHECK(a.caching_stats().pending_blocks == 1);
    CHECK(a.caching_stats().driver_allocations == 3);
    completed.insert(queried[1]); // now both are done; the next miss frees p and reuses it

    a.set_event_query_for_testing([&](Event e) { return completed.count(e.handle) > 0; });
    void* q4 = a.allocate(512 * kKiB, sa); // fits q3's segment: no query needed
    void* r = a.allocate(kMiB, sa);
    CHECK(r == p);
    CHECK(a.caching_stats().pending_blocks == 0);
    CHECK(a.caching_stats().driver_allocations == 3);

    // empty_cache waits for pending events rather than asking: the block is freed and its
    // (whole) segment released even though the query would still say "not complete".
    a.set_event_query_for_testing([](Event) { return false; });
    for (void* x : {fill, r}) a.record_stream(x, sb);
    a.deallocate(fill, kMiB);
    a.deallocate(r, kMiB);
    CHECK(a.caching_stats().pending_blocks == 2); // the two halves of p's segment
    a.empty_cache();
    CHECK(a.caching_stats().pending_blocks == 0);
    CHECK(a.caching_stats().driver_frees == 1);
    a.deallocate(q, kMiB);
    a.deallocate(q2, kMiB);
    a.deallocate(q3, kMiB);
    a.deallocate(q4, 512 * kKiB);
  }
  destroy_stream(sa);
  destroy_stream(sb);
  destroy_stream(sc);
}

TEST_CASE("caching allocator: statistics are exact") {
  CachingAllocator a(test_device());
  void* p = a.allocate(1000);     // 1 KiB block, 2 MiB small segment
  void* q = a.allocate(4 * kMiB); // 4 MiB large segment
  MemoryStats s = a.stats();
  CachingStats c = a.caching_stats();
  CHECK(s.allocated_bytes == int64_t(kKiB + 4 * kMiB));
  CHECK(s.peak_bytes == s.allocated_bytes);
  CHECK(s.live_blocks == 2);
  CHECK(s.total_allocations == 2);
  CHECK(c.reserved_bytes == int64_t(6 * kMiB));
  CHECK(c.peak_reserved_bytes == int64_t(6 * kMiB));
  CHECK(c.requested_bytes == int64_t(1000 + 4 * kMiB));
  CHECK(c.driver_allocations == 2);
  CHECK(c.driver_frees == 0);
  CHECK(c.cache_hits == 0);

  a.deallocate(q, 4 * kMiB);
  s = a.stats();
  CHECK(s.allocated_bytes == int64_t(kKiB));
  CHECK(s.peak_bytes == int64_t(kKiB + 4 * kMiB));
  CHECK(s.live_blocks == 1);
  a.reset_peak();
  CHECK(a.stats().peak_bytes == int64_t(kKiB));
  void* r = a.allocate(2 * kKiB);
  CHECK(a.stats().peak_bytes == int64_t(3 * kKiB));
  CHECK(a.stats().total_allocations == 3);
  CHECK(a.caching_stats().cache_hits == 1);

  a.empty_cache(); // releases q's segment; p and r keep theirs
  c = a.caching_stats();
  CHECK(c.reserved_bytes == int64_t(2 * kMiB));
  CHECK(c.peak_reserved_bytes == int64_t(6 * kMiB));
  CHECK(c.driver_frees == 1);
  a.reset_peak();
  CHECK(a.caching_stats().peak_reserved_bytes == int64_t(2 * kMiB));
  a.deallocate(p, 1000);
  a.deallocate(r, 2 * kKiB);
  CHECK(a.stats().allocated_bytes == 0);
  CHECK(a.stats().live_blocks == 0);
  CHECK(a.stats().total_allocations == 3);
}

TEST_CASE("caching allocator: empty_cache gives memory back to the device") {
  const int dev = test_device();
  const size_t free0 = device_free_bytes(dev);
  {
    CachingAllocator a(dev);
    void* big = a.allocate(3 * kMiB + 1); // 4 MiB segment
    void* s1 = a.allocate(1000);          // 2 MiB segment
    void* s2 = a.allocate(1000);          // same segment
    CHECK(device_free_bytes(dev) == free0 - 6 * kMiB);
    a.deallocate(big, 3 * kMiB + 1);
    a.deallocate(s1, 1000);
    CHECK(device_free_bytes(dev) == free0 - 6 * kMiB); // cached, not returned
    // The small segment still holds s2, so only the large one goes back.
    a.empty_cache();
    CHECK(device_free_bytes(dev) == free0 - 2 * kMiB);
    CHECK(a.caching_stats().driver_frees == 1);
    a.deallocate(s2, 1000);
    a.empty_cache();
    CHECK(device_free_bytes(dev) == free0);
    CHECK(a.caching_stats().reserved_bytes == 0);
    CHECK(a.caching_stats().driver_frees == 2);
    // Blocks still live when the allocator goes away are released with it.
    (void)a.allocate(5 * kMiB);
    (void)a.allocate(100);
    CHECK(device_free_bytes(dev) == free0 - 8 * kMiB);
  }
  CHECK(device_free_bytes(dev) == free0);
}

TEST_CASE("caching allocator: a repeated training step allocates nothing after the first") {
  CachingAllocator a(test_device());
  // Shaped like a step: activations allocated in the forward pass and freed in reverse during
  // backward, gradients and temporaries in between, a mix of small and large sizes.
  const std::vector<size_t> activations = {3 * kMiB + 17, 700 * kKiB, 12 * kMiB + 5, 1000,
                                           kMiB,          5 * kMiB,   96 * kKiB,     2 * kMiB + 1};
  const std::vector<size_t> temporaries = {64, 300 * kKiB, 4 * kMiB, 1536, 20 * kMiB};
  int64_t driver_after_first = 0;
  for (int step = 0; step < 100; ++step) {
    std::vector<std::pair<void*, size_t>> acts, grads;
    for (size_t n : activations) acts.emplace_back(a.allocate(n), n);
    for (size_t i = acts.size(); i-- > 0;) {
      std::vector<std::pair<void*, size_t>> tmp;
      for (size_t n : temporaries) tmp.emplace_back(a.allocate(n), n);
      grads.emplace_back(a.allocate(acts[i].second), acts[i].second);
      free_all(a, tmp);
      a.deallocate(acts[i].first, acts[i].second);
    }
    free_all(a, grads);
    CHECK(a.stats().allocated_bytes == 0);
    if (step == 0) driver_after_first = a.caching_stats().driver_allocations;
  }
  CHECK(driver_after_first > 0);
  CHECK(a.caching_stats().driver_allocations == driver_after_first);
  CHECK(a.caching_stats().driver_frees == 0);
  CHECK(a.stats().total_allocations ==
        100 * int64_t(activations.size() * (2 + temporaries.size())));
}

TEST_CASE("caching allocator: out of memory empties the cache, retries and then explains") {
  const int dev = test_device();
  const size_t free0 = device_free_bytes(dev);
  REQUIRE(free0 > 256 * kMiB);
  // Leave 64 MiB of the device free by taking the rest straight from the driver.
  const int saved = current_device();
  set_device(dev);
  void* hog = device_malloc(free0 - 64 * kMiB);
  set_device(saved);
  {
    CachingAllocator a(dev);
    // 40 MiB cached leaves 24 MiB free: 50 MiB fits only once the cache is emptied.
    void* p = a.allocate(40 * kMiB);
    a.deallocate(p, 40 * kMiB);
    void* q = a.allocate(50 * kMiB);
    CHECK(q != nullptr);
    CHECK(a.caching_stats().driver_frees == 1);
    CHECK(a.caching_stats().reserved_bytes == int64_t(50 * kMiB));
    a.deallocate(q, 50 * kMiB);

    // 100 MiB does not fit even then. A live small block keeps its segment reserved.
    void* s = a.allocate(1000);
    CHECK_THROWS_WITH_ALL(a.allocate(100 * kMiB), str("cuda:", dev, " out of memory"),
                          "tried to allocate 100.00 MiB (104857600 bytes)", "62.00 MiB free of",
                          "2.00 MiB reserved by splat", "cudaMalloc");
    CHECK(a.caching_stats().reserved_bytes == int64_t(2 * kMiB));
    CHECK(current_device() == saved);
    // The allocator still works after the failure.
    void* t = a.allocate(10 * kMiB);
    a.deallocate(t, 10 * kMiB);
    a.deallocate(s, 1000);
    CHECK(a.stats().allocated_bytes == 0);
    CHECK_THROWS_WITH_ALL(a.allocate(~size_t{0}), "out of memory", "tried to allocate");
  }
  set_device(dev);
  device_free(hog);
  set_device(saved);
  CHECK(device_free_bytes(dev) == free0);
}

TEST_CASE("caching allocator: misuse is reported with the pointer") {
  CachingAllocator a(test_device());
  int on_stack = 0;
  CHECK_THROWS_WITH_ALL(a.deallocate(&on_stack, 4), "unknown pointer",
                        str(static_cast<void*>(&on_stack)));
  void* p = a.allocate(1000);
  CHECK_THROWS_WITH_ALL(a.deallocate(as_bytes(p) + 512, 100), "unknown pointer");
  CHECK_THROWS_WITH_ALL(a.deallocate(p, 999), "with 999 bytes", "allocated with 1000 bytes");
  CHECK_THROWS_WITH_ALL(a.record_stream(&on_stack, Stream{}), "record_stream", "unknown pointer");
  a.deallocate(p, 1000);
  CHECK_THROWS_WITH_ALL(a.deallocate(p, 1000), "unknown pointer", str(p), "already freed");
  CHECK(a.stats().allocated_bytes == 0);
}

TEST_CASE("caching allocator: zero-byte requests return nullptr and allocate nothing") {
  CachingAllocator a(test_device());
  CHECK(a.allocate(0) == nullptr);
  CHECK(a.allocate(0, Stream{}) == nullptr);
  a.deallocate(nullptr, 0);
  a.record_stream(nullptr, Stream{});
  CHECK(a.stats().total_allocations == 0);
  CHECK(a.stats().live_blocks == 0);
  CHECK(a.caching_stats().driver_allocations == 0);
}

TEST_CASE("caching allocator: one per device, and the caller's device is left alone") {
  const int dev = test_device();
  CHECK(&caching_allocator(dev) == &caching_allocator(dev));
  CHECK(caching_allocator(dev).device() == dev);
  CHECK_THROWS_WITH_ALL(caching_allocator(device_count()), str("no device cuda:", device_count()),
                        str("(", device_count(), " devices)"));
  CHECK_THROWS_WITH_ALL(caching_allocator(-1), "no device cuda:-1");
  CHECK_THROWS_WITH_ALL(CachingAllocator(device_count()), "no device");

  // Memory comes from the allocator's device whichever device is current.
  const int saved = current_device();
  set_device(0);
  const size_t free_here = device_free_bytes(0), free_there = device_free_bytes(dev);
  CachingAllocator& a = caching_allocator(dev);
  const int64_t before = a.caching_stats().reserved_bytes;
  void* p = a.allocate(3 * kMiB);
  const int64_t grown = a.caching_stats().reserved_bytes - before;
  CHECK(current_device() == 0);
  if (dev != 0) CHECK(device_free_bytes(0) == free_here);
  CHECK(device_free_bytes(dev) == free_there - size_t(grown));
  a.deallocate(p, 3 * kMiB);
  a.empty_cache();
  CHECK(current_device() == 0);
  set_device(saved);
}

TEST_CASE("caching allocator: concurrent threads never share a block") {
  CachingAllocator a(test_device());
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&a, &failures, t] {
      std::mt19937 rng(1234 + t);
      std::uniform_int_distribution<size_t> size(1, 3 * kMiB / 2);
      const auto mark = static_cast<unsigned char>(t + 1);
      std::vector<std::pair<void*, size_t>> mine;
      for (int i = 0; i < 200; ++i) {
        if (mine.size() < 8 && (rng() % 3 != 0 || mine.empty())) {
          const size_t n = size(rng);
          void* p = a.allocate(n);
          cuda::memset(p, mark, n);
          mine.emplace_back(p, n);
        } else {
          auto [p, n] = mine[rng() % mine.size()];
          // Another thread writing into this block would have changed a byte.
          auto* b = static_cast<unsigned char*>(p);
          if (std::count(b, b + n, mark) != static_cast<std::ptrdiff_t>(n)) ++failures[t];
          a.deallocate(p, n);
          std::erase(mine, std::pair<void*, size_t>{p, n});
        }
      }
      free_all(a, mine);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) CHECK(failures[t] == 0);
  CHECK(a.stats().allocated_bytes == 0);
  CHECK(a.stats().live_blocks == 0);
}

TEST_SUITE_END();
