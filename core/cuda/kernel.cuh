// The one header CUDA kernel files (ops/cuda/*.cu) include. Under nvcc it brings the CUDA
// runtime and a checked launch(); in the emulated build (g++) the same source compiles against
// the host emulator (core/cuda/emu/device_api.h). Kernels use only what both provide:
//   threadIdx/blockIdx/blockDim/gridDim, __syncthreads, the *_sync warp intrinsics (explicit
//   masks; no reliance on lockstep warps), atomics, SPLAT_SHARED / SPLAT_DYNAMIC_SHARED for
//   shared memory, and launch(kernel, {grid, block, shared_bytes, stream}, args...).
#pragma once

#include "core/cuda/hd.h"
#include "core/cuda/launch_config.h"

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#include <utility>

#define SPLAT_SHARED(T, name, count) __shared__ T name[count]
#define SPLAT_DYNAMIC_SHARED(T, name)                                                              \
  extern __shared__ __align__(16) unsigned char splat_dynamic_shared_##name[];                   \
  T* const name = reinterpret_cast<T*>(splat_dynamic_shared_##name)

namespace splat::cuda {

// After a launch (runtime_real.cpp): throws splat::Error naming the kernel, its launch shape and
// the CUDA error when the launch failed; else remembers the launch, so that a fault the kernel
// causes, which CUDA reports at a later call, names it too.
void check_launched(int status, const void* kernel, const LaunchConfig& cfg);

template <class... P, class... A> void launch(void (*kernel)(P...), const LaunchConfig& cfg, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "launch: wrong number of kernel arguments");
  check_launch(reinterpret_cast<const void*>(kernel), cfg);
  const dim3 grid(cfg.grid.x, cfg.grid.y, cfg.grid.z), block(cfg.block.x, cfg.block.y, cfg.block.z);
  kernel<<<grid, block, cfg.shared_bytes, static_cast<cudaStream_t>(cfg.stream.handle)>>>(
      std::forward<A>(args)...);
  check_launched(static_cast<int>(cudaGetLastError()), reinterpret_cast<const void*>(kernel), cfg);
}

} // namespace splat::cuda

#else

#include "core/cuda/emu/device_api.h"

#endif
