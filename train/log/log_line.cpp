#include "train/log/log_line.h"

#include "core/error.h"

#include <cmath>
#include <cstdio>

namespace splat::train {
namespace {

std::string right_align(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string fixed4(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

} // namespace

std::string format_eta(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds)); // int() of a non-negative float
  const int64_t days = s / 86400, rest = s % 86400;
  char hms[32];
  std::snprintf(hms, sizeof hms, "%lld:%02lld:%02lld", static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  if (days == 0) return hms;
  return str(days, days == 1 ? " day, " : " days, ", hms);
}

std::string format_log_line(const TrainLogLine& l) {
  char lr[32];
  std::snprintf(lr, sizeof lr, "%.4e", l.lr);
  // " [{max_epochs}]" is 3 characters wider than the number: mmengine's alignment.
  std::string out = "Epoch(train)" + right_align(str("[", l.epoch, "]"), std::to_string(l.max_epochs).size() + 3) +
                    "[" + right_align(std::to_string(l.iter), std::to_string(l.iters_per_epoch).size()) + "/" +
                    std::to_string(l.iters_per_epoch) + "]  lr: " + lr + "  eta: " + format_eta(l.eta_seconds) +
                    "  time: " + fixed4(l.time) + "  data_time: " + fixed4(l.data_time) +
                    "  memory: " + std::to_string(l.memory_mib);
  for (const auto& [name, value] : l.values) out += "  " + name + ": " + fixed4(value);
  return out;
}

} // namespace splat::train
