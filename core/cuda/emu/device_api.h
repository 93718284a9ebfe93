// What CUDA kernels see in the emulated build: the built-in variables, __syncthreads, warp
// intrinsics, atomics, shared memory and the device math functions, all running on the host
// through the scheduler (core/cuda/emu/scheduler.h). Included by core/cuda/kernel.cuh only.
#pragma once

#include "core/cuda/emu/scheduler.h"

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <tuple>
#include <type_traits>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// The built-in variables read the calling fiber's state.

#define threadIdx (::splat::cuda::emu::vars().thread_idx)
#define blockIdx (::splat::cuda::emu::vars().block_idx)
#define blockDim (::splat::cuda::emu::vars().block_dim)
#define gridDim (::splat::cuda::emu::vars().grid_dim)
constexpr int warpSize = 32;

inline void __syncthreads(std::source_location site = std::source_location::current()) {
  ::splat::cuda::emu::block_barrier(site);
}
inline void __syncwarp(unsigned mask = 0xffffffffu,
                       std::source_location site = std::source_location::current()) {
  ::splat::cuda::emu::warp_exchange(::splat::cuda::emu::WarpOp::sync, mask, 0, 0, 32, site);
}
inline unsigned __activemask() { return ::splat::cuda::emu::active_mask(); }

namespace splat::cuda::emu {
template <class T> uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffled values are at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}
template <class T> T from_bits(uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}
template <class T>
T shuffle(WarpOp op, unsigned mask, T v, int arg, int width, const std::source_location& site) {
  return from_bits<T>(warp_exchange(op, mask, to_bits(v), arg, width, site));
}
} // namespace splat::cuda::emu

template <class T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32,
              std::source_location site = std::source_location::current()) {
  return ::splat::cuda::emu::shuffle(::splat::cuda::emu::WarpOp::shfl, mask, v, src_lane, width, site);
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32,
                 std::source_location site = std::source_location::current()) {
  return ::splat::cuda::emu::shuffle(::splat::cuda::emu::WarpOp::shfl_up, mask, v, static_cast<int>(delta), width, site);
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32,
                   std::source_location site = std::source_location::current()) {
  return ::splat::cuda::emu::shuffle(::splat::cuda::emu::WarpOp::shfl_down, mask, v, static_cast<int>(delta), width, site);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32,
                  std::source_location site = std::source_location::current()) {
  return ::splat::cuda::emu::shuffle(::splat::cuda::emu::WarpOp::shfl_xor, mask, v, lane_mask, width, site);
}
inline unsigned __ballot_sync(unsigned mask, int pred,
                              std::source_location site = std::source_location::current()) {
  return static_cast<unsigned>(::splat::cuda::emu::warp_exchange(
      ::splat::cuda::emu::WarpOp::ballot, mask, pred != 0, 0, 32, site));
}
inline int __any_sync(unsigned mask, int pred, std::source_location site = std::source_location::current()) {
  return static_cast<int>(::splat::cuda::emu::warp_exchange(::splat::cuda::emu::WarpOp::any, mask, pred != 0, 0, 32, site));
}
inline int __all_sync(unsigned mask, int pred, std::source_location site = std::source_location::current()) {
  return static_cast<int>(::splat::cuda::emu::warp_exchange(::splat::cuda::emu::WarpOp::all, mask, pred != 0, 0, 32, site));
}

// Atomics are real atomics (blocks run concurrently on several OS threads), relaxed as on a GPU.
template <class T> T atomicAdd(T* addr, T v) {
  return std::atomic_ref<T>(*addr).fetch_add(v, std::memory_order_relaxed);
}
template <class T> T atomicExch(T* addr, T v) {
  return std::atomic_ref<T>(*addr).exchange(v, std::memory_order_relaxed);
}
template <class T> T atomicCAS(T* addr, T expected, T desired) {
  std::atomic_ref<T>(*addr).compare_exchange_strong(expected, desired, std::memory_order_relaxed);
  return expected;  // the old value, whether or not the swap happened
}
template <class T> T atomicMax(T* addr, T v) {
  std::atomic_ref<T> a(*addr);
  T old = a.load(std::memory_order_relaxed);
  while (old < v && !a.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
  return old;
}
template <class T> T atomicMin(T* addr, T v) {
  std::atomic_ref<T> a(*addr);
  T old = a.load(std::memory_order_relaxed);
  while (v < old && !a.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
  return old;
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// Device math: the float intrinsics map to the precise host functions.
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.f ? 0.f : x > 1.f ? 1.f : x; }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline int __popc(unsigned x) { return std::popcount(x); }
inline int __ffs(int x) { return x == 0 ? 0 : std::countr_zero(static_cast<unsigned>(x)) + 1; }
inline int __clz(int x) { return std::countl_zero(static_cast<unsigned>(x)); }
template <class T> T __ldg(const T* p) { return *p; }
using std::max;
using std::min;

// Shared memory: SPLAT_SHARED(float, tile, 256) declares `tile` as 256 floats of the block's
// shared memory (an arena slot here, __shared__ under nvcc); SPLAT_DYNAMIC_SHARED(float, buf)
// names the launch's dynamic shared memory.
#define SPLAT_SHARED(T, name, count)                                                               \
  static const char splat_shared_tag_##name = 0;                                                   \
  T* const name = static_cast<T*>(::splat::cuda::emu::static_shared(                             \
      &splat_shared_tag_##name, sizeof(T) * (count), std::source_location::current()))
#define SPLAT_DYNAMIC_SHARED(T, name) T* const name = static_cast<T*>(::splat::cuda::emu::dynamic_shared())

namespace splat::cuda {
// Runs kernel(args...) for every thread of cfg's grid, arguments copied by value as a real
// launch copies them.
template <class... P, class... A> void launch(void (*kernel)(P...), const LaunchConfig& cfg, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "launch: wrong number of kernel arguments");
  const std::tuple<std::decay_t<P>...> packed(std::forward<A>(args)...);
  emu::run_grid(reinterpret_cast<const void*>(kernel), cfg, [&] { std::apply(kernel, packed); });
}
} // namespace splat::cuda
