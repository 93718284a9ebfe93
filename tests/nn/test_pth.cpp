// The .pth importer against files written by torch.save (scripts/fixtures/pth_files.py): both
// containers, pickle protocols 2 and 4, every dtype a state dict holds, shared storages and
// strided views, nested mmdet-style checkpoints; malformed input of every kind is an Error.
#include "core/safetensors.h"
#include "nn/checkpoint_keys.h"
#include "nn/pickle.h"
#include "nn/pth.h"
#include "ops/random.h"
#include "tests/helpers.h"

#include <fstream>
#include <iterator>
#include <random>
#include <set>

using namespace splat;
using namespace splat::nn;
using splat::test::check_equal;

namespace {

const std::string kDir = SPLAT_SOURCE_DIR "/tests/fixtures/pth/";

const SafeTensors& expected() {
  static const SafeTensors e = load_safetensors(SPLAT_SOURCE_DIR "/tests/fixtures/pth_files.safetensors");
  return e;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

const pickle::Value* entry(const pickle::Value& dict, const std::string& key) {
  for (const auto& [k, v] : dict.entries)
    if (k->text == key) return v.get();
  return nullptr;
}

} // namespace

TEST_CASE("every fixture checkpoint loads to the tensors torch saved") {
  std::map<std::string, std::map<std::string, Tensor>> by_file;
  for (const auto& [name, t] : expected().tensors) {
    const auto slash = name.find('/');
    by_file[name.substr(0, slash)][name.substr(slash + 1)] = t;
  }
  REQUIRE(by_file.size() == 10);
  for (const auto& [file, want] : by_file) {
    CAPTURE(file);
    const auto got = load_pth_state_dict(kDir + file);
    REQUIRE(got.size() == want.size());
    for (const auto& [key, t] : want) {
      CAPTURE(key);
      REQUIRE(got.count(key) == 1);
      check_equal(got.at(key), t);
    }
  }
}

TEST_CASE("tensors sharing a storage in the file share it after loading, with their strides") {
  for (const char* file : {"zip_views.pth", "legacy_views.pth"}) {
    CAPTURE(file);
    const auto sd = load_pth_state_dict(kDir + file);
    const Tensor &a = sd.at("a"), &t = sd.at("t"), &s = sd.at("slice"), &row = sd.at("row");
    CHECK(t.storage() == a.storage());
    CHECK(s.storage() == a.storage());
    CHECK(row.storage() == a.storage());
    CHECK(t.strides() == Strides{1, 5});
    CHECK(s.offset() == 7);
    CHECK(row.offset() == 10);
  }
}

TEST_CASE("an mmdet-style checkpoint keeps its meta values and yields its state_dict") {
  for (const char* file : {"zip_mmdet_style.pth", "legacy_mmdet_style.pth"}) {
    CAPTURE(file);
    const auto root = load_pth(kDir + file);
    const pickle::Value* meta = entry(*root, "meta");
    REQUIRE(meta != nullptr);
    CHECK(entry(*meta, "mmdet_version")->text == "2.7.0");
    const pickle::Value* classes = entry(*meta, "CLASSES");
    REQUIRE(classes->is(pickle::Kind::tuple));
    REQUIRE(classes->items.size() == 2);
    CHECK(classes->items[1]->text == "ball");
    CHECK(entry(*meta, "epoch")->integer == 12);
    CHECK(entry(*meta, "negative")->integer == -5);
    CHECK(entry(*meta, "lr")->floating == doctest::Approx(0.02).epsilon(1e-15));
    CHECK(entry(*meta, "flag")->boolean);
    CHECK(entry(*meta, "none")->is(pickle::Kind::none));
    CHECK(entry(*meta, "big")->is(pickle::Kind::big_integer));
    CHECK(entry(*meta, "bytes")->text == std::string("\0\1", 2));
    CHECK(entry(*meta, "list")->items.size() == 3);
    CHECK(entry(*meta, "set")->items.size() == 2);
    CHECK(state_dict_of(root, file).size() == 7);
  }
}

TEST_CASE("unsupported content and malformed files give errors naming the file and the problem") {
  CHECK_THROWS_WITH_AS(load_pth(kDir + "bad_complex.pth"),
                       doctest::Contains("unsupported storage type torch.ComplexFloatStorage"), Error);
  CHECK_THROWS_WITH_AS(load_pth(kDir + "missing.pth"), doctest::Contains("missing.pth: cannot open"), Error);
  const std::string not_torch = "just some text, not a checkpoint";
  const std::span<const uint8_t> text(reinterpret_cast<const uint8_t*>(not_torch.data()), not_torch.size());
  CHECK_THROWS_WITH_AS(load_pth(text, "notes.txt"), doctest::Contains("notes.txt: "), Error);

  auto root = std::make_shared<pickle::Value>();
  root->kind = pickle::Kind::dict;
  auto key = std::make_shared<pickle::Value>(), one = std::make_shared<pickle::Value>();
  key->kind = pickle::Kind::string;
  key->text = "meta";
  one->kind = pickle::Kind::integer;
  root->entries.emplace_back(key, one);
  CHECK_THROWS_WITH_AS(state_dict_of(root, "ckpt.pth"),
                       doctest::Contains("ckpt.pth: no state dict found: the top-level dict has keys {meta}"), Error);
}

TEST_CASE("pickle errors name the opcode and its offset") {
  using namespace std::string_view_literals;  // the byte strings hold NULs
  auto fails = [](std::string_view bytes, const char* message) {
    uint64_t pos = 0;
    const std::span<const uint8_t> b(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    CHECK_THROWS_WITH_AS(pickle::load(b, pos, "x.pkl"), doctest::Contains(message), Error);
  };
  fails("\x80\x02\xff"sv, "x.pkl: pickle opcode 0xff at offset 2: unsupported opcode");
  fails("\x80\x02t."sv, "opcode 0x74 at offset 2: no MARK on the stack");
  fails("\x80\x02X\x10\x00\x00\x00"
        "ab"sv, "length 16 exceeds the 2 remaining bytes");
  fails("\x80\x02h\x03."sv, "memo key 3 was never stored");
  fails("\x80\x02NN."sv, "STOP with 2 values on the stack");
  fails("\x80\x02"sv, "truncated");
  fails("\x80\x09N."sv, "unsupported pickle protocol 9");
}

TEST_CASE("corrupted and truncated checkpoints fail cleanly, never crash") {
  std::mt19937 rng(1234);
  for (const char* file : {"zip_state_dict.pth", "legacy_state_dict.pth", "zip_protocol4.pth"}) {
    CAPTURE(file);
    const std::vector<uint8_t> good = read_file(kDir + file);
    int errors = 0, loaded = 0;
    auto attempt = [&](std::span<const uint8_t> bytes) {
      try {
        (void)state_dict_of(load_pth(bytes, file), file);
        ++loaded;
      } catch (const Error&) {
        ++errors;
      }  // any other exception type, or a crash, fails the test
    };
    // Every truncation loses data the format needs.
    for (size_t n = 0; n < good.size(); ++n) attempt(std::span(good.data(), n));
    CHECK(errors == static_cast<int>(good.size()));
    CHECK(loaded == 0);
    // Random single-byte and multi-byte corruption.
    for (int trial = 0; trial < 1500; ++trial) {
      std::vector<uint8_t> bad = good;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
      attempt(bad);
    }
    CHECK(errors > 1000);
  }
}

TEST_CASE("key maps rename the official ResNeSt and mmdet names and refuse collisions") {
  const Tensor x = ops::randn({1});
  const std::map<std::string, Tensor> resnest = {{"conv1.0.weight", x},  {"conv1.1.running_mean", x},
                                                 {"conv1.6.weight", x},  {"bn1.weight", x},
                                                 {"layer1.0.bn1.weight", x}, {"fc.bias", x}};
  std::set<std::string> keys;
  for (const auto& [k, t] : map_keys(resnest, parse_key_map("resnest"))) keys.insert(k);
  CHECK(keys == std::set<std::string>{"stem.0.weight", "stem.1.running_mean", "stem.6.weight",
                                      "stem.7.weight", "layer1.0.bn1.weight", "fc.bias"});
  const auto mm = map_keys({{"module.backbone.stem.0.weight", x}, {"neck.fpn_convs.0.conv.bias", x}},
                           KeyMap::mmdet);
  CHECK(mm.count("backbone.stem.0.weight") == 1);
  CHECK(mm.count("neck.fpn_convs.0.conv.bias") == 1);
  CHECK_THROWS_WITH_AS(map_keys({{"module.fc.bias", x}, {"fc.bias", x}}, KeyMap::mmdet),
                       doctest::Contains("both map to 'fc.bias'"), Error);
  CHECK_THROWS_WITH_AS(parse_key_map("detectron"),
                       doctest::Contains("unknown key map 'detectron' (expected none, resnest or mmdet)"), Error);
}
