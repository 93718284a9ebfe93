// TensorBoard event files, written without TensorFlow or protobuf: the record framing of
// TensorFlow's TFRecord (little-endian u64 length, masked CRC-32C of the length, the bytes,
// masked CRC-32C of the bytes) around Event protos encoded by hand, the few fields scalars need:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// The first record is the file_version "brain.Event:2" event every reader expects.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>

namespace splat::train {

// CRC-32C (Castagnoli), the checksum of TFRecord framing (and its "masked" form below).
uint32_t crc32c(std::span<const uint8_t> bytes);
uint32_t masked_crc32c(std::span<const uint8_t> bytes);

class TfEventsWriter {
public:
  // Creates dir if needed and a new events.out.tfevents.<unix time>.<host>.<pid>.<n> file in it
  // (the name TensorBoard globs for; n keeps two writers of one process apart).
  explicit TfEventsWriter(const std::string& dir);
  TfEventsWriter(const TfEventsWriter&) = delete;
  TfEventsWriter& operator=(const TfEventsWriter&) = delete;
  ~TfEventsWriter();

  // One scalar event; wall_time in seconds since the epoch (default: now).
  void add_scalar(const std::string& tag, double value, int64_t step, double wall_time = -1);
  // Pushes buffered events to the file (readers see events only after this).
  void flush();
  const std::string& path() const { return path_; }

private:
  void write_record(const std::string& event);
  std::string path_;
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f_;
};

} // namespace splat::train
