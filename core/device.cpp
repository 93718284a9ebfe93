#include "core/device.h"

#include "core/error.h"

#include <charconv>

namespace splat {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    int index = -1;
    const char* first = s.data() + 5;
    const char* last = s.data() + s.size();
    auto [end, ec] = std::from_chars(first, last, index);
    if (ec == std::errc() && end == last && first != last && index >= 0) return cuda(index);
  }
  throw Error(splat::str("unknown device '", s, "' (expected cpu, cuda or cuda:N)"));
}

std::ostream& operator<<(std::ostream& os, Device d) { return os << d.str(); }

} // namespace splat
