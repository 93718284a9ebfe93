#include "train/log/tfevents_writer.h"

#include "core/error.h"

#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <unistd.h>

namespace splat::train {
namespace {

static_assert(std::endian::native == std::endian::little, "TFRecord framing is little-endian");

constexpr std::array<uint32_t, 256> crc32c_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1; // reflected 0x1EDC6F41
    t[i] = c;
  }
  return t;
}

// Protobuf wire format: varints, tags (field << 3 | wire type) and length-delimited fields.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
template <class T> void put_fixed(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
void put_bytes_field(std::string& out, int field, const std::string& bytes) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | 2);
  put_varint(out, bytes.size());
  out += bytes;
}

std::string event_header(double wall_time, int64_t step) {
  std::string e;
  put_varint(e, 1 << 3 | 1); // wall_time: fixed64 double
  put_fixed(e, wall_time);
  put_varint(e, 2 << 3 | 0); // step: varint (int64, two's complement as uint64)
  put_varint(e, static_cast<uint64_t>(step));
  return e;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::span<const uint8_t> bytes_of(const void* p, size_t n) { return {static_cast<const uint8_t*>(p), n}; }

} // namespace

uint32_t crc32c(std::span<const uint8_t> bytes) {
  static constexpr std::array<uint32_t, 256> table = crc32c_table();
  uint32_t c = 0xFFFFFFFFu;
  for (const uint8_t b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::span<const uint8_t> bytes) {
  const uint32_t c = crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

TfEventsWriter::TfEventsWriter(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  SPLAT_CHECK(std::filesystem::is_directory(dir), "TensorBoard log: cannot create the folder '", dir,
              "'", ec ? ": " + ec.message() : "");
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  static std::atomic<int> counter{0};
  const auto t = static_cast<long long>(now_seconds());
  path_ = (std::filesystem::path(dir) / str("events.out.tfevents.", t, ".", host, ".", ::getpid(), ".", counter++)).string();
  f_.reset(std::fopen(path_.c_str(), "wb"));
  SPLAT_CHECK(f_ != nullptr, "TensorBoard log: cannot create '", path_, "': ", std::strerror(errno));
  std::string e = event_header(now_seconds(), 0);
  put_bytes_field(e, 3, "brain.Event:2");
  write_record(e);
  flush();
}

TfEventsWriter::~TfEventsWriter() = default;

void TfEventsWriter::add_scalar(const std::string& tag, double value, int64_t step, double wall_time) {
  std::string v;
  put_bytes_field(v, 1, tag);
  put_varint(v, 2 << 3 | 5); // simple_value: fixed32 float
  put_fixed(v, static_cast<float>(value));
  std::string summary;
  put_bytes_field(summary, 1, v);
  std::string e = event_header(wall_time < 0 ? now_seconds() : wall_time, step);
  put_bytes_field(e, 5, summary);
  write_record(e);
}

void TfEventsWriter::write_record(const std::string& event) {
  const uint64_t n = event.size();
  const uint32_t len_crc = masked_crc32c(bytes_of(&n, sizeof n));
  const uint32_t data_crc = masked_crc32c(bytes_of(event.data(), event.size()));
  const bool ok = std::fwrite(&n, sizeof n, 1, f_.get()) == 1 &&
                  std::fwrite(&len_crc, sizeof len_crc, 1, f_.get()) == 1 &&
                  std::fwrite(event.data(), 1, event.size(), f_.get()) == event.size() &&
                  std::fwrite(&data_crc, sizeof data_crc, 1, f_.get()) == 1;
  SPLAT_CHECK(ok, "TensorBoard log: cannot write '", path_, "': ", std::strerror(errno));
}

void TfEventsWriter::flush() {
  SPLAT_CHECK(std::fflush(f_.get()) == 0, "TensorBoard log: cannot write '", path_, "': ", std::strerror(errno));
}

} // namespace splat::train
