#include "core/allocator.h"

#include "core/cuda/caching_allocator.h"
#include "core/cuda/runtime.h"
#include "core/error.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace splat {
namespace {

constexpr size_t kCpuAlignment = 64;  // one cache line; also enough for AVX-512 loads

class CpuAllocator final : public Allocator {
public:
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    const size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    void* p = std::aligned_alloc(kCpuAlignment, rounded);
    SPLAT_CHECK(p != nullptr, "cpu: out of memory allocating ", nbytes, " bytes (",
                allocated_.load(), " bytes already allocated by splat)");
    const int64_t now = allocated_.fetch_add(static_cast<int64_t>(nbytes)) + nbytes;
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    ++live_;
    ++total_;
    return p;
  }
  void deallocate(void* ptr, size_t nbytes) override {
    if (ptr == nullptr) return;
    std::free(ptr);
    allocated_ -= static_cast<int64_t>(nbytes);
    --live_;
  }
  MemoryStats stats() const override {
    return {allocated_.load(), peak_.load(), live_.load(), total_.load()};
  }
  void reset_peak() override { peak_ = allocated_.load(); }

private:
  std::atomic<int64_t> allocated_{0}, peak_{0}, live_{0}, total_{0};
};

} // namespace

Allocator& cpu_allocator() {
  static CpuAllocator a;
  return a;
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  const int n = cuda::device_count();
  SPLAT_CHECK(device.index >= 0 && device.index < n, "device ", device, " is not available (",
              n, " CUDA devices", cuda::is_real_build() ? "" : " in the emulated build", ")");
  return cuda::caching_allocator(device.index);
}

} // namespace splat
