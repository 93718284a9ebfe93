// The trainer's logs: the MMDetection-style line, JSON lines and TensorBoard records (byte level
// here; tests/train/check_tfevents.py reads whole files with TensorBoard's own reader).
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/log/json_lines.h"
#include "train/log/log_line.h"
#include "train/log/tfevents_writer.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

using namespace splat;
using namespace splat::train;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

std::span<const uint8_t> bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

} // namespace

TEST_CASE("format_log_line: mmengine's train line, aligned the same way") {
  TrainLogLine l{.epoch = 1, .max_epochs = 12, .iter = 50, .iters_per_epoch = 7330, .lr = 0.001982,
                 .eta_seconds = 93813.9, .time = 0.643, .data_time = 0.01262, .memory_mib = 4036,
                 .values = {{"loss", 2.03012}, {"loss_rpn_cls", 0.63381}, {"acc", 97.5}}};
  CHECK(format_log_line(l) ==
        "Epoch(train)  [1][  50/7330]  lr: 1.9820e-03  eta: 1 day, 2:03:33  time: 0.6430  "
        "data_time: 0.0126  memory: 4036  loss: 2.0301  loss_rpn_cls: 0.6338  acc: 97.5000");
  l.epoch = 10;
  l.iter = 7330;
  l.eta_seconds = 59;
  l.values.clear();
  CHECK(format_log_line(l) ==
        "Epoch(train) [10][7330/7330]  lr: 1.9820e-03  eta: 0:00:59  time: 0.6430  data_time: 0.0126  memory: 4036");
  CHECK(format_eta(0) == "0:00:00");
  CHECK(format_eta(3600 * 25 + 61.9) == "1 day, 1:01:01");
  CHECK(format_eta(86400 * 3 + 5) == "3 days, 0:00:05");
  CHECK(format_eta(-4) == "0:00:00");
}

TEST_CASE("JSON lines: ordered keys, exact numbers, NaN as null, appended") {
  CHECK(json_object({{"epoch", int64_t{1}}, {"lr", 0.02}, {"loss", 1.0 / 3}, {"mode", std::string("tr\"ain")},
                     {"bad", std::numeric_limits<double>::quiet_NaN()}}) ==
        "{\"epoch\": 1, \"lr\": 0.02, \"loss\": 0.3333333333333333, \"mode\": \"tr\\\"ain\", \"bad\": null}");
  test::TempDir tmp;
  const std::string path = (tmp.dir / "log.jsonl").string();
  JsonLinesWriter(path).write({{"iter", int64_t{1}}});
  JsonLinesWriter w(path); // a resumed run appends
  w.write({{"iter", int64_t{2}}});
  CHECK(read_file(path) == "{\"iter\": 1}\n{\"iter\": 2}\n");
  CHECK_THROWS_WITH_ALL(JsonLinesWriter((tmp.dir / "no" / "log.jsonl").string()), "no/log.jsonl", "cannot open");
}

TEST_CASE("crc32c: the standard check value and TFRecord's mask") {
  CHECK(crc32c(bytes("123456789")) == 0xE3069283u); // the CRC-32C check value
  CHECK(crc32c(bytes("")) == 0u);
  const uint32_t c = crc32c(bytes("123456789"));
  CHECK(masked_crc32c(bytes("123456789")) == ((c >> 15) | (c << 17)) + 0xA282EAD8u);
}

TEST_CASE("TfEventsWriter: the file_version record, then scalar events byte for byte") {
  test::TempDir tmp;
  std::string path;
  {
    TfEventsWriter w((tmp.dir / "tb").string());
    path = w.path();
    CHECK(std::filesystem::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
    w.add_scalar("loss", 0.5, 300, 1.25);
    w.flush();
  }
  const std::string file = read_file(path);
  // Record 1: the version event (its wall time is "now": check the framing and the string).
  uint64_t n1 = 0;
  std::memcpy(&n1, file.data(), 8);
  REQUIRE(file.size() > 16 + n1);
  CHECK(file.substr(12 + n1 - 15, 15) == std::string("\x1a\x0d" "brain.Event:2", 15));
  uint32_t crc = 0;
  std::memcpy(&crc, file.data() + 8, 4);
  CHECK(crc == masked_crc32c(bytes(file.substr(0, 8))));
  std::memcpy(&crc, file.data() + 12 + n1, 4);
  CHECK(crc == masked_crc32c(bytes(file.substr(12, n1))));
  // Record 2, by hand: wall_time 1.25 (tag 0x09, fixed64), step 300 (0x10, varint ac 02),
  // summary (0x2a) { value (0x0a) { tag (0x0a) "loss", simple_value (0x15) 0.5f } }.
  const std::string expected_event = std::string("\x09\x00\x00\x00\x00\x00\x00\xf4\x3f\x10\xac\x02", 12) +
                                     std::string("\x2a\x0d\x0a\x0b\x0a\x04loss\x15\x00\x00\x00\x3f", 15);
  const std::string rec2 = file.substr(16 + n1);
  REQUIRE(rec2.size() == 16 + expected_event.size());
  uint64_t n2 = 0;
  std::memcpy(&n2, rec2.data(), 8);
  CHECK(n2 == expected_event.size());
  CHECK(rec2.substr(12, n2) == expected_event);
  std::memcpy(&crc, rec2.data() + 12 + n2, 4);
  CHECK(crc == masked_crc32c(bytes(expected_event)));
  CHECK_THROWS_WITH_ALL(TfEventsWriter((tmp.dir / "tb" / std::filesystem::path(path).filename() / "x").string()),
                        "TensorBoard log", "cannot create");
}
