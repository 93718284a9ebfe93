// SPLAT_KERNEL(device, name, args...) calls cpu::name(args...) for a CPU device and
// cuda::name(args...) for a CUDA device: the plain device switch every op makes before running
// a kernel (design.md section 2). Grep for the kernel name to find both implementations.
//
// Every kernel call is also a forward scope of the profiler (core/profile.h), named by
// kernel_label(kernel name, first argument): the kernel's name, unless an overload for the
// argument's type refines it (found by argument-dependent lookup: the pointwise and reduction
// kernels' op enums add the op, "binary.mul").
#pragma once

#include "core/profile.h"

#include <string_view>

namespace splat::ops {

template <class Arg> std::string_view kernel_label(std::string_view kernel, const Arg&) {
  return kernel;
}

} // namespace splat::ops

#define SPLAT_KERNEL_FIRST_ARG(first, ...) first
#define SPLAT_KERNEL(device, name, ...)                                                            \
  (::splat::profile::Scope([&] { return kernel_label(#name, SPLAT_KERNEL_FIRST_ARG(__VA_ARGS__)); },\
                           ::splat::profile::Phase::forward),                                      \
   ((device).is_cpu() ? ::splat::ops::cpu::name(__VA_ARGS__)                                       \
                      : ::splat::ops::cuda::name(__VA_ARGS__)))
