// Reading config files (train/config/config_file.h): syntax errors, missing files, and `_base`
// files merged under the including file, with errors naming the file each key came from.
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/config/config_file.h"

#include <fstream>
#include <string>

using namespace splat;
using namespace splat::train::config;
using splat::test::error_of;

namespace {

std::string write(const test::TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path(name);
  std::ofstream(path) << text;
  return path;
}

} // namespace

TEST_CASE("config files: syntax errors and unreadable files") {
  // toml++'s own description, after file:line:col.
  CHECK(error_of([] { parse("a = 1\nb = [1,\nc = 2\n", "configs/bad.toml"); }) ==
        "configs/bad.toml:3:1: Error while parsing value: could not determine value type");
  CHECK(error_of([] { parse("a = 1\na = 2\n", "dup.toml"); }) ==
        "dup.toml:2:5: Error while parsing key-value pair: cannot redefine existing integer 'a'");
  const test::TempDir dir;
  CHECK(error_of([&] { load(dir.path("nope.toml")); }) ==
        dir.path("nope.toml") + ": cannot read config file: No such file or directory");
  CHECK(error_of([&] { load(dir.path()); }) ==
        dir.path() + ": cannot read config file: is a directory");
  const std::string ok = write(dir, "ok.toml", "[data]\nworkers = 2\n");
  const Node root = load(ok);
  CHECK(root.table("data").where() == ok + ":1:1");
  CHECK(root.table("data").require<int>("workers") == 2);
}

TEST_CASE("config files: _base files are merged under the including file") {
  const test::TempDir dir;
  write(dir, "common.toml", R"(seed = 1
[data]
workers = 2
scales = [[1333, 640], [1333, 800]]
[data.test]
scale = [1333, 800]
)");
  write(dir, "faster.toml", R"(_base = "common.toml"
[model]
depth = 50
stem = 64
)");
  const std::string child = write(dir, "faster_101.toml", R"(_base = ["faster.toml", "extra.toml"]
[model]
depth = 101
[data]
scales = [[1333, 800]]
)");
  write(dir, "extra.toml", "[model]\nstem = 128\n[data]\nworkers = 4\n");
  const Node root = load(child);
  const Node model = root.table("model");
  CHECK(model.require<int64_t>("depth") == 101); // the including file wins
  CHECK(model.require<int64_t>("stem") == 128);  // a later base wins over an earlier one
  const Node data = root.table("data");
  CHECK(data.require<int64_t>("workers") == 4);
  // Arrays are replaced whole.
  CHECK(data.require<std::vector<std::array<int64_t, 2>>>("scales") ==
        std::vector<std::array<int64_t, 2>>{{1333, 800}});
  CHECK(data.table("test").require<std::array<int64_t, 2>>("scale")[1] == 800);
  CHECK(root.require<int64_t>("seed") == 1);
  // Errors name the file the key was written in.
  CHECK(error_of([&] { root.require<std::string>("seed"); }) ==
        dir.path("common.toml") + ":1:8: seed: expected a string, got integer");
  CHECK(error_of([&] { data.table("test").require<int64_t>("batch_size"); }) ==
        dir.path("common.toml") + ":5:1: data.test.batch_size: required key is missing");
  CHECK(error_of([&] { root.check_all_used(); }).empty()); // `_base` itself is consumed
}

TEST_CASE("config files: a table with _delete = true replaces its base's table whole") {
  const test::TempDir dir;
  write(dir, "sgd.toml", R"([schedule]
optimizer = "SGD"
momentum = 0.9
lr = 0.02
[schedule.warmup]
iters = 500
[data]
workers = 2
)");
  const std::string adamw = write(dir, "adamw.toml", R"(_base = "sgd.toml"
[schedule]
_delete = true
optimizer = "AdamW"
lr = 0.001
)");
  const Node root = load(adamw);
  const Node schedule = root.table("schedule");
  CHECK(schedule.require<std::string>("optimizer") == "AdamW");
  CHECK(schedule.require<double>("lr") == 0.001);
  // The base's other keys and subtables are gone, the flag itself consumed; other tables merge.
  CHECK(error_of([&] { schedule.require<double>("momentum"); }).find("required key is missing") !=
        std::string::npos);
  CHECK(error_of([&] { schedule.table("warmup"); }).find("warmup") != std::string::npos);
  CHECK(root.table("data").require<int64_t>("workers") == 2);
  CHECK(error_of([&] { root.check_all_used(); }).empty());
  // Anything but true is an error at the flag.
  const std::string bad = write(dir, "bad.toml", "_base = \"sgd.toml\"\n[schedule]\n_delete = 1\n");
  CHECK(error_of([&] { load(bad); }) == bad + ":3:11: _delete: expected true (replace the base's table), got integer");
}

TEST_CASE("config files: unknown keys and conflicts in base files name those files") {
  const test::TempDir dir;
  write(dir, "base.toml", "[data]\nworkers = 2\nwokers = 3\nmean = [1.0, 2.0, 3.0]\n");
  const std::string child =
      write(dir, "child.toml", "_base = \"base.toml\"\n[data]\nworkers = 4\n");
  const Node root = load(child);
  root.table("data").require<int64_t>("workers");
  root.table("data").require<std::array<double, 3>>("mean");
  CHECK(error_of([&] { root.check_all_used(); }) ==
        dir.path("base.toml") + ":3:1: data.wokers: unknown key (data takes: mean, workers)");
  // Reported file by file: the including file first, then its bases in the order listed.
  write(dir, "z_base.toml", "zz = 1\n");
  const std::string two = write(dir, "two.toml",
                                "_base = [\"z_base.toml\", \"base.toml\"]\n[data]\nworkers = 4\n"
                                "unknown = 1\n");
  const Node r2 = load(two);
  r2.table("data").require<int64_t>("workers");
  r2.table("data").require<std::array<double, 3>>("mean");
  CHECK(error_of([&] { r2.check_all_used(); }) ==
        two + ":4:1: data.unknown: unknown key (data takes: mean, workers)\n" +
            dir.path("z_base.toml") + ":1:1: zz: unknown key (the top level takes: data)\n" +
            dir.path("base.toml") + ":3:1: data.wokers: unknown key (data takes: mean, workers)");

  const std::string bad =
      write(dir, "bad.toml", "_base = \"base.toml\"\n[data]\nmean = \"imagenet\"\n");
  CHECK(error_of([&] { load(bad); }) ==
        dir.path("bad.toml") + ":3:8: data.mean: a string cannot replace the array at " +
            dir.path("base.toml") + ":4:8");
  // A number may replace a number.
  const std::string num = write(dir, "num.toml", "_base = \"base.toml\"\n[data]\nworkers = 4.5\n");
  CHECK(load(num).table("data").require<double>("workers") == 4.5);
}

TEST_CASE("config files: bad _base values, missing and cyclic bases") {
  const test::TempDir dir;
  const std::string missing = write(dir, "missing.toml", "_base = \"gone.toml\"\n");
  CHECK(error_of([&] { load(missing); }) == missing + ":1:9: _base: cannot read " +
                                                dir.path("gone.toml") +
                                                ": No such file or directory");
  const std::string wrong = write(dir, "wrong.toml", "_base = 3\n");
  CHECK(error_of([&] { load(wrong); }) ==
        wrong + ":1:9: _base: expected a file name or an array of file names, got integer");
  const std::string wrong_el = write(dir, "wrong_el.toml", "_base = [\"a.toml\", 3]\n");
  CHECK(error_of([&] { load(wrong_el); }) ==
        wrong_el + ":1:9: _base: expected a file name or an array of file names, got array");
  write(dir, "a.toml", "_base = \"b.toml\"\n");
  write(dir, "b.toml", "x = 1\n_base = \"a.toml\"\n");
  CHECK(error_of([&] { load(dir.path("a.toml")); }) ==
        dir.path("b.toml") +
            ":2:9: _base: \"a.toml\" includes itself (a.toml -> b.toml -> a.toml)");
  const std::string syntax = write(dir, "syntax.toml", "_base = \"broken.toml\"\n");
  write(dir, "broken.toml", "x = \n");
  CHECK(error_of([&] { load(syntax); }).starts_with(dir.path("broken.toml") + ":1:"));
}
