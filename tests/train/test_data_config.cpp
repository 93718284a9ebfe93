// The [data] binding (train/config/data_config.h): the spec's Faster S-50 row and a small shapes
// config build the data layer's structs; missing, mistyped and out-of-range values are errors at
// their place in the file.
#include "tests/helpers.h"
#include "train/config/config_file.h"
#include "train/config/data_config.h"

#include <string>
#include <vector>

using namespace splat;
using namespace splat::train::config;
using splat::test::error_of;

namespace {

// Spec section 4, Faster R-CNN S-50 ("mstrain-range", 2 images per GPU, COCO 2017).
constexpr const char* kFasterS50 = R"(
[data]
workers = 2

[data.dataset]
kind = "coco"
root = "data/coco"
train_annotations = "annotations/instances_train2017.json"
train_images = "train2017"
val_annotations = "annotations/instances_val2017.json"
val_images = "val2017"

[data.normalize]
mean = [123.68, 116.779, 103.939]
std = [58.393, 57.12, 57.375]

[data.train]
batch_size = 2
batching = "aspect_ratio_groups"
with_masks = false
min_image_size = 32
scales = [[1333, 640], [1333, 800]]
mode = "range"
flip_prob = 0.5
size_divisor = 32

[data.test]
batch_size = 1
scale = [1333, 800]
size_divisor = 32
)";

// A small synthetic config, for the demo and the training tests.
constexpr const char* kShapes = R"(
[data]
workers = 0
prefetch_batches = 2
on_corrupt = "skip"
seed = 5

[data.dataset]
kind = "shapes"
dir = "work/shapes"
train = 32
val = 8
min_size = 64
max_size = 128
categories = 3
seed = 11

[data.normalize]
mean = [127, 127, 127]
std = [64, 64, 64]

[data.train]
batch_size = 4
batching = "shuffled"
with_masks = true
min_image_size = 16
scales = [[160, 96], [160, 112], [128, 160]]
mode = "value"
flip_prob = 0.0
size_divisor = 16

[data.test]
batch_size = 2
scale = [160, 128]
size_divisor = 16
)";

DataConfig read(const std::string& text, std::vector<std::string> overrides = {}) {
  const Node root = parse(text, "cfg.toml", overrides);
  DataConfig c = read_data_config(root.table("data"));
  root.check_all_used();
  return c;
}

bool operator==(const data::Scale& a, const data::Scale& b) {
  return a.long_edge == b.long_edge && a.short_edge == b.short_edge;
}

} // namespace

TEST_CASE("data config: the Faster S-50 row builds the spec's data pipeline") {
  const DataConfig c = read(kFasterS50);
  CHECK(c.dataset.train.annotations == "data/coco/annotations/instances_train2017.json");
  CHECK(c.dataset.train.images == "data/coco/train2017");
  CHECK(c.dataset.val.annotations == "data/coco/annotations/instances_val2017.json");
  CHECK(c.dataset.val.images == "data/coco/val2017");
  CHECK_FALSE(c.dataset.shapes.has_value());

  const data::TrainPipelineConfig& p = c.train.pipeline;
  REQUIRE(p.scales.size() == 2);
  CHECK(p.scales[0] == data::Scale{1333, 640});
  CHECK(p.scales[1] == data::Scale{1333, 800});
  CHECK(p.mode == data::MultiscaleMode::range);
  CHECK(p.flip_prob == 0.5);
  CHECK(p.size_divisor == 32);
  CHECK(p.norm.mean == data::kResNeStNormalization.mean);
  CHECK(p.norm.std == data::kResNeStNormalization.std);
  CHECK(c.train.batch_size == 2);
  CHECK(c.train.batching == Batching::aspect_ratio_groups);
  CHECK_FALSE(c.train.with_masks);
  CHECK_FALSE(c.train.poly2mask); // mmdet's ResNeSt mask configs: polygons
  CHECK(c.train.mask_format() == data::MaskFormat::none);
  CHECK(c.train.min_image_size == 32);

  CHECK(c.test.pipeline.scale == data::Scale{1333, 800});
  CHECK(c.test.pipeline.norm.mean == data::kResNeStNormalization.mean);
  CHECK(c.test.pipeline.size_divisor == 32);
  CHECK(c.test.batch_size == 1);

  CHECK(c.workers == 2);
  CHECK(c.prefetch_batches == 4); // not set by the spec: the loader's default
  CHECK(c.on_corrupt == data::OnCorrupt::fail);
  CHECK(c.seed == 0);
  const data::LoaderOptions lo = c.train_loader(Device::cpu());
  CHECK(lo.workers == 2);
  CHECK(lo.prefetch_batches == 4);
  CHECK(lo.size_divisor == 32);
  CHECK(lo.device == Device::cpu());

  // The structs build the pipelines.
  CHECK(data::TrainPipeline(p).config().scales.size() == 2);
  CHECK(data::TestPipeline(c.test.pipeline).config().scale.short_edge == 800);
  // The Mask and Cascade Mask rows ("mstrain"): six short edges, one chosen per image, masks.
  const DataConfig m = read(kFasterS50, {"data.train.with_masks=true", "data.train.mode=value",
                                         "data.train.scales=[[1333, 640], [1333, 672], [1333, "
                                         "704], [1333, 736], [1333, 768], [1333, 800]]"});
  CHECK(m.train.with_masks);
  CHECK(m.train.mask_format() == data::MaskFormat::polygons);
  CHECK(read(kFasterS50, {"data.train.with_masks=true", "data.train.poly2mask=true"})
            .train.mask_format() == data::MaskFormat::bitmaps);
  CHECK(m.train.pipeline.mode == data::MultiscaleMode::value);
  REQUIRE(m.train.pipeline.scales.size() == 6);
  CHECK(m.train.pipeline.scales[3] == data::Scale{1333, 736});
}

TEST_CASE("data config: a shapes dataset, optional keys and the test loader") {
  const DataConfig c = read(kShapes);
  REQUIRE(c.dataset.shapes.has_value());
  const ShapesDataset& s = *c.dataset.shapes;
  CHECK(s.dir == "work/shapes");
  CHECK(s.options.train == 32);
  CHECK(s.options.val == 8);
  CHECK(s.options.min_size == 64);
  CHECK(s.options.max_size == 128);
  CHECK(s.options.categories == 3);
  CHECK(s.options.kinds.empty());
  CHECK(s.options.object_sizes == data::ShapesOptions::Sizes::log_uniform);
  CHECK(read(kShapes, {"data.dataset.object_sizes=uniform"}).dataset.shapes->options.object_sizes ==
        data::ShapesOptions::Sizes::uniform);
  CHECK(s.options.colors == data::ShapesOptions::Colors::random);
  CHECK(read(kShapes, {"data.dataset.colors=by_kind"}).dataset.shapes->options.colors ==
        data::ShapesOptions::Colors::by_kind);
  CHECK(s.options.seed == 11);
  // Named kinds without a count: as many categories as kinds.
  std::string named = kShapes;
  named.replace(named.find("categories = 3"), 14, R"(kinds = ["star", "cross", "ellipse", "arrow"])");
  const data::ShapesOptions k = read(named).dataset.shapes->options;
  CHECK(k.categories == 4);
  CHECK(k.kinds == std::vector<std::string>{"star", "cross", "ellipse", "arrow"});
  CHECK(s.options.jpeg_quality == data::ShapesOptions{}.jpeg_quality);
  CHECK(c.dataset.train.annotations == "work/shapes/annotations/instances_train.json");
  CHECK(c.dataset.train.images == "work/shapes/train");
  CHECK(c.dataset.val.annotations == "work/shapes/annotations/instances_val.json");
  CHECK(c.dataset.val.images == "work/shapes/val");

  const data::TrainPipelineConfig& p = c.train.pipeline;
  REQUIRE(p.scales.size() == 3);
  CHECK(p.scales[2] == data::Scale{160, 128}); // tuples are unordered, as in mmdet
  CHECK(p.mode == data::MultiscaleMode::value);
  CHECK(p.flip_prob == 0.0);
  CHECK(p.norm.mean == std::array{127.0, 127.0, 127.0});
  CHECK(c.train.batching == Batching::shuffled);
  CHECK(c.train.with_masks);
  CHECK(c.test.batch_size == 2);
  CHECK(c.workers == 0);
  CHECK(c.prefetch_batches == 2);
  CHECK(c.on_corrupt == data::OnCorrupt::skip_with_warning);
  CHECK(c.seed == 5);
  const data::LoaderOptions lo = c.test_loader(Device::cpu());
  CHECK(lo.size_divisor == 16);
  CHECK(lo.prefetch_batches == 2);
  CHECK(lo.on_corrupt == data::OnCorrupt::skip_with_warning);

  // Overrides reach the binding; a COCO root is optional.
  const DataConfig o = read(kShapes, {"data.train.batch_size=1", "data.dataset.dir=/tmp/s"});
  CHECK(o.train.batch_size == 1);
  CHECK(o.dataset.train.images == "/tmp/s/train");
}

TEST_CASE("data config: every value the spec sets is required") {
  // Remove one line of the Faster config at a time: each must be reported missing, at its table.
  const std::string full = kFasterS50;
  const std::vector<std::pair<std::string, std::string>> required = {
      {"workers = 2\n", "cfg.toml:2:1: data.workers: required key is missing"},
      {"kind = \"coco\"\n", "cfg.toml:5:1: data.dataset.kind: required key is missing"},
      {"val_images = \"val2017\"\n",
       "cfg.toml:5:1: data.dataset.val_images: required key is missing"},
      {"mean = [123.68, 116.779, 103.939]\n",
       "cfg.toml:13:1: data.normalize.mean: required key is missing"},
      {"batch_size = 2\n", "cfg.toml:17:1: data.train.batch_size: required key is missing"},
      {"batching = \"aspect_ratio_groups\"\n",
       "cfg.toml:17:1: data.train.batching: required key is missing"},
      {"with_masks = false\n", "cfg.toml:17:1: data.train.with_masks: required key is missing"},
      {"min_image_size = 32\n",
       "cfg.toml:17:1: data.train.min_image_size: required key is missing"},
      {"scales = [[1333, 640], [1333, 800]]\n",
       "cfg.toml:17:1: data.train.scales: required key is missing"},
      {"mode = \"range\"\n", "cfg.toml:17:1: data.train.mode: required key is missing"},
      {"flip_prob = 0.5\n", "cfg.toml:17:1: data.train.flip_prob: required key is missing"},
      {"batch_size = 1\n", "cfg.toml:27:1: data.test.batch_size: required key is missing"},
      {"scale = [1333, 800]\n", "cfg.toml:27:1: data.test.scale: required key is missing"},
  };
  for (const auto& [line, message] : required) {
    CAPTURE(line);
    std::string text = full;
    const size_t at = text.find(line);
    REQUIRE(at != std::string::npos);
    text.erase(at, line.size());
    CHECK(error_of([&] { read(text); }) == message);
  }
  // size_divisor appears in both pipelines.
  std::string text = full;
  text.erase(text.rfind("size_divisor = 32\n"), 18);
  CHECK(error_of([&] { read(text); }) ==
        "cfg.toml:27:1: data.test.size_divisor: required key is missing");
  text = full;
  text.erase(text.find("[data.test]"));
  CHECK(error_of([&] { read(text); }) == "cfg.toml:2:1: data.test: required key is missing");
}

TEST_CASE("data config: wrong types, bad enums, bad values and unknown keys") {
  const auto error = [](std::vector<std::string> overrides) {
    return error_of([&] { read(kFasterS50, overrides); });
  };
  CHECK(error({"data.train.mode=ranged"}) ==
        "--set data.train.mode=ranged: data.train.mode: expected one of \"range\", \"value\", got "
        "\"ranged\"");
  CHECK(error({"data.train.batching=grouped"}) ==
        "--set data.train.batching=grouped: data.train.batching: expected one of "
        "\"aspect_ratio_groups\", \"shuffled\", got \"grouped\"");
  CHECK(error({"data.dataset.kind=voc"}) ==
        "--set data.dataset.kind=voc: data.dataset.kind: expected one of \"coco\", \"shapes\", got "
        "\"voc\"");
  CHECK(error({"data.on_corrupt=ignore"}) ==
        "--set data.on_corrupt=ignore: data.on_corrupt: expected one of \"fail\", \"skip\", got "
        "\"ignore\"");
  CHECK(error({"data.train.scales=[[1333, 640], [1333, \"800\"]]"}) ==
        "--set data.train.scales=[[1333, 640], [1333, \"800\"]]: data.train.scales[1][1]: "
        "expected an integer, got string");
  CHECK(error({"data.train.scales=[[1333, 640, 1], [1333, 800]]"}) ==
        "--set data.train.scales=[[1333, 640, 1], [1333, 800]]: data.train.scales[0]: expected "
        "an array of 2 integers, got 3 elements");
  CHECK(error({"data.train.scales=[]"}) ==
        "--set data.train.scales=[]: data.train.scales: expected at least one [long, short] scale");
  CHECK(error({"data.train.scales=[[1333, 0]]"}) ==
        "--set data.train.scales=[[1333, 0]]: data.train.scales[0]: scale: edges must be "
        "positive, got (1333, 0)");
  CHECK(error({"data.test.scale=[1333, 800, 1]"}) ==
        "--set data.test.scale=[1333, 800, 1]: data.test.scale: expected an array of 2 integers, "
        "got 3 elements");
  CHECK(error({"data.train.batch_size=0"}) ==
        "--set data.train.batch_size=0: data.train.batch_size: must be at least 1, got 0");
  CHECK(error({"data.workers=-1"}) ==
        "--set data.workers=-1: data.workers: must be at least 0, got -1");
  CHECK(error({"data.normalize.std=[58.0, 0, 57.0]"}) ==
        "--set data.normalize.std=[58.0, 0, 57.0]: data.normalize.std[1]: must be positive, got 0");
  CHECK(error({"data.train.size_divisor=0"}) ==
        "--set data.train.size_divisor=0: data.train.size_divisor: must be at least 1, got 0");
  // Checks that live in the data layer are located at the table.
  CHECK(error({"data.train.flip_prob=1.5"}) ==
        "cfg.toml:17:1: data.train: TrainPipeline: flip_prob must be in [0, 1], got 1.5");
  CHECK(error({"data.train.scales=[[1, 2], [3, 4], [5, 6]]"}) ==
        "cfg.toml:17:1: data.train: TrainPipeline: multiscale mode range needs 1 or 2 scales, got "
        "3");
  CHECK(error_of([] { read(kShapes, {"data.dataset.kinds=[\"star\", \"oval\", \"cross\"]"}); }).find(
            "data.dataset: make-shapes: unknown shape kind 'oval'") != std::string::npos);
  CHECK(error_of([] { read(kShapes, {"data.dataset.categories=2"}); }) ==
        "cfg.toml:8:1: data.dataset: make-shapes: categories must be in [3, 10], got 2");
  // In a file: the key's own line.
  std::string text = kFasterS50;
  text.replace(text.find("flip_prob = 0.5"), 15, "flip_prob = \"half\"");
  CHECK(error_of([&] { read(text); }) ==
        "cfg.toml:24:13: data.train.flip_prob: expected a number, got string");
  // COCO keys are unknown in a shapes dataset, and the other way round.
  CHECK(error_of([] { read(kShapes, {"data.dataset.root=data/coco"}); }) ==
        "--set data.dataset.root=data/coco: data.dataset.root: unknown key (data.dataset takes: "
        "categories, colors, dir, jpeg_quality, kind, kinds, max_object, max_occlusion, max_size, min_object, "
        "min_size, noise, object_sizes, overlap_prob, seed, train, val)");
  CHECK(error({"data.train.flip=0.5", "data.batch_size=2"}) ==
        "--set data.train.flip=0.5: data.train.flip: unknown key (data.train takes: batch_size, "
        "batching, flip_prob, min_image_size, mode, poly2mask, scales, size_divisor, with_masks)\n"
        "--set data.batch_size=2: data.batch_size: unknown key (data takes: dataset, normalize, "
        "on_corrupt, prefetch_batches, seed, test, train, workers)");
}
