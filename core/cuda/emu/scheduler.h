// The kernel emulator's engine: runs a grid of CUDA threads on the host.
//
// Every CUDA thread of a block is a fiber (Boost.Context) with its own stack; all fibers of a
// block run on one OS thread, and blocks are spread over an OpenMP team. Fibers switch only at
// __syncthreads and warp intrinsics, in an order chosen by SPLAT_EMU_ORDER (inorder, reverse,
// random; random uses SPLAT_EMU_SEED), so a missing barrier changes results. The scheduler
// checks what a GPU leaves undefined: barriers reached from different call sites, barriers
// some threads can never reach (deadlock, reported with every thread's state), warp intrinsics
// whose mask names exited lanes or lanes calling a different intrinsic. Shared memory is an
// arena per block, poisoned (0xFF bytes: NaN for floats) when a block starts.
//
// Kernels never include this file; they see core/cuda/emu/device_api.h.
#pragma once

#include "core/cuda/launch_config.h"

#include <cstdint>
#include <functional>
#include <source_location>

namespace splat::cuda::emu {

struct Index3 {
  unsigned x, y, z;
};

// The built-in variables of the calling CUDA thread.
struct ThreadVars {
  Index3 thread_idx, block_idx, block_dim, grid_dim;
};
const ThreadVars& vars();

enum class Order : uint8_t { in_order, reverse, random };
struct Schedule {
  Order order = Order::random;
  uint64_t seed = 0;
};
// From SPLAT_EMU_ORDER and SPLAT_EMU_SEED (default: random with seed 0); tests override it.
Schedule schedule();
void set_schedule(Schedule s);

// Runs body once per CUDA thread of the grid; throws splat::Error naming the launch and the
// schedule when a kernel breaks a rule (first error wins; all blocks stop).
void run_grid(const void* kernel, const LaunchConfig& cfg, const std::function<void()>& body);

void block_barrier(const std::source_location& site);

enum class WarpOp : uint8_t { shfl, shfl_up, shfl_down, shfl_xor, ballot, any, all, sync };
// Exchanges a value among the lanes of mask: returns the source lane's value for shuffles,
// the ballot mask for ballot, 0/1 for any/all. arg is the source lane, delta or lane mask.
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int arg, int width,
                       const std::source_location& site);
// Lanes of the caller's warp that have not exited.
unsigned active_mask();

// Shared memory of the running block. Static declarations are keyed by a per-declaration tag.
void* static_shared(const void* tag, size_t bytes, const std::source_location& site);
void* dynamic_shared();

} // namespace splat::cuda::emu
