#include "core/philox.h"

#include "core/error.h"

namespace splat {

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard lock(mu_);
  state_ = {seed, 0};
}

uint64_t Generator::seed() const {
  std::lock_guard lock(mu_);
  return state_.seed;
}

PhiloxState Generator::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

void Generator::set_state(PhiloxState s) {
  std::lock_guard lock(mu_);
  state_ = s;
}

uint64_t Generator::reserve(uint64_t n) { return reserve_state(n).offset; }

PhiloxState Generator::reserve_state(uint64_t n) {
  std::lock_guard lock(mu_);
  // Wrapping around would hand out counters that earlier draws already used.
  SPLAT_CHECK(n <= UINT64_MAX - state_.offset, "Generator: cannot reserve ", n,
              " counters at offset ", state_.offset, ": the 2^64 counters of seed ", state_.seed,
              " are exhausted; call manual_seed");
  const PhiloxState start = state_;
  state_.offset += n;
  return start;
}

Generator& default_generator() {
  static Generator g;
  return g;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

} // namespace splat
