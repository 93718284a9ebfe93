// The progress bar: its line checked exactly, the 10% lines off a terminal, the throttled
// in-place redraws on one (with a fake clock), and misuse.
#include "train/log/progress_bar.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>

using namespace splat::train;

namespace {

// What a bar writes, read back from a temporary file.
struct Capture {
  std::FILE* file = std::tmpfile();
  ~Capture() { std::fclose(file); }
  std::string text() const {
    std::fflush(file);
    std::string s(static_cast<size_t>(std::ftell(file)), '\0');
    std::rewind(file);
    s.resize(std::fread(s.data(), 1, s.size(), file));
    return s;
  }
};

struct FakeClock {
  double now = 0;
  ProgressBar::Clock clock() {
    return [this] { return now; };
  }
};

size_t count(const std::string& s, char c) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), c));
}

} // namespace

TEST_CASE("format_progress: label, bar, count, percent, rate, elapsed and ETA") {
  CHECK(format_progress("train", {.done = 40, .total = 100, .elapsed_seconds = 3.25}) ==
        "train [#########---------------]  40/100   40%  12.31 it/s  elapsed 0:00:03  eta "
        "0:00:04");
  CHECK(format_progress("val", {.done = 7, .total = 7, .elapsed_seconds = 7200.5}) ==
        "val [########################] 7/7  100%  0.00 it/s  elapsed 2:00:00  eta 0:00:00");
  // A resumed run: the items before the start are not in the rate.
  CHECK(
      format_progress("", {.done = 60, .total = 80, .elapsed_seconds = 10, .done_at_start = 40}) ==
      "[##################------] 60/80   75%  2.00 it/s  elapsed 0:00:10  eta 0:00:10");
}

TEST_CASE("format_progress: nothing divides by zero") {
  // No item yet, no time yet: no rate and no ETA.
  CHECK(format_progress("train", {.done = 0, .total = 50, .elapsed_seconds = 0}) ==
        "train [------------------------]  0/50    0%  -.-- it/s  elapsed 0:00:00  eta -:--:--");
  CHECK(format_progress("train", {.done = 0, .total = 50, .elapsed_seconds = 4}) ==
        "train [------------------------]  0/50    0%  0.00 it/s  elapsed 0:00:04  eta -:--:--");
  // A total of 0 is a loop with nothing to do: complete.
  CHECK(format_progress("eval", {.done = 0, .total = 0, .elapsed_seconds = 0}) ==
        "eval [########################] 0/0  100%  -.-- it/s  elapsed 0:00:00  eta 0:00:00");
  // An unknown total: the count and rate only.
  CHECK(format_progress("data", {.done = 7, .total = std::nullopt, .elapsed_seconds = 2}) ==
        "data 7  3.50 it/s  elapsed 0:00:02");
}

TEST_CASE("format_hms: whole seconds, hours unbounded") {
  CHECK(format_hms(0) == "0:00:00");
  CHECK(format_hms(59.99) == "0:00:59");
  CHECK(format_hms(3725.9) == "1:02:05");
  CHECK(format_hms(123 * 3600 + 245) == "123:04:05");
  CHECK(format_hms(-3) == "0:00:00");
}

TEST_CASE("ProgressBar off a terminal: a line at each 10% step and none more at the end") {
  Capture out;
  FakeClock t;
  {
    ProgressBar bar("train", 25, out.file, ProgressMode::lines, 0, t.clock());
    for (int64_t i = 1; i <= 25; ++i) {
      t.now = static_cast<double>(i);
      bar.advance();
    }
    bar.finish();
    bar.finish(); // later calls do nothing
  }
  const std::string s = out.text();
  CHECK(count(s, '\r') == 0);
  CHECK(count(s, '\n') == 10); // at 3, 5, 8, 10, 13, 15, 18, 20, 23 and 25 of 25
  CHECK(s.find("train [##------") == 0);
  CHECK(s.find(" 3/25   12%  1.00 it/s  elapsed 0:00:03  eta 0:00:22\n") != std::string::npos);
  CHECK(s.ends_with(" 25/25  100%  1.00 it/s  elapsed 0:00:25  eta 0:00:00\n"));
}

TEST_CASE("ProgressBar off a terminal: jumps print one line, an early finish prints the state") {
  Capture out;
  FakeClock t;
  ProgressBar bar("eval", 100, out.file, ProgressMode::lines, 0, t.clock());
  bar.update(5); // below the first step: nothing
  CHECK(out.text().empty());
  bar.update(57); // over five steps at once: one line
  bar.update(58);
  CHECK(count(out.text(), '\n') == 1);
  bar.finish(); // stopped short (--max-iters): the last state
  const std::string s = out.text();
  CHECK(count(s, '\n') == 2);
  CHECK(s.ends_with(" 58/100   58%  -.-- it/s  elapsed 0:00:00  eta -:--:--\n"));
}

TEST_CASE("ProgressBar off a terminal: an unknown or zero total prints once, at the end") {
  for (const std::optional<int64_t> total : {std::optional<int64_t>(), std::optional<int64_t>(0)}) {
    Capture out;
    FakeClock t;
    ProgressBar bar("data", total, out.file, ProgressMode::lines, 0, t.clock());
    if (!total)
      for (int i = 0; i < 30; ++i) bar.advance();
    CHECK(out.text().empty());
    t.now = 3;
    bar.finish();
    CHECK(out.text() == (total ? "data [########################] 0/0  100%  0.00 it/s  elapsed "
                                 "0:00:03  eta 0:00:00\n"
                               : "data 30  10.00 it/s  elapsed 0:00:03\n"));
  }
}

TEST_CASE("ProgressBar on a terminal: redraws in place, at most 10 times a second") {
  Capture out;
  FakeClock t;
  ProgressBar bar("train", 1000, out.file, ProgressMode::redraw, 0, t.clock());
  bar.update(1); // the first update draws
  CHECK(count(out.text(), '\r') == 1);
  for (int64_t i = 2; i <= 99; ++i) {
    t.now = 0.001 * static_cast<double>(i); // 98 updates within 0.1 s: no redraw
    bar.update(i);
  }
  CHECK(count(out.text(), '\r') == 1);
  t.now = 0.1;
  bar.update(100);
  CHECK(count(out.text(), '\r') == 2);
  bar.update(1000); // the last item always draws
  CHECK(count(out.text(), '\r') == 3);
  CHECK(count(out.text(), '\n') == 0);
  bar.finish();
  const std::string s = out.text();
  CHECK(count(s, '\n') == 1);
  CHECK(s.ends_with("1000/1000  100%  10000.00 it/s  elapsed 0:00:00  eta 0:00:00\n"));
}

TEST_CASE("ProgressBar on a terminal: a shorter line blanks the rest of the longer one") {
  Capture out;
  FakeClock t;
  ProgressBar bar("", 10, out.file, ProgressMode::redraw, 0, t.clock());
  t.now = 0.5;
  bar.update(5); // 10.00 it/s
  t.now = 2;
  bar.update(6); // 3.00 it/s: one character shorter
  const std::string s = out.text();
  const std::string first = format_progress("", {.done = 5, .total = 10, .elapsed_seconds = 0.5});
  const std::string second = format_progress("", {.done = 6, .total = 10, .elapsed_seconds = 2});
  REQUIRE(second.size() + 1 == first.size());
  CHECK(s == '\r' + first + '\r' + second + ' ');
}

TEST_CASE("ProgressBar::write: a log line on its own line above the bar") {
  Capture out;
  FakeClock t;
  ProgressBar bar("train", 4, out.file, ProgressMode::redraw, 0, t.clock());
  bar.update(1);
  bar.write("Epoch(train) [1][1/4] loss: 1.0");
  const std::string line = format_progress("train", {.done = 1, .total = 4});
  CHECK(out.text() == '\r' + line + '\r' + std::string(line.size(), ' ') + '\r' +
                          "Epoch(train) [1][1/4] loss: 1.0\n" + '\r' + line);

  Capture plain;
  ProgressBar lines("train", 4, plain.file, ProgressMode::lines, 0, t.clock());
  lines.write("a log line");
  CHECK(plain.text() == "a log line\n");
}

TEST_CASE("ProgressBar: an unfinished bar on a terminal ends its line when destroyed") {
  Capture out;
  FakeClock t;
  {
    ProgressBar bar("train", 10, out.file, ProgressMode::redraw, 0, t.clock());
    bar.update(3);
  }
  const std::string s = out.text();
  CHECK(s == '\r' + format_progress("train", {.done = 3, .total = 10}) + '\n');
}

TEST_CASE("ProgressBar: a resumed bar starts at its start and does not print its past steps") {
  Capture out;
  FakeClock t;
  ProgressBar bar("train", 10, out.file, ProgressMode::lines, 6, t.clock());
  t.now = 2;
  bar.update(7);
  CHECK(out.text() == "train [################--------]  7/10   70%  0.50 it/s  elapsed 0:00:02  "
                      "eta 0:00:06\n");
}

TEST_CASE("ProgressBar: misuse is a one-line error") {
  Capture out;
  CHECK_THROWS_WITH(ProgressBar("train", -1, out.file, ProgressMode::lines),
                    "progress bar 'train': negative total -1");
  CHECK_THROWS_WITH(ProgressBar("train", 5, out.file, ProgressMode::lines, 6),
                    "progress bar 'train': start 6 is past the total 5");
  CHECK_THROWS_WITH(ProgressBar("train", 5, out.file, ProgressMode::lines, -1),
                    "progress bar 'train': negative start -1");
  CHECK_THROWS_WITH(ProgressBar("train", 5, nullptr, ProgressMode::lines),
                    "progress bar 'train': no output stream");
  ProgressBar bar("train", 5, out.file, ProgressMode::lines);
  bar.update(3);
  CHECK_THROWS_WITH(bar.update(2), "progress bar 'train': done went back from 3 to 2");
  CHECK_THROWS_WITH(bar.update(6), "progress bar 'train': done 6 is past the total 5");
  bar.finish();
  CHECK_THROWS_WITH(bar.advance(), "progress bar 'train': update after finish()");
}

TEST_CASE("progress_mode_for: a file is not a terminal") {
  Capture out;
  CHECK(progress_mode_for(out.file) == ProgressMode::lines);
  ProgressBar bar("train", 10, out.file); // the mode it picks: lines, so no '\r'
  bar.update(10);
  bar.finish();
  CHECK(count(out.text(), '\r') == 0);
  CHECK(count(out.text(), '\n') == 1);
}
