#include "core/profile.h"

#include "core/error.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <omp.h>
#include <unordered_map>
#include <vector>

namespace splat::profile {
namespace {

// A positive integer from the environment, 0 when unset, "0" or empty.
int64_t env_count(const char* name) {
  const char* env = std::getenv(name);
  if (env == nullptr || *env == '\0') return 0;
  char* end = nullptr;
  const long long n = std::strtoll(env, &end, 10);
  if (end == env || *end != '\0' || n < 0)
    throw Error(str(name, "='", env, "' is not a non-negative integer"));
  return n;
}

struct Row {
  int64_t calls[2] = {0, 0}; // indexed by Phase
  double ms[2] = {0, 0};
  int64_t bytes = 0;
  double total_ms() const { return ms[0] + ms[1]; }
};

using Clock = std::chrono::steady_clock;

// Everything recorded since the last reset. At exit it prints what no table showed yet.
struct Table;
std::string report_of(Table& t, std::string_view title);
void reset_of(Table& t);

struct Table {
  std::mutex mutex;
  std::unordered_map<std::string, Row> rows;
  Clock::time_point since = Clock::now();
  int64_t every = env_count("SPLAT_PROFILE_EVERY");
  int64_t passes = 0; // backward passes since the last periodic table
  ~Table() {
    if (!detail::g_enabled) return;
    bool any = false;
    {
      std::lock_guard lock(mutex);
      any = !rows.empty();
    }
    if (any) std::fputs(report_of(*this, "at exit").c_str(), stderr);
  }
};

Table& table() {
  static Table t;
  return t;
}

thread_local int t_depth = 0;       // open scopes on this thread
thread_local int64_t t_pending = 0; // bytes allocated on this thread since a scope last closed

} // namespace

namespace detail {
bool g_enabled = env_count("SPLAT_PROFILE") > 0;

void note_allocation(size_t nbytes) { t_pending += static_cast<int64_t>(nbytes); }
} // namespace detail

void set_enabled(bool on) { detail::g_enabled = on; }

void Scope::begin(std::string_view name, Phase phase) {
  active_ = true;
  outer_ = t_depth++ == 0;
  if (!outer_) return;
  name_ = name;
  phase_ = phase;
  bytes_ = t_pending;
  t_pending = 0;
  start_ = Clock::now();
}

void Scope::end() {
  --t_depth;
  if (!outer_) return;
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
  const int64_t bytes = bytes_ + t_pending;
  t_pending = 0;
  Table& t = table();
  std::lock_guard lock(t.mutex);
  Row& r = t.rows[name_];
  const int p = static_cast<int>(phase_);
  ++r.calls[p];
  r.ms[p] += ms;
  r.bytes += bytes;
}

void note_backward_pass() {
  if (!detail::g_enabled) return;
  Table& t = table();
  {
    std::lock_guard lock(t.mutex);
    if (t.every == 0 || ++t.passes < t.every) return;
    t.passes = 0;
  }
  print_and_reset(str("the last ", t.every, " backward passes"));
}

namespace {

void reset_of(Table& t) {
  std::lock_guard lock(t.mutex);
  t.rows.clear();
  t.since = Clock::now();
}

std::string report_of(Table& t, std::string_view title) {
  std::vector<std::pair<std::string, Row>> rows;
  double wall_ms = 0;
  {
    std::lock_guard lock(t.mutex);
    rows.assign(t.rows.begin(), t.rows.end());
    wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - t.since).count();
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.total_ms() != b.second.total_ms() ? a.second.total_ms() > b.second.total_ms()
                                                      : a.first < b.first;
  });
  Row sum;
  for (const auto& [name, r] : rows)
    for (int p = 0; p < 2; ++p) sum.ms[p] += r.ms[p], sum.calls[p] += r.calls[p];
  std::string out;
  auto line = [&out](const char* fmt, auto... args) {
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
  };
  const double pct = wall_ms > 0 ? 100.0 / wall_ms : 0.0;
  out += str("splat profile: ", title, ", ", omp_get_max_threads(), " threads\n");
  line("%-40s %9s %11s %9s %11s %7s %11s\n", "op", "fwd calls", "fwd ms", "bwd calls", "bwd ms",
       "% wall", "MiB alloc");
  for (const auto& [name, r] : rows)
    line("%-40s %9lld %11.2f %9lld %11.2f %7.1f %11.3f\n", name.c_str(),
         static_cast<long long>(r.calls[0]), r.ms[0], static_cast<long long>(r.calls[1]), r.ms[1],
         r.total_ms() * pct, r.bytes / 1048576.0);
  line("%-40s %9lld %11.2f %9lld %11.2f %7.1f\n", "(all ops)", static_cast<long long>(sum.calls[0]),
       sum.ms[0], static_cast<long long>(sum.calls[1]), sum.ms[1], sum.total_ms() * pct);
  line("%-40s %9s %11s %9s %11s %7.1f  (%.2f ms wall)\n", "(outside ops)", "", "", "", "",
       std::max(0.0, wall_ms - sum.total_ms()) * pct, wall_ms);
  return out;
}

} // namespace

void reset() { reset_of(table()); }

std::string report(std::string_view title) { return report_of(table(), title); }

void print_and_reset(std::string_view title) {
  const std::string r = report(title);
  std::fputs(r.c_str(), stderr);
  std::fflush(stderr);
  reset();
}

} // namespace splat::profile
