// SPLAT_KERNEL(device, name, args...) calls cpu::name(args...) for a CPU device and
// cuda::name(args...) for a CUDA device: the plain device switch every op makes before running
// a kernel (design.md section 2). Grep for the kernel name to find both implementations.
#pragma once

#define SPLAT_KERNEL(device, name, ...)                                                            \
  ((device).is_cpu() ? ::splat::ops::cpu::name(__VA_ARGS__) : ::splat::ops::cuda::name(__VA_ARGS__))
