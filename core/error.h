// splat::Error and the checks that raise it.
//
// Every user-facing failure (bad shape, bad dtype, bad index, malformed file) throws splat::Error
// with a message that names the operation and the offending values, e.g.
//   "add: shapes [2, 3] and [4] cannot be broadcast (dim -1: 3 vs 4)".
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace splat {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Concatenates anything streamable into one string: str("dim ", d, " out of range").
template <class... Args> std::string str(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

} // namespace splat

// Throws splat::Error(str(...)) when `cond` is false. The message arguments are only evaluated
// on failure, so checks on hot paths cost one branch.
#define SPLAT_CHECK(cond, ...)                                                                     \
  do {                                                                                             \
    if (!(cond)) [[unlikely]]                                                                      \
      throw ::splat::Error(::splat::str(__VA_ARGS__));                                             \
  } while (0)
