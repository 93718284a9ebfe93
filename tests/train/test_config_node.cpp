// The typed config view (train/config/config_node.h) over TOML text: values of every supported
// type, and each kind of error with the file, line, column and key path it must name.
#include "tests/helpers.h"
#include "train/config/config_file.h"

#include <array>
#include <string>
#include <vector>

using namespace splat;
using namespace splat::train::config;
using splat::test::error_of;

namespace {

enum class Mode { range, value };
constexpr EnumName<Mode> kModes[] = {{"range", Mode::range}, {"value", Mode::value}};

} // namespace

TEST_CASE("config Node: typed values, tuples, arrays of tables and enums") {
  const Node root = parse(R"(
name = "faster"
[data]
workers = 2
flip_prob = 0.5
size = 32            # an integer where a number is wanted
grouped = true
mean = [123.68, 116.779, 103.939]
scales = [[1333, 640], [1333, 800]]
tags = ["a", "b"]
mode = "value"
seed = 7
[[stages]]
depth = 3
[[stages]]
depth = 4
)",
                          "cfg.toml");
  CHECK(root.path().empty());
  CHECK(root.require<std::string>("name") == "faster");
  const Node data = root.table("data");
  CHECK(data.path() == "data");
  CHECK(data.where() == "cfg.toml:3:1");
  CHECK(data.require<int64_t>("workers") == 2);
  CHECK(data.require<int>("workers") == 2);
  CHECK(data.require<double>("flip_prob") == 0.5);
  CHECK(data.require<double>("size") == 32.0);
  CHECK(data.require<bool>("grouped"));
  CHECK(data.require<std::array<double, 3>>("mean") == std::array{123.68, 116.779, 103.939});
  const auto scales = data.require<std::vector<std::array<int64_t, 2>>>("scales");
  CHECK(scales == std::vector<std::array<int64_t, 2>>{{1333, 640}, {1333, 800}});
  CHECK(data.require<std::vector<std::vector<int64_t>>>("scales")[1][1] == 800);
  CHECK(data.require<std::vector<std::string>>("tags") == std::vector<std::string>{"a", "b"});
  CHECK(data.require_enum<Mode>("mode", kModes) == Mode::value);
  CHECK(data.require<uint64_t>("seed") == 7);
  // Fallbacks only for absent keys.
  CHECK(data.get<int64_t>("prefetch", 4) == 4);
  CHECK(data.get<double>("flip_prob", 0.1) == 0.5);
  CHECK(data.get_enum<Mode>("other_mode", Mode::range, kModes) == Mode::range);
  CHECK(data.has("workers"));
  CHECK_FALSE(data.has("prefetch"));
  CHECK_FALSE(data.find("prefetch").has_value());

  const Node stages = root.array("stages");
  REQUIRE(stages.size() == 2);
  CHECK(stages.at(1).path() == "stages[1]");
  CHECK(stages.at(1).where() == "cfg.toml:15:1");
  int64_t depth = 0;
  for (const Node& s : stages.elements()) depth += s.require<int64_t>("depth");
  CHECK(depth == 7);
  CHECK(data.child("scales").at(1).at(0).path() == "data.scales[1][0]");
  root.check_all_used();
}

TEST_CASE("config Node: wrong types name the file, line, column and key path") {
  const Node root = parse(R"([model.rpn.anchor]
ratios = "0.5, 1.0"
scales = [8, "16"]
strides = [4, 8.5]
size = [1333]
count = 2.0
flag = 1
name = 3
big = 10000000000
neg = -1
nested = [[1, 2], [3]]
)",
                          "configs/x.toml");
  const Node a = root.table("model").table("rpn").table("anchor");
  CHECK(error_of([&] { a.require<std::vector<double>>("ratios"); }) ==
        "configs/x.toml:2:10: model.rpn.anchor.ratios: expected an array of numbers, got string");
  CHECK(error_of([&] { a.require<std::vector<double>>("scales"); }) ==
        "configs/x.toml:3:14: model.rpn.anchor.scales[1]: expected a number, got string");
  CHECK(error_of([&] { a.require<std::vector<int64_t>>("strides"); }) ==
        "configs/x.toml:4:15: model.rpn.anchor.strides[1]: expected an integer, got float");
  CHECK(error_of([&] { a.require<std::array<int64_t, 2>>("size"); }) ==
        "configs/x.toml:5:8: model.rpn.anchor.size: expected an array of 2 integers, got 1 "
        "elements");
  CHECK(error_of([&] { a.require<int64_t>("count"); }) ==
        "configs/x.toml:6:9: model.rpn.anchor.count: expected an integer, got float");
  CHECK(error_of([&] { a.require<bool>("flag"); }) ==
        "configs/x.toml:7:8: model.rpn.anchor.flag: expected a boolean, got integer");
  CHECK(error_of([&] { a.require<std::string>("name"); }) ==
        "configs/x.toml:8:8: model.rpn.anchor.name: expected a string, got integer");
  CHECK(error_of([&] { a.require<int>("big"); }) ==
        "configs/x.toml:9:7: model.rpn.anchor.big: expected an integer in [-2147483648, "
        "2147483647], got 10000000000");
  CHECK(error_of([&] { a.require<uint64_t>("neg"); }) ==
        "configs/x.toml:10:7: model.rpn.anchor.neg: expected an integer in [0, "
        "18446744073709551615], got -1");
  CHECK(error_of([&] { a.require<std::vector<std::array<int64_t, 2>>>("nested"); }) ==
        "configs/x.toml:11:19: model.rpn.anchor.nested[1]: expected an array of 2 integers, got 1 "
        "elements");
  CHECK(error_of([&] { a.table("ratios"); }) ==
        "configs/x.toml:2:10: model.rpn.anchor.ratios: expected a table, got string");
  CHECK(error_of([&] { a.array("flag"); }) ==
        "configs/x.toml:7:8: model.rpn.anchor.flag: expected an array, got integer");
  CHECK(error_of([&] { root.table("model").require<int64_t>("rpn"); }) ==
        "configs/x.toml:1:1: model.rpn: expected an integer, got table");
  // A key that is present with a wrong type is an error, never the fallback.
  CHECK(error_of([&] { a.get<double>("ratios", 1.0); }) ==
        "configs/x.toml:2:10: model.rpn.anchor.ratios: expected a number, got string");
}

TEST_CASE("config Node: a missing required key is reported at the enclosing table") {
  const Node root = parse("seed = 1\n\n[data.train]\nmode = \"range\"\n", "cfg.toml");
  CHECK(error_of([&] { root.table("data").table("train").require<double>("flip_prob"); }) ==
        "cfg.toml:3:1: data.train.flip_prob: required key is missing");
  CHECK(error_of([&] { root.table("data").table("test"); }) ==
        "cfg.toml:3:1: data.test: required key is missing");
  CHECK(error_of([&] { root.table("model"); }) == "cfg.toml:1:1: model: required key is missing");
  CHECK(error_of([&] { root.array("stages").size(); }) ==
        "cfg.toml:1:1: stages: required key is missing");
}

TEST_CASE("config Node: enums list the allowed values") {
  const Node t = parse("mode = \"ranged\"\nother = 3\n", "cfg.toml");
  CHECK(error_of([&] { t.require_enum<Mode>("mode", kModes); }) ==
        "cfg.toml:1:8: mode: expected one of \"range\", \"value\", got \"ranged\"");
  CHECK(error_of([&] { t.require_enum<Mode>("other", kModes); }) ==
        "cfg.toml:2:9: other: expected one of \"range\", \"value\", got integer");
  CHECK(error_of([&] { t.get_enum<Mode>("other", Mode::range, kModes); }) ==
        "cfg.toml:2:9: other: expected one of \"range\", \"value\", got integer");
}

TEST_CASE("config Node: every unknown key is reported at once, with the keys the table takes") {
  const Node root = parse(R"(seed = 1
[data]
workers = 2
wokers = 3
[data.train]
flip_prob = 0.5
flip = 0.5
[data.extra]
a = 1
b = 2
[[stages]]
depth = 3
[[stages]]
depth = 4
width = 5
[optimizer]
lr = 0.02
)",
                          "cfg.toml");
  root.require<int64_t>("seed");
  const Node data = root.table("data");
  data.require<int64_t>("workers");
  data.get<int64_t>("prefetch", 4);
  data.table("train").require<double>("flip_prob");
  for (const Node& s : root.array("stages").elements()) s.require<int64_t>("depth");
  CHECK(error_of([&] { root.check_all_used(); }) ==
        "cfg.toml:4:1: data.wokers: unknown key (data takes: prefetch, train, workers)\n"
        "cfg.toml:7:1: data.train.flip: unknown key (data.train takes: flip_prob)\n"
        "cfg.toml:8:7: data.extra: unknown key (data takes: prefetch, train, workers)\n"
        "cfg.toml:15:1: stages[1].width: unknown key (stages[1] takes: depth)\n"
        "cfg.toml:16:2: optimizer: unknown key (the top level takes: data, seed, stages)");
  // A subtree can be checked on its own.
  CHECK(error_of([&] { data.table("train").check_all_used(); }) ==
        "cfg.toml:7:1: data.train.flip: unknown key (data.train takes: flip_prob)");
  // Keys that need quoting are quoted in paths.
  const Node q = parse("[\"a.b\"]\nx = 1\n", "q.toml");
  CHECK(error_of([&] { q.check_all_used(); }) == "q.toml:1:2: \"a.b\": unknown key");
  CHECK(error_of([&] { q.table("a.b").require<std::string>("x"); }) ==
        "q.toml:2:5: \"a.b\".x: expected a string, got integer");
}
