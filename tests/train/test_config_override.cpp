// `--set key.path=value` overrides (train/config/config_file.h): replacing, inserting, bare words,
// and the errors, which name the override.
#include "tests/helpers.h"
#include "train/config/config_file.h"

#include <array>
#include <string>
#include <vector>

using namespace splat;
using namespace splat::train::config;
using splat::test::error_of;

namespace {

constexpr const char* kConfig = R"(seed = 1
[data]
workers = 2
flip_prob = 0.5
mode = "range"
scales = [[1333, 640], [1333, 800]]
[data.dataset]
root = "data/coco"
)";

Node with(std::vector<std::string> overrides) { return parse(kConfig, "cfg.toml", overrides); }

} // namespace

TEST_CASE("config overrides: replace and insert values at dotted paths") {
  const Node root =
      with({"data.workers=4", "data.flip_prob = 0", "seed=9", "data.scales=[[1000, 600]]",
            "data.mode=value", "data.dataset.root=/mnt/coco-2017", "data.prefetch=8",
            "model.backbone.depth=101", "data.dataset={ kind = \"coco\" }", "data.workers=5"});
  const Node data = root.table("data");
  CHECK(data.require<int64_t>("workers") == 5); // later overrides win
  CHECK(data.require<double>("flip_prob") == 0.0);
  CHECK(root.require<int64_t>("seed") == 9);
  CHECK(data.require<std::vector<std::array<int64_t, 2>>>("scales") ==
        std::vector<std::array<int64_t, 2>>{{1000, 600}});
  CHECK(data.require<std::string>("mode") == "value");
  const Node dataset = data.table("dataset");
  CHECK(dataset.require<std::string>("root") == "/mnt/coco-2017");
  CHECK(dataset.require<std::string>("kind") == "coco"); // inline tables merge
  CHECK(data.require<int64_t>("prefetch") == 8);
  CHECK(root.table("model").table("backbone").require<int64_t>("depth") == 101);
  // What an override set is located at the override.
  CHECK(data.child("workers").where() == "--set data.workers=5");
  CHECK(data.child("scales").where() == "--set data.scales=[[1000, 600]]");
  CHECK(data.child("mode").where() == "--set data.mode=value");
  CHECK(error_of([&] { root.table("model").table("backbone").require<int64_t>("radix"); }) ==
        "--set model.backbone.depth=101: model.backbone.radix: required key is missing");
  // Untouched keys keep their place in the file.
  CHECK(data.where() == "cfg.toml:2:1");
}

TEST_CASE("config overrides: errors name the override") {
  CHECK(error_of([] { with({"data.workers=four"}).table("data").require<int64_t>("workers"); }) ==
        "--set data.workers=four: data.workers: a string cannot replace the integer at "
        "cfg.toml:3:11");
  CHECK(error_of([] { with({"data.flip_prob=\"x\""}); }) ==
        "--set data.flip_prob=\"x\": data.flip_prob: a string cannot replace the float at "
        "cfg.toml:4:13");
  CHECK(error_of([] { with({"data.scales=1333"}); }) ==
        "--set data.scales=1333: data.scales: an integer cannot replace the array at "
        "cfg.toml:6:10");
  CHECK(error_of([] { with({"data=3"}); }) ==
        "--set data=3: data: an integer cannot replace the table at cfg.toml:2:1");
  CHECK(error_of([] { with({"data.workers.count=3"}); }) ==
        "--set data.workers.count=3: data.workers: a table cannot replace the integer at "
        "cfg.toml:3:11");
  CHECK(error_of([] { with({"data.workers"}); }) ==
        "--set data.workers: expected KEY=VALUE (e.g. data.workers=4)");
  CHECK(error_of([] { with({"=4"}); }) == "--set =4: expected KEY=VALUE (e.g. data.workers=4)");
  CHECK(error_of([] { with({"data.workers="}); }) ==
        "--set data.workers=: expected KEY=VALUE (e.g. data.workers=4)");
  // Malformed TOML values, and keys that TOML cannot spell, report toml++'s description.
  CHECK(error_of([] { with({"data.scales=[[1, 2]"}); }).starts_with("--set data.scales=[[1, 2]: "));
  CHECK(error_of([] { with({"stages[0].depth=3"}); }).starts_with("--set stages[0].depth=3: "));
  // An unknown key an override inserts is reported at the override.
  const Node root = with({"data.wokers=3"});
  root.require<int64_t>("seed");
  const Node data = root.table("data");
  for (const char* k : {"workers", "flip_prob", "mode", "scales"}) (void)data.child(k);
  data.table("dataset").require<std::string>("root");
  CHECK(error_of([&] { root.check_all_used(); }) ==
        "--set data.wokers=3: data.wokers: unknown key (data takes: dataset, flip_prob, mode, "
        "scales, workers)");
}
