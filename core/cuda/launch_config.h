// What a kernel launch needs besides the kernel and its arguments, shared by both builds.
// `where` defaults to the launch's call site, so every launch error names the file and line.
#pragma once

#include "core/cuda/runtime.h"

#include <cstddef>
#include <source_location>
#include <string>

namespace splat::cuda {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr Dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
  constexpr unsigned long long count() const { return 1ull * x * y * z; }
};

struct LaunchConfig {
  Dim3 grid;
  Dim3 block;
  size_t shared_bytes = 0;  // dynamic shared memory
  Stream stream{};
  std::source_location where;
  LaunchConfig(Dim3 grid_, Dim3 block_, size_t shared_bytes_ = 0, Stream stream_ = {},
               std::source_location where_ = std::source_location::current())
      : grid(grid_), block(block_), shared_bytes(shared_bytes_), stream(stream_), where(where_) {}
};

// The dynamic shared memory a kernel may request above the default 48 KiB, as set with
// cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes).
void set_max_dynamic_shared(const void* kernel, size_t bytes,
                            std::source_location where = std::source_location::current());
size_t max_dynamic_shared(const void* kernel);

// Rejects configurations a sm_90 GPU rejects, naming the launch site and the configuration:
// more than 1024 threads per block or a block dim beyond (1024, 1024, 64), a grid dim beyond
// (2^31 - 1, 65535, 65535), an empty grid or block, or dynamic shared memory above the kernel's
// limit (48 KiB, or what set_max_dynamic_shared allowed, at most the opt-in maximum).
void check_launch(const void* kernel, const LaunchConfig& cfg);

// The demangled name of a kernel ("kernel at 0x..." where the runtime finds no symbol).
std::string kernel_name(const void* kernel);

// "kernel NAME launched at FILE:LINE (grid (x, y, z), block (x, y, z), N bytes dynamic shared
// memory)": what every launch error starts with.
std::string describe(const void* kernel, const LaunchConfig& cfg);

} // namespace splat::cuda
