#include "nn/zip_archive.h"

#include "nn/byte_reader.h"

#include <zlib.h>

#include <algorithm>

namespace splat::nn {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfCentralDir = 0x06054b50;
constexpr uint32_t kZip64EndLocator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint64_t kEndRecordSize = 22;
constexpr uint64_t kMaxComment = 0xffff;

// The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB; the
// signature is searched backwards.
uint64_t find_end_record(std::span<const uint8_t> b, const std::string& name) {
  SPLAT_CHECK(b.size() >= kEndRecordSize, name, ": not a zip archive (", b.size(), " bytes)");
  const uint64_t lowest = b.size() > kEndRecordSize + kMaxComment ? b.size() - kEndRecordSize - kMaxComment : 0;
  for (uint64_t p = b.size() - kEndRecordSize + 1; p-- > lowest;) {
    uint32_t sig;
    std::memcpy(&sig, b.data() + p, 4);
    if (sig == kEndOfCentralDir) return p;
  }
  throw Error(str(name, ": zip end-of-central-directory record not found (truncated file?)"));
}

} // namespace

bool ZipArchive::looks_like_zip(std::span<const uint8_t> bytes) {
  uint32_t sig = 0;
  if (bytes.size() >= 4) std::memcpy(&sig, bytes.data(), 4);
  return sig == kLocalHeader;
}

ZipArchive::ZipArchive(std::span<const uint8_t> bytes, std::string name)
    : bytes_(bytes), name_(std::move(name)) {
  const uint64_t end_pos = find_end_record(bytes_, name_);
  ByteReader end(bytes_, name_, end_pos + 4);
  end.read<uint16_t>("disk number");
  end.read<uint16_t>("central directory disk");
  end.read<uint16_t>("entries on disk");
  uint64_t count = end.read<uint16_t>("entry count");
  uint64_t dir_size = end.read<uint32_t>("central directory size");
  uint64_t dir_offset = end.read<uint32_t>("central directory offset");

  // ZIP64: the locator sits right before the classic end record; torch writes it even for small
  // files, and it is the only source of the true values when the classic fields overflow.
  if (end_pos >= 20) {
    ByteReader loc(bytes_, name_, end_pos - 20);
    if (loc.read<uint32_t>("zip64 locator signature") == kZip64EndLocator) {
      loc.read<uint32_t>("zip64 end disk");
      ByteReader z(bytes_, name_, loc.read<uint64_t>("zip64 end offset"));
      SPLAT_CHECK(z.read<uint32_t>("zip64 end signature") == kZip64End, name_,
                  ": corrupt zip64 end-of-central-directory record");
      z.read<uint64_t>("zip64 record size");
      z.read<uint16_t>("version made by");
      z.read<uint16_t>("version needed");
      z.read<uint32_t>("disk number");
      z.read<uint32_t>("central directory disk");
      z.read<uint64_t>("entries on disk");
      count = z.read<uint64_t>("entry count");
      dir_size = z.read<uint64_t>("central directory size");
      dir_offset = z.read<uint64_t>("central directory offset");
    }
  }
  SPLAT_CHECK(dir_offset <= bytes_.size() && dir_size <= bytes_.size() - dir_offset, name_,
              ": central directory (offset ", dir_offset, ", ", dir_size,
              " bytes) lies outside the file of ", bytes_.size(), " bytes");
  // Each central header takes at least 46 bytes: a count beyond that is corrupt, not a reason to
  // reserve gigabytes.
  SPLAT_CHECK(count <= dir_size / 46, name_, ": central directory claims ", count,
              " entries in ", dir_size, " bytes");

  ByteReader dir(bytes_.subspan(0, dir_offset + dir_size), name_, dir_offset);
  entries_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    SPLAT_CHECK(dir.read<uint32_t>("central header signature") == kCentralHeader, name_,
                ": corrupt central directory entry ", i);
    dir.read<uint16_t>("version made by");
    dir.read<uint16_t>("version needed");
    const uint16_t flags = dir.read<uint16_t>("flags");
    const uint16_t method = dir.read<uint16_t>("compression method");
    dir.read<uint32_t>("modification time");
    Entry e;
    e.crc32 = dir.read<uint32_t>("crc-32");
    uint64_t compressed = dir.read<uint32_t>("compressed size");
    e.size = dir.read<uint32_t>("size");
    const uint16_t name_len = dir.read<uint16_t>("name length");
    const uint16_t extra_len = dir.read<uint16_t>("extra length");
    const uint16_t comment_len = dir.read<uint16_t>("comment length");
    dir.read<uint16_t>("start disk");
    dir.read<uint16_t>("internal attributes");
    dir.read<uint32_t>("external attributes");
    uint64_t local_offset = dir.read<uint32_t>("local header offset");
    e.name = dir.read_string(name_len, "entry name");
    ByteReader extra(dir.take(extra_len, "extra field"), name_);
    while (extra.remaining() >= 4) {
      const uint16_t id = extra.read<uint16_t>("extra id");
      ByteReader field(extra.take(extra.read<uint16_t>("extra size"), "extra data"), name_);
      if (id != kZip64ExtraId) continue;
      // Only the fields whose classic value overflowed are present, in this order.
      if (e.size == 0xffffffffu) e.size = field.read<uint64_t>("zip64 size");
      if (compressed == 0xffffffffu) compressed = field.read<uint64_t>("zip64 compressed size");
      if (local_offset == 0xffffffffu) local_offset = field.read<uint64_t>("zip64 offset");
    }
    dir.take(comment_len, "entry comment");
    SPLAT_CHECK(method == 0 && compressed == e.size, name_, ": entry '", e.name,
                "' is compressed (method ", method, "); torch.save writes stored entries only");
    SPLAT_CHECK((flags & 1) == 0, name_, ": entry '", e.name, "' is encrypted");

    ByteReader local(bytes_, name_, local_offset);
    SPLAT_CHECK(local.read<uint32_t>("local header signature") == kLocalHeader, name_,
                ": corrupt local header of entry '", e.name, "'");
    local.seek(local_offset + 26);
    const uint64_t local_name = local.read<uint16_t>("local name length");
    const uint64_t local_extra = local.read<uint16_t>("local extra length");
    e.data_offset = local_offset + 30 + local_name + local_extra;
    SPLAT_CHECK(e.data_offset <= bytes_.size() && e.size <= bytes_.size() - e.data_offset, name_,
                ": entry '", e.name, "' (", e.size, " bytes at offset ", e.data_offset,
                ") extends past the end of the file (truncated?)");
    entries_.push_back(std::move(e));
  }
}

const ZipArchive::Entry* ZipArchive::find(const std::string& name) const {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
  return it == entries_.end() ? nullptr : &*it;
}

std::span<const uint8_t> ZipArchive::read(const Entry& e) const {
  const auto data = bytes_.subspan(e.data_offset, e.size);
  // zlib's crc32 takes at most 4 GiB per call (uInt); larger entries go in chunks.
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t done = 0; done < data.size();) {
    const uint64_t n = std::min<uint64_t>(data.size() - done, 1u << 30);
    crc = crc32(crc, data.data() + done, static_cast<uInt>(n));
    done += n;
  }
  SPLAT_CHECK(crc == e.crc32, name_, ": entry '", e.name, "' is corrupt (CRC-32 mismatch)");
  return data;
}

} // namespace splat::nn
