// The plumbing between data, configs and detectors: batches to detector inputs, COCO results
// JSON and the label -> class mapping behind it.
#include "ops/copy.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "train/detection/coco_results.h"
#include "train/detection/dataset_classes.h"
#include "train/detection/detector_batch.h"

#include <fstream>
#include <sstream>

using namespace splat;
using namespace splat::train;

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

models::Detections detections(std::vector<float> boxes, std::vector<float> scores, std::vector<int64_t> labels) {
  const auto k = static_cast<int64_t>(scores.size());
  return {ops::from_vector(boxes, {k, 4}), ops::from_vector(scores, {k}), ops::from_vector(labels, {k})};
}

} // namespace

TEST_CASE("coco results: xywh boxes, category ids by label, shortest exact numbers") {
  const DatasetClasses classes{{"a", "b", "c"}, {1, 7, 90}};
  const std::vector<ImageResults> results = {
      {42, "x \"1\".jpg", detections({10, 20, 40.5f, 60, 0, 0, 1, 1}, {0.875f, 0.1f}, {2, 0})},
      {43, "empty.png", detections({}, {}, {})},
      {44, "y.jpg", detections({1.25f, 2, 3, 4}, {1.0f}, {1})},
  };
  CHECK(coco_results_json(results, classes) ==
        "[\n"
        "{\"image_id\": 42, \"category_id\": 90, \"bbox\": [10, 20, 30.5, 40], \"score\": 0.875, "
        "\"file_name\": \"x \\\"1\\\".jpg\"},\n"
        "{\"image_id\": 42, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.1, \"file_name\": \"x \\\"1\\\".jpg\"},\n"
        "{\"image_id\": 44, \"category_id\": 7, \"bbox\": [1.25, 2, 1.75, 2], \"score\": 1, \"file_name\": \"y.jpg\"}\n"
        "]\n");
  CHECK(coco_results_json({{1, "e", detections({}, {}, {})}}, classes) == "[]\n");
  CHECK_THROWS_WITH_ALL(coco_results_json({{5, "z.jpg", detections({0, 0, 1, 1}, {0.5f}, {3})}}, classes),
                        "image 5 (z.jpg)", "label 3", "3 classes");
  CHECK_THROWS_WITH_ALL(
      coco_results_json({{6, "w.jpg", {ops::from_vector<float>({0, 0, 1, 1}, {1, 4}),
                                       ops::from_vector<float>({0.5f, 0.2f}, {2}),
                                       ops::from_vector<int64_t>({0}, {1})}}},
                        classes),
      "image 6 (w.jpg)", "[1, 4]", "[2]", "do not describe the same detections");
}

TEST_CASE("coco results: written atomically, a failed write keeps the old file") {
  test::TempDir tmp;
  const auto path = tmp.dir / "results.json";
  const DatasetClasses classes{{"a"}, {1}};
  write_coco_results(path.string(), {{3, "p.jpg", detections({0, 0, 2, 2}, {0.5f}, {0})}}, classes);
  const std::string first = read_text(path);
  CHECK(first.find("\"image_id\": 3") != std::string::npos);
  // A label without a class fails before anything is written; the old results stay.
  CHECK_THROWS(write_coco_results(path.string(), {{4, "q.jpg", detections({0, 0, 2, 2}, {0.5f}, {1})}}, classes));
  CHECK(read_text(path) == first);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.dir)) entries += e.is_regular_file();
  CHECK(entries == 1); // no temporary file left behind
  CHECK_THROWS_WITH_ALL(write_coco_results((tmp.dir / "missing" / "r.json").string(), {}, classes),
                        "missing/r.json", "cannot create");
}

TEST_CASE("dataset classes: COCO's 80 with their gapped ids, shapes' names, counts checked") {
  const DatasetClasses& coco = coco_classes();
  REQUIRE(coco.names.size() == 80);
  REQUIRE(coco.category_ids.size() == 80);
  CHECK(coco.names[0] == "person");
  CHECK(coco.category_ids[0] == 1);
  CHECK(coco.names[11] == "stop sign"); // id 12 is unused
  CHECK(coco.category_ids[11] == 13);
  CHECK(coco.names[79] == "toothbrush");
  CHECK(coco.category_ids[79] == 90);

  config::DatasetConfig shapes;
  shapes.shapes = config::ShapesDataset{.dir = "shapes", .options = {.categories = 4}};
  const DatasetClasses s = dataset_classes(shapes, 4, "my.toml");
  CHECK(s.names == data::shape_category_names({.categories = 4}));
  CHECK(s.category_ids == std::vector<int64_t>{1, 2, 3, 4});
  CHECK_THROWS_WITH_ALL(dataset_classes(shapes, 5, "my.toml"), "my.toml", "model.num_classes is 5",
                        "4 classes", "shapes");

  config::DatasetConfig coco_files; // COCO-format data whose val annotations are not there
  coco_files.val.annotations = "/nonexistent/instances_val2017.json";
  CHECK(dataset_classes(coco_files, 80, "c.toml").category_ids == coco.category_ids);
  CHECK_THROWS_WITH_ALL(dataset_classes(coco_files, 3, "c.toml"), "c.toml", "80 classes",
                        "/nonexistent/instances_val2017.json is not there");
}

TEST_CASE("to_detector_input: metas become image infos, targets take the images' dtype") {
  data::Batch batch;
  batch.images = ops::zeros({2, 3, 64, 96}, {.dtype = DType::f64});
  batch.metas.resize(2);
  batch.metas[0] = {.file_name = "a.jpg", .ori_h = 30, .ori_w = 50, .img_h = 60, .img_w = 90,
                    .pad_h = 64, .pad_w = 96, .scale_w = 1.8, .scale_h = 2.0};
  batch.metas[1] = {.file_name = "b.jpg", .ori_h = 64, .ori_w = 64, .img_h = 64, .img_w = 64,
                    .pad_h = 64, .pad_w = 64};
  batch.targets.resize(2);
  batch.targets[0] = {.boxes = ops::from_vector<float>({1, 2, 3, 4}, {1, 4}),
                      .labels = ops::from_vector<int64_t>({3}, {1}),
                      .ignore_boxes = ops::from_vector<float>({5, 6, 7, 8}, {1, 4})};
  batch.targets[1] = {.boxes = Tensor::empty({0, 4}, DType::f32), .labels = Tensor::empty({0}, DType::i64)};

  for (const Device device : test::cpu_and_cuda()) {
    CAPTURE(device);
    const models::DetectorInput in = to_detector_input(batch, device, true);
    CHECK(in.images.device() == device);
    REQUIRE(in.infos.size() == 2);
    CHECK((in.infos[0].img_shape.height == 60 && in.infos[0].img_shape.width == 90));
    CHECK((in.infos[0].pad_shape.height == 64 && in.infos[0].pad_shape.width == 96));
    CHECK((in.infos[0].ori_shape.height == 30 && in.infos[0].ori_shape.width == 50));
    CHECK(in.infos[0].scale_w == 1.8);
    CHECK(in.infos[0].scale_h == 2.0);
    REQUIRE(in.targets.size() == 2);
    CHECK(in.targets[0].boxes.dtype() == DType::f64);
    CHECK(in.targets[0].boxes.device() == device);
    test::check_equal(ops::to(in.targets[0].boxes, Device::cpu()), ops::from_vector<double>({1, 2, 3, 4}, {1, 4}));
    test::check_equal(ops::to(in.targets[0].ignore_boxes, Device::cpu()), ops::from_vector<double>({5, 6, 7, 8}, {1, 4}));
    CHECK(in.targets[0].labels.dtype() == DType::i64);
    CHECK_FALSE(in.targets[1].ignore_boxes.defined());
    CHECK(to_detector_input(batch, device, false).targets.empty());
  }
  batch.metas.pop_back();
  CHECK_THROWS_WITH_ALL(to_detector_input(batch, Device::cpu(), false), "2 images but 1 metas");
}
