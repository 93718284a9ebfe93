#include "core/threads.h"

#include "core/error.h"

#include <cstdlib>
#include <omp.h>
#include <string>

namespace splat {
namespace {

// Applies SPLAT_NUM_THREADS once, before the first kernel runs.
const bool g_env_applied = [] {
  if (const char* env = std::getenv("SPLAT_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0) omp_set_num_threads(static_cast<int>(n));
    else throw Error(str("SPLAT_NUM_THREADS='", env, "' is not a positive integer"));
  }
  return true;
}();

} // namespace

void set_num_threads(int n) {
  SPLAT_CHECK(n > 0, "set_num_threads: expected a positive thread count, got ", n);
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

} // namespace splat
