#include "train/log/progress_bar.h"

#include "core/error.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace splat::train {
namespace {

constexpr int64_t kBarCells = 24;
constexpr double kRedrawInterval = 0.1; // seconds: at most 10 redraws a second
constexpr int kSteps = 10;              // lines mode: a line per 10%
constexpr const char* kUnknownTime = "-:--:--";

std::string right_align(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

} // namespace

ProgressMode progress_mode_for(std::FILE* out) {
  return ::isatty(::fileno(out)) ? ProgressMode::redraw : ProgressMode::lines;
}

std::string format_hms(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

std::string format_progress(std::string_view label, const ProgressState& s) {
  std::string line(label);
  if (!line.empty()) line += ' ';
  const double rate = s.elapsed_seconds > 0
                          ? static_cast<double>(s.done - s.done_at_start) / s.elapsed_seconds
                          : 0.0;
  char rate_text[48] = "-.--";
  if (s.elapsed_seconds > 0) std::snprintf(rate_text, sizeof rate_text, "%.2f", rate);
  if (!s.total)
    return str(line, s.done, "  ", rate_text, " it/s  elapsed ", format_hms(s.elapsed_seconds));

  const int64_t total = *s.total;
  // A total of 0 is a loop with nothing to do: complete, not a division by zero.
  const int64_t cells = total == 0 ? kBarCells : s.done * kBarCells / total;
  const int64_t percent = total == 0 ? 100 : s.done * 100 / total;
  const std::string total_text = std::to_string(total);
  std::string eta = kUnknownTime;
  if (s.done == total)
    eta = format_hms(0);
  else if (rate > 0)
    eta = format_hms(static_cast<double>(total - s.done) / rate);
  return str(line, '[', std::string(static_cast<size_t>(cells), '#'),
             std::string(static_cast<size_t>(kBarCells - cells), '-'), "] ",
             right_align(std::to_string(s.done), total_text.size()), '/', total_text, "  ",
             right_align(std::to_string(percent), 3), "%  ", rate_text, " it/s  elapsed ",
             format_hms(s.elapsed_seconds), "  eta ", eta);
}

double ProgressBar::steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ProgressBar::ProgressBar(std::string label, std::optional<int64_t> total, std::FILE* out,
                         ProgressMode mode, int64_t start, Clock clock)
    : label_(std::move(label)), out_(out), mode_(mode), clock_(std::move(clock)),
      start_time_(clock_()), state_{.done = start, .total = total, .done_at_start = start} {
  SPLAT_CHECK(out_ != nullptr, "progress bar '", label_, "': no output stream");
  SPLAT_CHECK(!total || *total >= 0, "progress bar '", label_, "': negative total ", *total);
  SPLAT_CHECK(start >= 0, "progress bar '", label_, "': negative start ", start);
  SPLAT_CHECK(!total || start <= *total, "progress bar '", label_, "': start ", start,
              " is past the total ", *total);
  last_step_ = step_of(start);
}

ProgressBar::ProgressBar(std::string label, std::optional<int64_t> total, std::FILE* out)
    : ProgressBar(std::move(label), total, out, progress_mode_for(out)) {}

ProgressBar::~ProgressBar() {
  if (drawn_ && !finished_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

int ProgressBar::step_of(int64_t done) const {
  if (!state_.total || *state_.total == 0) return 0;
  return static_cast<int>(done * kSteps / *state_.total);
}

void ProgressBar::update(int64_t done) {
  SPLAT_CHECK(!finished_, "progress bar '", label_, "': update after finish()");
  SPLAT_CHECK(done >= state_.done, "progress bar '", label_, "': done went back from ", state_.done,
              " to ", done);
  SPLAT_CHECK(!state_.total || done <= *state_.total, "progress bar '", label_, "': done ", done,
              " is past the total ", *state_.total);
  state_.done = done;
  if (mode_ == ProgressMode::redraw) {
    // The last item is always drawn, so the line never stops short of the total.
    if (!drawn_ || clock_() - last_draw_ >= kRedrawInterval || done == state_.total) draw();
  } else if (const int step = step_of(done); step > last_step_) {
    last_step_ = step;
    draw();
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (mode_ == ProgressMode::redraw || printed_done_ != state_.done) draw();
  if (mode_ == ProgressMode::redraw) emit("\n");
  drawn_ = false;
}

void ProgressBar::write(std::string_view line) {
  if (mode_ == ProgressMode::redraw && drawn_) {
    emit('\r' + std::string(drawn_width_, ' ') + '\r');
    drawn_ = false;
    drawn_width_ = 0;
  }
  emit(str(line, '\n'));
  if (mode_ == ProgressMode::redraw && !finished_) draw();
}

void ProgressBar::draw() {
  last_draw_ = clock_();
  state_.elapsed_seconds = last_draw_ - start_time_;
  const std::string line = format_progress(label_, state_);
  if (mode_ == ProgressMode::lines) {
    printed_done_ = state_.done;
    return emit(line + '\n');
  }
  // Blank what is left of a longer previous line (the rate and times change width).
  const size_t pad = drawn_width_ > line.size() ? drawn_width_ - line.size() : 0;
  emit('\r' + line + std::string(pad, ' '));
  drawn_ = true;
  drawn_width_ = line.size();
}

void ProgressBar::emit(const std::string& text) {
  std::fputs(text.c_str(), out_);
  // A redrawn line has no newline to flush a line-buffered terminal, and a pipe is fully
  // buffered: either way the bar would show late.
  std::fflush(out_);
}

} // namespace splat::train
