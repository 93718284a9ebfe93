// A JSON-lines log: one JSON object per line, appended and flushed at once, so a crash loses at
// most the line being written and `tail -f` or a plotting script can read it while training.
// Keys keep the order they are given in (epoch, iter, lr, the losses, ...).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace splat::train {

using LogValue = std::variant<int64_t, double, std::string>;
using LogRecord = std::vector<std::pair<std::string, LogValue>>;

// {"key": value, ...}; doubles with the fewest digits that read back the same, NaN and Inf as
// null (JSON has neither; the text log still shows them).
std::string json_object(const LogRecord& record);

class JsonLinesWriter {
public:
  // Appends to path (created if missing), so a resumed run continues its log.
  explicit JsonLinesWriter(const std::string& path);
  void write(const LogRecord& record);
  const std::string& path() const { return path_; }

private:
  std::string path_;
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f_;
};

} // namespace splat::train
