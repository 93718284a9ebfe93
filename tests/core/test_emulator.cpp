// Self-tests of the CUDA kernel emulator: it must be strict enough that a kernel passing here is
// right on a GPU. Each test fails if the emulator is too lenient (a missing barrier that goes
// unnoticed, a divergent barrier that is not reported, ...).
#include "core/cuda/kernel.cuh"
#include "core/cuda/runtime.h"
#include "tests/helpers.h"

#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

using namespace splat;
using namespace splat::cuda;
using emu::Order;

namespace {

// Device memory holding a copy of a host vector, read back with get().
template <class T> struct DeviceVec {
  T* ptr;
  size_t n;
  explicit DeviceVec(const std::vector<T>& host) : ptr(static_cast<T*>(device_malloc(host.size() * sizeof(T)))), n(host.size()) {
    cuda::memcpy(ptr, host.data(), n * sizeof(T), CopyKind::host_to_device);
  }
  explicit DeviceVec(size_t count, T value = T()) : DeviceVec(std::vector<T>(count, value)) {}
  ~DeviceVec() { device_free(ptr); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    cuda::memcpy(h.data(), ptr, n * sizeof(T), CopyKind::device_to_host);
    return h;
  }
};

// Runs f under each schedule, restoring the default afterwards.
template <class F> void for_each_schedule(F f) {
  const emu::Schedule saved = emu::schedule();
  for (emu::Schedule s : {emu::Schedule{Order::in_order, 0}, emu::Schedule{Order::reverse, 0},
                          emu::Schedule{Order::random, 1}, emu::Schedule{Order::random, 2},
                          emu::Schedule{Order::random, 3}}) {
    emu::set_schedule(s);
    CAPTURE(static_cast<int>(s.order));
    CAPTURE(s.seed);
    f();
  }
  emu::set_schedule(saved);
}

// out[t] = in[t] + in[t - 1] through shared memory; the barrier is optional so a test can
// show that leaving it out gives wrong answers.
template <bool kBarrier> __global__ void neighbour_sum(const float* in, float* out) {
  SPLAT_SHARED(float, tile, 256);
  const unsigned t = threadIdx.x;
  tile[t] = in[blockIdx.x * blockDim.x + t];
  if constexpr (kBarrier) __syncthreads();
  out[blockIdx.x * blockDim.x + t] = tile[t] + (t > 0 ? tile[t - 1] : 0.f);
}

std::vector<float> ramp(size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 1.f);
  return v;
}

} // namespace

TEST_CASE("emulator: a missing __syncthreads gives wrong results under some schedule") {
  const auto host = ramp(4 * 256);
  DeviceVec<float> in(host), out(host.size());
  int wrong_schedules = 0;
  for_each_schedule([&] {
    launch(neighbour_sum<false>, {4, 256}, in.ptr, out.ptr);
    const auto r = out.get();
    for (size_t i = 0; i < r.size(); ++i)
      if (r[i] != host[i] + (i % 256 ? host[i - 1] : 0.f)) {
        ++wrong_schedules;
        break;
      }
  });
  CHECK(wrong_schedules >= 3);  // reverse and random orders expose it
  for_each_schedule([&] {
    launch(neighbour_sum<true>, {4, 256}, in.ptr, out.ptr);
    const auto r = out.get();
    bool ok = true;
    for (size_t i = 0; i < r.size(); ++i) ok = ok && r[i] == host[i] + (i % 256 ? host[i - 1] : 0.f);
    CHECK(ok);
  });
}

namespace {
__global__ void divergent_barrier(int* out) {
  if (threadIdx.x < 16) __syncthreads();
  else __syncthreads();
  out[threadIdx.x] = 1;
}
__global__ void shuffle_vs_barrier(int* out) {
  if (threadIdx.x == 0) out[0] = __shfl_sync(0x3u, 1, 1);
  else __syncthreads();
}
} // namespace

TEST_CASE("emulator: divergent barriers and deadlocks are reported with their sites") {
  DeviceVec<int> out(64);
  CHECK_THROWS_WITH_ALL(launch(divergent_barrier, {1, 32}, out.ptr), "divergent __syncthreads",
                        "test_emulator.cpp");
  CHECK_THROWS_WITH_ALL(launch(shuffle_vs_barrier, {1, 32}, out.ptr), "deadlock",
                        "at __syncthreads", "__shfl_sync", "seed");
}

namespace {
// Threads >= 8 leave before the barrier; the rest reduce. Every thread must run exactly once.
__global__ void early_exit(int* entries, int* sum) {
  atomicAdd(entries, 1);
  if (threadIdx.x >= 8) return;
  SPLAT_SHARED(int, s, 8);
  s[threadIdx.x] = static_cast<int>(threadIdx.x);
  __syncthreads();
  if (threadIdx.x == 0) {
    int total = 0;
    for (int i = 0; i < 8; ++i) total += s[i];
    atomicAdd(sum, total);
  }
}
} // namespace

TEST_CASE("emulator: threads that exit early are never resumed, barriers wait only for live threads") {
  for_each_schedule([] {
    DeviceVec<int> entries(1, 0), sum(1, 0);
    launch(early_exit, {4, 64}, entries.ptr, sum.ptr);
    CHECK(entries.get()[0] == 4 * 64);
    CHECK(sum.get()[0] == 4 * 28);
  });
}

namespace {
__global__ void read_uninitialised_shared(float* out) {
  SPLAT_SHARED(float, s, 32);
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[threadIdx.x];
  __syncthreads();
  s[threadIdx.x] = 7.f;  // must not leak into the next block
}
__global__ void read_dynamic_shared(float* out) {
  SPLAT_DYNAMIC_SHARED(float, s);
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[threadIdx.x];
  __syncthreads();
  s[threadIdx.x] = 7.f;
}
} // namespace

TEST_CASE("emulator: shared memory is poisoned at every block start") {
  DeviceVec<float> out(8 * 32);
  launch(read_uninitialised_shared, {8, 32}, out.ptr);
  for (float v : out.get()) CHECK(std::isnan(v));
  launch(read_dynamic_shared, {8, 32, 32 * sizeof(float)}, out.ptr);
  for (float v : out.get()) CHECK(std::isnan(v));
}

namespace {
// Warp-level sum with shuffles over the lanes of `mask` (a prefix of the warp).
__global__ void warp_sums(const int* in, int* out, unsigned mask, int lanes) {
  const int lane = static_cast<int>(threadIdx.x);
  if (lane >= lanes) return;
  int v = in[lane];
  // width = lanes keeps every source inside the mask (reading outside it is undefined on a GPU).
  for (int d = lanes / 2; d > 0; d /= 2) {
    const int other = __shfl_down_sync(mask, v, static_cast<unsigned>(d), lanes);
    if (lane + d < lanes) v += other;
  }
  out[lane] = v;
  out[32 + lane] = static_cast<int>(__ballot_sync(mask, in[lane] % 2 == 0));
  out[64 + lane] = __any_sync(mask, in[lane] > 100);
  out[96 + lane] = __all_sync(mask, in[lane] > 0);
  out[128 + lane] = __shfl_xor_sync(mask, in[lane], 1, 8);
  out[160 + lane] = __shfl_up_sync(mask, in[lane], 2, 16);
  out[192 + lane] = __shfl_sync(mask, in[lane], 3, 8);
}
} // namespace

TEST_CASE("emulator: warp intrinsics honour masks and widths") {
  std::vector<int> host(32);
  for (int i = 0; i < 32; ++i) host[i] = i + 1;
  for (int lanes : {32, 16}) {
    CAPTURE(lanes);
    const unsigned mask = lanes == 32 ? 0xffffffffu : 0xffffu;
    for_each_schedule([&] {
      DeviceVec<int> in(host), out(224, -1);
      launch(warp_sums, {1, 32}, in.ptr, out.ptr, mask, lanes);
      const auto r = out.get();
      CHECK(r[0] == lanes * (lanes + 1) / 2);
      unsigned even = 0;
      for (int l = 0; l < lanes; ++l) if (host[l] % 2 == 0) even |= 1u << l;
      for (int l = 0; l < lanes; ++l) {
        CHECK(static_cast<unsigned>(r[32 + l]) == even);
        CHECK(r[64 + l] == 0);
        CHECK(r[96 + l] == 1);
        CHECK(r[128 + l] == host[l ^ 1]);
        CHECK(r[160 + l] == (l % 16 >= 2 ? host[l - 2] : host[l]));
        CHECK(r[192 + l] == host[l / 8 * 8 + 3]);
      }
    });
  }
}

namespace {
__global__ void shuffle_from_exited(int* out) {
  if (threadIdx.x == 5) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, 1, 0);
}
__global__ void lane_outside_mask(int* out) { out[threadIdx.x] = __shfl_sync(0x1u, 1, 0); }
} // namespace

TEST_CASE("emulator: warp intrinsics with exited or missing lanes are errors") {
  DeviceVec<int> out(32);
  CHECK_THROWS_WITH_ALL(launch(shuffle_from_exited, {1, 32}, out.ptr), "__shfl_sync", "lane 5",
                        "exited");
  CHECK_THROWS_WITH_ALL(launch(lane_outside_mask, {1, 32}, out.ptr), "calling lane",
                        "is not in mask 0x1");
}

namespace {
__global__ void count_atomically(int* counter, float* fsum, unsigned long long* usum) {
  atomicAdd(counter, 1);
  atomicAdd(fsum, 0.5f);
  atomicAdd(usum, 2ull);
  atomicMax(counter + 1, static_cast<int>(blockIdx.x));
}
} // namespace

TEST_CASE("emulator: atomics from many concurrent blocks are exact") {
  DeviceVec<int> counter(std::vector<int>{0, -1});
  DeviceVec<float> fsum(1, 0.f);
  DeviceVec<unsigned long long> usum(1, 0);
  launch(count_atomically, {64, 256}, counter.ptr, fsum.ptr, usum.ptr);
  CHECK(counter.get()[0] == 64 * 256);
  CHECK(counter.get()[1] == 63);
  CHECK(fsum.get()[0] == 64 * 256 * 0.5f);  // exact: all partial sums are representable
  CHECK(usum.get()[0] == 2ull * 64 * 256);
}

namespace {
__global__ void noop(int*) {}
__global__ void big_static_shared(float* out) {
  SPLAT_SHARED(float, a, 8192);
  SPLAT_SHARED(float, b, 8192);  // 64 KiB in all
  a[threadIdx.x] = 1.f;
  b[threadIdx.x] = 2.f;
  out[threadIdx.x] = a[threadIdx.x] + b[threadIdx.x];
}
} // namespace

TEST_CASE("emulator: launches beyond sm_90 limits are rejected with the configuration") {
  DeviceVec<int> out(1);
  // The message names the kernel (or its address, where the binary exports no symbol for it),
  // the launch site and the launch shape.
  CHECK_THROWS_WITH_ALL(launch(noop, {1, 1025}, out.ptr), "1025 threads per block", "test_emulator.cpp",
                        "kernel ", "grid (1, 1, 1), block (1025, 1, 1), 0 bytes dynamic shared memory");
  CHECK_THROWS_WITH_ALL(launch(noop, {1, {1, 1, 65}}, out.ptr), "block dims");
  CHECK_THROWS_WITH_ALL(launch(noop, {{1, 65536}, 32}, out.ptr), "grid dims");
  CHECK_THROWS_WITH_ALL(launch(noop, {0, 32}, out.ptr), "empty grid");
  CHECK_THROWS_WITH_ALL(launch(noop, {1, 32, 64 * 1024}, out.ptr), "65536 bytes of dynamic shared",
                        "set_max_dynamic_shared");
  set_max_dynamic_shared(reinterpret_cast<const void*>(&noop), 100 * 1024);
  CHECK_NOTHROW(launch(noop, {1, 32, 64 * 1024}, out.ptr));
  CHECK_THROWS_WITH_ALL(set_max_dynamic_shared(reinterpret_cast<const void*>(&noop), 300 * 1024),
                        "opt-in limit");
  DeviceVec<float> f(32);
  CHECK_THROWS_WITH_ALL(launch(big_static_shared, {1, 32}, f.ptr), "exceed the 48 KiB limit");
}
