#include "core/safetensors.h"

#include "ops/copy.h"
#include "ops/view.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <unistd.h>

using namespace splat;
using namespace splat::ops;
using splat::test::check_equal;
using splat::test::noncontiguous;
using splat::test::to_vector;
namespace fs = std::filesystem;

using splat::test::TempDir;

namespace {

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
std::string read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A safetensors file: the little-endian length of `header` (or `len` when given), header, data.
std::string file_bytes(const std::string& header, const std::string& data = "",
                       std::optional<uint64_t> len = std::nullopt) {
  const uint64_t n = len.value_or(header.size());
  std::string out;
  for (int k = 0; k < 8; ++k) out += static_cast<char>(n >> (8 * k));
  return out + header + data;
}

// Loads the given bytes from a scratch file named bad.safetensors.
SafeTensors load_bytes(const TempDir& tmp, const std::string& bytes) {
  write_raw(tmp.path("bad.safetensors"), bytes);
  return load_safetensors(tmp.path("bad.safetensors"));
}

std::string f32_bytes(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

} // namespace

TEST_CASE("safetensors round-trips every dtype, 0-d, empty and strided tensors, and metadata") {
  TempDir tmp;
  const Tensor f32 = from_vector<float>({1.5f, -2, 3.25f, 4, 5, 6}, {2, 3});
  const Tensor f64 = from_vector<double>({3.141592653589793}, {});
  const Tensor i64 = zeros({0, 4}, {.dtype = DType::i64});
  const Tensor i32 = transpose(from_vector<int32_t>({1, -2, 3, 2147483647, -5, 6}, {2, 3}), 0, 1);
  const Tensor u8 = noncontiguous(from_vector<uint8_t>({0, 7, 255, 128}, {2, 2}));
  const Tensor b8 = slice(from_vector<bool>({true, false, false, true, true}, {5}), 0, 0, 5, 2);
  const Tensor big = noncontiguous(from_vector<double>({1e300, -1e-300, 0.5}, {3}));
  const std::map<std::string, Tensor> tensors = {
      {"weight", f32}, {"pi", f64}, {"empty", i64}, {"ints.T", i32},
      {"bytes", u8},   {"flags", b8}, {"strided.f64", big}, {"unicodé \"name\"", f32}};
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"},
      {"escapes", "quote \" backslash \\ newline \n tab \t bell \x07 slash /"},
      {"unicode", "caf\xC3\xA9 \xF0\x9F\x98\x80"},
      {"", ""}};
  const std::string path = tmp.path("model.safetensors");
  save_safetensors(path, tensors, metadata);
  CHECK(tmp.listing() == std::vector<std::string>{"model.safetensors"});

  const SafeTensors st = load_safetensors(path);
  CHECK(st.metadata == metadata);
  REQUIRE(st.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    REQUIRE(st.tensors.count(name) == 1);
    const Tensor& back = st.tensors.at(name);
    CHECK(back.is_contiguous());
    CHECK(back.device() == Device::cpu());
    check_equal(back, t);
  }

  // Layout: 8-byte aligned data, metadata first, tensors packed in key order.
  const std::string raw = read_raw(path);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  CHECK((8 + n) % 8 == 0);
  CHECK(raw.compare(8, 17, "{\"__metadata__\":{") == 0);
  CHECK(raw.find("\"bytes\":{\"dtype\":\"U8\",\"shape\":[2,2],\"data_offsets\":[0,4]}") !=
        std::string::npos);
  CHECK(raw.find("\"empty\":{\"dtype\":\"I64\",\"shape\":[0,4],\"data_offsets\":[4,4]}") !=
        std::string::npos);
  CHECK(raw.find("\"pi\":{\"dtype\":\"F64\",\"shape\":[],") != std::string::npos);
  CHECK(raw.size() == 8 + n + 4 + 0 + 3 + 24 + 24 + 8 + 24 + 24);

  // Saving again replaces the file; no metadata means no __metadata__ entry.
  save_safetensors(path, {{"x", f64}});
  const SafeTensors again = load_safetensors(path);
  CHECK(again.metadata.empty());
  CHECK(again.tensors.size() == 1);
  CHECK(read_raw(path).find("__metadata__") == std::string::npos);
  save_safetensors(path, {});
  CHECK(load_safetensors(path).tensors.empty());
}

TEST_CASE("safetensors loads files written by other writers") {
  TempDir tmp;
  // Whitespace, unsorted keys and offsets, escapes, a surrogate pair and trailing padding.
  const std::string header =
      " {\n \"b\" : {\"shape\": [2], \"dtype\": \"F32\", \"data_offsets\": [8, 16]},\n"
      " \"__metadata__\": {\"note\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\/ \\n\"},\n"
      " \"a\": {\"dtype\": \"BOOL\", \"shape\": [1, 3], \"data_offsets\": [0, 3]},\n"
      " \"pad\": {\"dtype\": \"U8\", \"shape\": [5], \"data_offsets\": [3, 8]}\t}   ";
  const std::string data = std::string("\x01\x00\x01", 3) + "hello" + f32_bytes({0.5f, -8});
  const SafeTensors st = load_bytes(tmp, file_bytes(header, data));
  CHECK(st.metadata.at("note") == "caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" / \n");
  CHECK(to_vector<float>(st.tensors.at("b")) == std::vector<float>{0.5f, -8});
  CHECK(st.tensors.at("a").shape() == Shape{1, 3});
  CHECK(to_vector<int>(st.tensors.at("a")) == std::vector<int>{1, 0, 1});
  CHECK(to_vector<int>(st.tensors.at("pad")) == std::vector<int>{'h', 'e', 'l', 'l', 'o'});
}

TEST_CASE("safetensors rejects malformed files with specific messages") {
  TempDir tmp;
  const std::string file_str = "'" + tmp.path("bad.safetensors") + "'";
  const char* file = file_str.c_str();
  const auto load = [&](const std::string& header, const std::string& data = "") {
    return load_bytes(tmp, file_bytes(header, data));
  };
  const std::string one_f32 = f32_bytes({1});

  SUBCASE("file-level") {
    CHECK_THROWS_WITH_ALL(load_safetensors(tmp.path("missing.safetensors")), "load_safetensors",
                          "missing.safetensors", "cannot open", "No such file");
    CHECK_THROWS_WITH_ALL(load_safetensors(tmp.dir.string()), "not a regular file");
    CHECK_THROWS_WITH_ALL(load_bytes(tmp, "abcde"), file, "truncated", "5 bytes",
                          "8-byte header length");
    CHECK_THROWS_WITH_ALL(load_bytes(tmp, file_bytes("{}", "", 100)), file, "header length 100",
                          "exceeds the 2 bytes");
    CHECK_THROWS_WITH_ALL(load_bytes(tmp, file_bytes("{}", "", UINT64_MAX - 1)),
                          "header length 18446744073709551614");
    CHECK_THROWS_WITH_ALL(load(""), "invalid JSON header at byte 0", "unexpected end of header");
  }

  SUBCASE("JSON syntax, with byte positions") {
    CHECK_THROWS_WITH_ALL(load("{\"a\":1,}"), file, "at byte 7", "expected a string key, got '}'");
    CHECK_THROWS_WITH_ALL(load("{\"a\" 1}"), "at byte 5", "expected ':' after an object key");
    CHECK_THROWS_WITH_ALL(load("{\"a\":[1 2]}"), "at byte 8", "expected ',' or ']'");
    CHECK_THROWS_WITH_ALL(load("{\"a\":{} \"b\":{}}"), "at byte 8", "expected ',' or '}'");
    CHECK_THROWS_WITH_ALL(load("{\"abc"), "at byte 1", "unterminated string");
    CHECK_THROWS_WITH_ALL(load("{\"a\\qb\":1}"), "at byte 3", "invalid escape '\\q'");
    CHECK_THROWS_WITH_ALL(load("{\"a\\u12g4\":1}"), "at byte 7", "expected 4 hex digits");
    CHECK_THROWS_WITH_ALL(load("{\"\\udc00\":1}"), "at byte 2", "unpaired low surrogate");
    CHECK_THROWS_WITH_ALL(load("{\"\\ud800x\":1}"), "at byte 2", "high surrogate not followed");
    CHECK_THROWS_WITH_ALL(load("{\"a\tb\":1}"), "at byte 3",
                          "unescaped control character byte 0x09");
    CHECK_THROWS_WITH_ALL(load("{\"a\":01}"), "at byte 5", "leading zero");
    CHECK_THROWS_WITH_ALL(load("{\"a\":1.5}"), "at byte 6", "fractions and exponents");
    CHECK_THROWS_WITH_ALL(load("{\"a\":2e3}"), "fractions and exponents");
    CHECK_THROWS_WITH_ALL(load("{\"a\":-}"), "at byte 6", "expected a digit, got '}'");
    CHECK_THROWS_WITH_ALL(load("{\"a\":99999999999999999999}"), "at byte 5",
                          "does not fit in 64 bits");
    CHECK_THROWS_WITH_ALL(load("{\"a\":true}"), "at byte 5", "unexpected 't'",
                          "only objects, arrays, strings and integers");
    CHECK_THROWS_WITH_ALL(load("{} x"), "at byte 3", "unexpected 'x' after the top-level value");
    CHECK_THROWS_WITH_ALL(load(std::string("{}\0", 3)), "at byte 2", "unexpected byte 0x00");
    CHECK_THROWS_WITH_ALL(load("{\"a\xff\":1}"), "at byte 3", "not valid UTF-8");
    CHECK_THROWS_WITH_ALL(load("{\"a\xc0\x80\":1}"), "at byte 3", "not valid UTF-8");  // overlong
    CHECK_THROWS_WITH_ALL(load(std::string(100, '[')), "nested deeper than 32");
    CHECK_THROWS_WITH_ALL(load("{\"a\":{},\"a\":{}}"), "at byte 8", "duplicate key \"a\"");
  }

  SUBCASE("header structure") {
    CHECK_THROWS_WITH_ALL(load("[]"), file, "the header must be a JSON object, got an array");
    CHECK_THROWS_WITH_ALL(load("{\"__metadata__\":[]}"), "__metadata__ must be an object");
    CHECK_THROWS_WITH_ALL(load("{\"__metadata__\":{\"epoch\":3}}"), file,
                          "metadata value of 'epoch' must be a string, got an integer");
    CHECK_THROWS_WITH_ALL(load("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}"),
                          "duplicate key \"k\"");
    CHECK_THROWS_WITH_ALL(load("{\"w\":\"F32\"}"), file,
                          "tensor 'w': expected an object, got a string");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"shape\":[],\"data_offsets\":[0,4]}}"),
                          "tensor 'w': missing field 'dtype'");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}"),
                          "tensor 'w': missing field 'shape'");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":[]}}"),
                          "tensor 'w': missing field 'data_offsets'");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],"
                               "\"extra\":1}}", one_f32),
                          "tensor 'w': unexpected field 'extra'");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F64\"}}"),
                          "duplicate key \"dtype\"");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":4,\"shape\":[],\"data_offsets\":[0,4]}}"),
                          "tensor 'w': 'dtype' must be a string, got an integer");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,2]}}"),
                          file, "tensor 'w': unknown or unsupported dtype 'F16'", "F32, F64");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,4]}}"),
                          "tensor 'w': 'shape' must be an array, got an integer");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],"
                               "\"data_offsets\":[0,4]}}"),
                          "tensor 'w': 'shape' must hold integers, got a string");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}"),
                          "tensor 'w': 'shape' holds the negative value -1");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4,8]}}"),
                          "tensor 'w': 'data_offsets' must hold [begin, end], got 3 values");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[-4,0]}}"),
                          "'data_offsets' holds the negative value -4");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,0]}}"),
                          file, "tensor 'w': data_offsets [4, 0] end before they begin");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],"
                               "\"data_offsets\":[0,20]}}"),
                          file, "tensor 'w': data_offsets [0, 20] span 20 bytes",
                          "dtype F32 and shape [2, 3] need 24");
    CHECK_THROWS_WITH_ALL(load("{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                               "\"data_offsets\":[0,0]}}"),
                          "tensor 'w': shape [4294967296, 4294967296] is too large");
  }

  SUBCASE("byte ranges: bounds, overlaps and holes") {
    const auto entry = [](const std::string& name, int b, int e) {
      return str("\"", name, "\":{\"dtype\":\"U8\",\"shape\":[", e - b, "],\"data_offsets\":[", b,
                 ",", e, "]}");
    };
    CHECK_THROWS_WITH_ALL(load("{" + entry("w", 0, 8) + "}", "1234"), file,
                          "tensor 'w': data_offsets [0, 8] exceed the data buffer of 4 bytes");
    CHECK_THROWS_WITH_ALL(load("{" + entry("a", 0, 4) + "," + entry("b", 2, 6) + "}", "123456"),
                          file, "tensors 'a' [0, 4] and 'b' [2, 6] overlap");
    CHECK_THROWS_WITH_ALL(load("{" + entry("a", 0, 4) + "," + entry("z", 2, 2) + "}", "1234"),
                          "tensors 'a' [0, 4] and 'z' [2, 2] overlap");
    CHECK_THROWS_WITH_ALL(load("{" + entry("a", 0, 2) + "," + entry("b", 4, 6) + "}", "123456"),
                          file, "bytes [2, 4) of the data buffer belong to no tensor");
    CHECK_THROWS_WITH_ALL(load("{" + entry("a", 2, 4) + "}", "1234"), "bytes [0, 2)");
    CHECK_THROWS_WITH_ALL(load("{" + entry("a", 0, 2) + "}", "1234"), "bytes [2, 4)",
                          "holes are not allowed");
    CHECK_THROWS_WITH_ALL(load("{}", "x"), "bytes [0, 1)");
    // The same ranges in a valid arrangement load fine.
    CHECK(load("{" + entry("b", 2, 6) + "," + entry("a", 0, 2) + "," + entry("e", 6, 6) + "}",
               "123456").tensors.size() == 3);
  }

  SUBCASE("BOOL bytes other than 0 and 1") {
    CHECK_THROWS_WITH_ALL(
        load("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}",
             std::string("\1\0\2", 3)),
        file, "tensor 'm': BOOL element 2 has byte value 2 (expected 0 or 1)");
  }
}

TEST_CASE("save_safetensors checks its arguments and never damages an existing file") {
  TempDir tmp;
  const std::string path = tmp.path("ckpt.safetensors");
  const Tensor w = from_vector<float>({1, 2, 3}, {3});
  save_safetensors(path, {{"w", w}}, {{"step", "1"}});
  const std::string before = read_raw(path);
  const auto unchanged = [&] {
    CHECK(read_raw(path) == before);
    CHECK(tmp.listing() == std::vector<std::string>{"ckpt.safetensors"});
  };

  const std::string where = "save_safetensors: '" + path + "'";
  CHECK_THROWS_WITH_ALL(save_safetensors(path, {{"w", w}, {"u", Tensor()}}), where.c_str(),
                        "tensor 'u' is undefined");
  unchanged();
  CHECK_THROWS_WITH_ALL(save_safetensors(path, {{"__metadata__", w}}),
                        "the tensor name '__metadata__' is reserved");
  unchanged();
  CHECK_THROWS_WITH_ALL(save_safetensors(path, {{"w\xff", w}}), "is not valid UTF-8");
  CHECK_THROWS_WITH_ALL(save_safetensors(path, {{"w", w}}, {{"k", "\xc3"}}),
                        "metadata entry 'k' is not valid UTF-8");
  unchanged();

  // A directory that does not exist: the temporary file cannot even be created.
  const std::string nowhere = tmp.path("no/such/dir/x.safetensors");
  const std::string where_nowhere = "save_safetensors: '" + nowhere + "'";
  CHECK_THROWS_WITH_ALL(save_safetensors(nowhere, {{"w", w}}), where_nowhere.c_str(),
                        "cannot create the temporary file", "No such file or directory");
  unchanged();

  // The target is a directory: the data is written, the rename fails, the temporary is removed.
  fs::create_directory(tmp.dir / "taken");
  write_raw(tmp.path("taken/inside"), "keep");
  const std::string dir_target = tmp.path("taken");
  CHECK_THROWS_WITH_ALL(save_safetensors(dir_target, {{"w", w}}), "cannot rename",
                        ".tmp.", "over it");
  CHECK(fs::is_directory(dir_target));
  CHECK(read_raw(tmp.path("taken/inside")) == "keep");
  CHECK(tmp.listing() == std::vector<std::string>{"ckpt.safetensors", "taken"});

  // A successful save replaces the file.
  save_safetensors(path, {{"w", from_vector<float>({9}, {1})}});
  CHECK(to_vector<float>(load_safetensors(path).tensors.at("w")) == std::vector<float>{9});
  CHECK(tmp.listing() == std::vector<std::string>{"ckpt.safetensors", "taken"});
}
