// Where a tensor's storage lives: the host, or one CUDA device (real or emulated).
#pragma once

#include <ostream>
#include <string>

namespace splat {

enum class DeviceKind : uint8_t { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;

  static constexpr Device cpu() { return {DeviceKind::cpu, 0}; }
  static constexpr Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  constexpr bool is_cpu() const { return kind == DeviceKind::cpu; }
  constexpr bool is_cuda() const { return kind == DeviceKind::cuda; }
  friend constexpr bool operator==(Device, Device) = default;

  // "cpu", "cuda:0"
  std::string str() const;
  // Parses "cpu", "cuda", "cuda:N"; throws Error on anything else.
  static Device parse(const std::string& s);
};

std::ostream& operator<<(std::ostream& os, Device d);

} // namespace splat
