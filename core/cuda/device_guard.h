// Makes a tensor's CUDA device current for a scope (kernels launch on the current device).
#pragma once

#include "core/cuda/runtime.h"
#include "core/device.h"

namespace splat::cuda {

class DeviceGuard {
public:
  explicit DeviceGuard(Device d) : prev_(current_device()) {
    if (d.is_cuda() && d.index != prev_) set_device(d.index);
  }
  ~DeviceGuard() {
    if (current_device() != prev_) set_device(prev_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

private:
  int prev_;
};

} // namespace splat::cuda
