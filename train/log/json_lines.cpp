#include "train/log/json_lines.h"

#include "core/error.h"
#include "core/json_writer.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

namespace splat::train {

std::string json_object(const LogRecord& record) {
  std::string out = "{";
  for (size_t i = 0; i < record.size(); ++i) {
    if (i) out += ", ";
    append_json_string(out, record[i].first);
    out += ": ";
    const LogValue& v = record[i].second;
    if (const auto* n = std::get_if<int64_t>(&v)) {
      out += std::to_string(*n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      if (!std::isfinite(*d)) {
        out += "null";
      } else {
        char buf[32];
        out.append(buf, std::to_chars(buf, buf + sizeof buf, *d).ptr);
      }
    } else {
      append_json_string(out, std::get<std::string>(v));
    }
  }
  return out + "}";
}

JsonLinesWriter::JsonLinesWriter(const std::string& path) : path_(path) {
  f_.reset(std::fopen(path.c_str(), "ab"));
  SPLAT_CHECK(f_ != nullptr, "JSON log: cannot open '", path, "' for appending: ", std::strerror(errno));
}

void JsonLinesWriter::write(const LogRecord& record) {
  const std::string line = json_object(record) + "\n";
  SPLAT_CHECK(std::fwrite(line.data(), 1, line.size(), f_.get()) == line.size() && std::fflush(f_.get()) == 0,
              "JSON log: cannot write '", path_, "': ", std::strerror(errno));
}

} // namespace splat::train
