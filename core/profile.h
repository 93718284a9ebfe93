// The per-op profiler: with SPLAT_PROFILE set, every kernel dispatch (SPLAT_KERNEL, forward) and
// every backward node the engine applies (backward) is timed, and a table of op name, calls,
// milliseconds forward and backward, share of the wall time and bytes allocated can be printed.
//
//   SPLAT_PROFILE=1 splat bench model       # table of one training step and one inference
//   SPLAT_PROFILE=1 SPLAT_PROFILE_EVERY=20 splat train ...   # a table every 20 backward passes
//
// Whatever was recorded since the last table is printed to stderr at exit. Timing is exclusive:
// a scope opened inside another on the same thread (the kernels a backward node runs) counts
// toward the outer one. Bytes are those allocated by Storage on the scope's thread since the
// previous scope on it closed, so an op's outputs, allocated just before its kernel, count with
// the op. Off, a scope costs one branch on a flag read once at startup.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace splat::profile {

namespace detail {
extern bool g_enabled;
} // namespace detail

inline bool enabled() { return detail::g_enabled; }
// Turns recording on or off (tests; the environment sets it at startup).
void set_enabled(bool on);

enum class Phase : uint8_t { forward, backward };

// Times the enclosing code under (name, phase) while profiling is on.
class Scope {
public:
  Scope(std::string_view name, Phase phase) {
    if (detail::g_enabled) begin(name, phase);
  }
  // The name is made by label() only when profiling is on (kernel names refined by their
  // argument, e.g. "binary.mul").
  template <class Label>
  requires std::invocable<Label> Scope(Label&& label, Phase phase) {
    if (detail::g_enabled) begin(label(), phase);
  }
  ~Scope() {
    if (active_) end();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

private:
  void begin(std::string_view name, Phase phase);
  void end();

  bool active_ = false; // began while profiling was on
  bool outer_ = false;  // the outermost scope of its thread, the one that records
  int64_t bytes_ = 0;   // allocated on this thread before the scope began, since the last one
  Phase phase_ = Phase::forward;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

namespace detail {
void note_allocation(size_t nbytes);
} // namespace detail
// Called by Storage for every allocation.
inline void note_allocation(size_t nbytes) {
  if (detail::g_enabled) detail::note_allocation(nbytes);
}

// Called by the autograd engine after each backward pass: prints the table every
// SPLAT_PROFILE_EVERY passes when that is set.
void note_backward_pass();

// Clears the table and restarts the wall clock.
void reset();
// The table of everything recorded since the last reset, sorted by total time, with a header
// naming `title`.
std::string report(std::string_view title);
// Prints report(title) to stderr and resets.
void print_and_reset(std::string_view title);

} // namespace splat::profile
