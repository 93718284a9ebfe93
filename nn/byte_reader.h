// Bounds-checked little-endian reads from a byte span, for the binary formats of checkpoint files
// (ZIP records, pickle opcodes). Every read past the end throws an Error naming the file, what
// was being read and the position, so truncated files fail cleanly.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace splat::nn {

class ByteReader {
public:
  ByteReader(std::span<const uint8_t> bytes, std::string_view name, uint64_t pos = 0)
      : bytes_(bytes), name_(name), pos_(pos) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return pos_ <= bytes_.size() ? bytes_.size() - pos_ : 0; }
  bool at_end() const { return pos_ >= bytes_.size(); }
  void seek(uint64_t pos) { pos_ = pos; }

  std::span<const uint8_t> take(uint64_t n, std::string_view what) {
    SPLAT_CHECK(n <= remaining(), name_, ": truncated: ", what, " needs ", n, " bytes at offset ",
                pos_, " but only ", remaining(), " remain");
    auto s = bytes_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  template <class T> T read(std::string_view what) {
    T v;
    std::memcpy(&v, take(sizeof(T), what).data(), sizeof(T));  // the formats are little-endian, as is every target
    return v;
  }
  std::string read_string(uint64_t n, std::string_view what) {
    auto s = take(n, what);
    return std::string(reinterpret_cast<const char*>(s.data()), s.size());
  }

private:
  std::span<const uint8_t> bytes_;
  std::string_view name_;
  uint64_t pos_;
};

} // namespace splat::nn
