// The one piece of JSON writing splat needs everywhere it writes JSON by hand (safetensors
// headers, COCO results, JSON-lines logs): a string literal with the escapes RFC 8259 requires.
// Bytes >= 0x80 pass through, so UTF-8 stays UTF-8.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace splat {

inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

} // namespace splat
