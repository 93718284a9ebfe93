// Read-only access to the entries of a ZIP archive whose entries are STORED (not compressed), as
// torch.save writes them (spec section 7.2 A): the central directory gives names, sizes and
// offsets (the local headers of torch's files carry zero sizes), ZIP64 records are honoured, and
// every entry's CRC-32 is verified when it is read, so a corrupted byte in a tensor is an error
// instead of a silently wrong weight.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace splat::nn {

class ZipArchive {
public:
  // bytes must outlive the archive; name is used in error messages (usually the file path).
  ZipArchive(std::span<const uint8_t> bytes, std::string name);

  struct Entry {
    std::string name;
    uint64_t size = 0;         // bytes (stored: compressed size == size)
    uint64_t data_offset = 0;  // of the first data byte in the archive
    uint32_t crc32 = 0;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  // The entry with this exact name, or nullptr.
  const Entry* find(const std::string& name) const;
  // The entry's bytes after checking its CRC-32; throws an Error naming the archive and entry.
  std::span<const uint8_t> read(const Entry& e) const;

  // True when bytes start like a ZIP archive (a local file header).
  static bool looks_like_zip(std::span<const uint8_t> bytes);

private:
  std::span<const uint8_t> bytes_;
  std::string name_;
  std::vector<Entry> entries_;
};

} // namespace splat::nn
