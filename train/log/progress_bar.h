// A progress bar for loops over a counted number of items (training iterations, evaluation
// images):
//   train [#########---------------]  40/100   40%  12.31 it/s  elapsed 0:00:03  eta 0:00:04
// On a terminal the line is redrawn in place with '\r', at most 10 times a second, so that a fast
// loop does not spend its time printing. Anywhere else (a log file, a pipe, a CI console) every
// '\r' would stay in the text, so the bar prints a plain line at each 10% step and at the end.
// An unknown total (nullopt) shows the count and rate only, with no bar, percent or ETA, and in
// line mode prints only at the end; a total of 0 is a finished loop (100%).
// Other output to the same terminal while a bar is drawn lands on the bar's line: send it
// through write().
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace splat::train {

enum class ProgressMode {
  redraw, // a terminal: one line, redrawn in place
  lines,  // not a terminal: a new line at each 10% step
};

// redraw when out is a terminal (isatty), else lines.
ProgressMode progress_mode_for(std::FILE* out);

struct ProgressState {
  int64_t done = 0;
  std::optional<int64_t> total; // nullopt: unknown
  double elapsed_seconds = 0;
  int64_t done_at_start = 0; // items done before the clock started (a resumed run): not in the rate
};

// The bar's line, without '\r' or newline. The rate is (done - done_at_start) / elapsed; the ETA
// is the remaining items at that rate ("-:--:--" before the first item or with no elapsed time).
std::string format_progress(std::string_view label, const ProgressState& state);

// Whole seconds as H:MM:SS, hours unbounded ("0:00:05", "123:04:05").
std::string format_hms(double seconds);

class ProgressBar {
public:
  using Clock = std::function<double()>; // seconds from any fixed point, never decreasing
  static double steady_seconds();

  // total: nullopt when unknown, else >= 0; start: items already done (<= total).
  ProgressBar(std::string label, std::optional<int64_t> total, std::FILE* out, ProgressMode mode,
              int64_t start = 0, Clock clock = steady_seconds);
  // The mode that suits out (progress_mode_for).
  ProgressBar(std::string label, std::optional<int64_t> total, std::FILE* out = stderr);
  // An unfinished bar on a terminal ends its line, so that what follows (an exception's message)
  // starts on a line of its own.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // done: items done so far, from start up to total, never less than before.
  void update(int64_t done);
  void advance(int64_t n = 1) { update(state_.done + n); }
  // Draws the final state and ends the line; later calls do nothing.
  void finish();
  // Prints line (a log line) on a line of its own above the bar, which is then redrawn.
  void write(std::string_view line);

private:
  void draw();
  void emit(const std::string& text);
  int step_of(int64_t done) const; // the 10% step done is in (lines mode)

  std::string label_;
  std::FILE* out_;
  ProgressMode mode_;
  Clock clock_;
  double start_time_;
  ProgressState state_;
  double last_draw_ = 0;
  bool drawn_ = false;        // redraw: the bar's line is on the screen, unfinished
  size_t drawn_width_ = 0;    // redraw: length of the line on the screen, to blank a longer one
  int last_step_ = 0;         // lines: the last 10% step printed
  int64_t printed_done_ = -1; // lines: the count on the last line printed
  bool finished_ = false;
};

} // namespace splat::train
