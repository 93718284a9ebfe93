// train/eval against pycocotools' COCOeval (tests/fixtures/coco_eval/, written by
// scripts/fixtures/coco_eval.py): every summary number, per-category AP, and the per-threshold
// precision (mean over recall points) and recall of every category, area range and maxDets;
// plus cases derived by hand and the results reader's loadRes rules and errors.
#include "train/eval/coco_eval.h"
#include "train/eval/detection_results.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <cmath>
#include <string>

using namespace splat;
using namespace splat::train;

namespace {

const std::string kDir = SPLAT_SOURCE_DIR "/tests/fixtures/coco_eval/";

std::vector<double> numbers(simdjson::dom::element e) {
  std::vector<double> out;
  for (simdjson::dom::element x : e.get_array()) out.push_back(x.get_double());
  return out;
}

void check_near(const std::vector<double>& got, const std::vector<double>& want,
                const std::string& what) {
  REQUIRE_MESSAGE(got.size() == want.size(), what, ": ", got.size(), " values, expected ",
                  want.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK_MESSAGE(std::fabs(got[i] - want[i]) <= 1e-9, what, "[", i, "]: ", got[i],
                  " vs pycocotools ", want[i]);
}

void check_fixture(const std::string& name, IouType type) {
  const std::string t = type == IouType::bbox ? "bbox" : "segm";
  CAPTURE(name);
  CAPTURE(t);
  const data::CocoDataset gt = data::CocoDataset::load(kDir + name + ".gt.json");
  const DetectionResults res = load_detection_results(kDir + name + "." + t + ".json", gt, type);
  const CocoEvalResult r = coco_evaluate(gt, res, type);

  simdjson::dom::parser parser;
  const simdjson::dom::element want = parser.load(kDir + name + ".expected.json")[t];
  check_near({r.stats.begin(), r.stats.end()}, numbers(want["stats"]), "stats");
  const size_t K = r.category_ids.size();
  std::vector<double> ap, pmean;
  for (size_t k = 0; k < K; ++k) ap.push_back(r.category_ap(k));
  check_near(ap, numbers(want["category_ap"]), "category AP");
  for (size_t i = 0; i < kIouThresholds; ++i)
    for (size_t k = 0; k < K; ++k)
      for (size_t a = 0; a < kAreaRanges; ++a)
        for (size_t m = 0; m < kMaxDetSettings; ++m) {
          double s = 0;
          for (size_t q = 0; q < kRecallThresholds; ++q) s += r.precision_at(i, q, k, a, m);
          const double first = r.precision_at(i, 0, k, a, m);
          pmean.push_back(first == -1 ? -1 : s / kRecallThresholds);
        }
  check_near(pmean, numbers(want["precision_mean"]), "precision (T, K, A, M), mean over R");
  check_near(r.recall, numbers(want["recall"]), "recall (T, K, A, M)");
}

// A one-image dataset (100 x 100) with category 1 and the given gt boxes (area w * h).
data::CocoDataset one_image(const std::vector<data::BoxXywh>& boxes) {
  std::string anns;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const auto& b = boxes[i];
    anns += str(i ? "," : "", "{\"id\": ", i + 1, ", \"image_id\": 1, \"category_id\": 1, ",
                "\"bbox\": [", b[0], ", ", b[1], ", ", b[2], ", ", b[3],
                "], \"area\": ", b[2] * b[3], "}");
  }
  return data::CocoDataset::parse(
      str("{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"height\": 100, \"width\": 100}],"
          " \"categories\": [{\"id\": 1, \"name\": \"a\"}], \"annotations\": [",
          anns, "]}"),
      "gt.json");
}

CocoEvalResult eval_text(const data::CocoDataset& gt, const std::string& results) {
  return coco_evaluate(gt, parse_detection_results(results, "res.json", gt, IouType::bbox),
                       IouType::bbox);
}

} // namespace

TEST_CASE("coco eval equals pycocotools on the fixtures") {
  for (const char* name : {"hand", "random"})
    for (IouType type : {IouType::bbox, IouType::segm}) check_fixture(name, type);
}

TEST_CASE("coco eval: thresholds as numpy's linspace computes them") {
  CHECK(iou_threshold(0) == 0.5);
  CHECK(iou_threshold(5) == 0.75);
  CHECK(iou_threshold(8) == 0.8999999999999999); // not 0.9: a box of IoU 0.9 counts there
  CHECK(iou_threshold(9) == 0.95);
  CHECK(recall_threshold(0) == 0.0);
  CHECK(recall_threshold(7) == 0.07);
  CHECK(recall_threshold(100) == 1.0);
}

TEST_CASE("coco eval by hand: one perfect detection") {
  const data::CocoDataset gt = one_image({{10, 10, 20, 20}}); // area 400: small
  const CocoEvalResult r = eval_text(
      gt, R"([{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.5}])");
  const std::array<double, 12> want = {1, 1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1};
  for (size_t i = 0; i < 12; ++i) CHECK_MESSAGE(r.stats[i] == doctest::Approx(want[i]), i);
  CHECK(r.category_ap(0) == doctest::Approx(1));
  CHECK(coco_summary(r).substr(0, coco_summary(r).find('\n') + 1) ==
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000\n");
}

TEST_CASE("coco eval by hand: a false positive ranked first, then second") {
  // Two gts, three detections; the false positive overlaps nothing.
  const data::CocoDataset gt = one_image({{0, 0, 40, 40}, {50, 50, 40, 40}});
  auto results = [](double fp_score) {
    return str(R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 40, 40], "score": 0.8},)",
               R"({"image_id": 1, "category_id": 1, "bbox": [50, 50, 40, 40], "score": 0.7},)",
               R"({"image_id": 1, "category_id": 1, "bbox": [45, 0, 4, 4], "score": )", fp_score,
               "}]");
  };
  // FP, TP, TP: recall 0, 1/2, 1 at precision 0, 1/2, 2/3; interpolated 2/3 at every recall
  // point. Top-1 is the false positive: AR1 = 0.
  const CocoEvalResult first = eval_text(gt, results(0.9));
  const double eps = 2.220446049250313e-16;
  CHECK(first.stats[0] == doctest::Approx(2 / (3 + eps)).epsilon(1e-14));
  CHECK(first.stats[1] == doctest::Approx(2 / (3 + eps)).epsilon(1e-14));
  CHECK(first.stats[6] == 0);
  CHECK(first.stats[7] == 1);
  // TP, FP, TP: precision 1 up to recall 1/2 (51 of the 101 points), then 2/3 (50 points).
  const CocoEvalResult second = eval_text(gt, results(0.75));
  CHECK(second.stats[0] == doctest::Approx((51 + 50 * 2 / (3 + eps)) / 101).epsilon(1e-14));
  CHECK(second.stats[6] == 0.5);
}

TEST_CASE("coco eval: crowd matching uses the detection's area as union") {
  // A crowd box covering the image's left half; two detections inside it are both ignored
  // (neither true nor false positives), one outside is a false positive against gt 2.
  data::CocoDataset gt = data::CocoDataset::parse(
      R"({"images": [{"id": 1, "file_name": "a.jpg", "height": 100, "width": 100}],
          "categories": [{"id": 1, "name": "a"}],
          "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 100], "area": 5000,
             "iscrowd": 1},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [60, 60, 30, 30], "area": 900}]})",
      "gt.json");
  const CocoEvalResult r = eval_text(gt, R"([
      {"image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.9},
      {"image_id": 1, "category_id": 1, "bbox": [20, 20, 10, 10], "score": 0.9},
      {"image_id": 1, "category_id": 1, "bbox": [60, 60, 30, 30], "score": 0.5}])");
  CHECK(r.stats[0] == doctest::Approx(1));
}

TEST_CASE("coco results: loadRes's kinds, areas and ids") {
  const data::CocoDataset gt = one_image({{0, 0, 10, 10}});
  // With a bbox: area w * h, id = position + 1; unknown categories are kept (then skipped).
  const DetectionResults b = parse_detection_results(
      R"([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
          {"image_id": 1, "category_id": 9, "bbox": [0, 0, 2, 2], "score": 1}])",
      "res.json", gt, IouType::segm);
  REQUIRE(b.detections.size() == 2);
  CHECK(b.detections[0].area == 12);
  CHECK(b.detections[1].id == 2);
  REQUIRE(b.detections[0].mask.has_value()); // the box's polygon, as loadRes
  CHECK(*b.detections[0].mask == data::rle_from_box({1, 2, 3, 4}, 100, 100));
  // Without a bbox: area is the mask's, bbox its toBbox.
  const data::Rle m = data::rle_from_box({10, 20, 5, 6}, 100, 100);
  const DetectionResults s = parse_detection_results(
      str(R"([{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"size": [100, 100], "counts": ")",
          data::rle_to_string(m), "\"}}]"),
      "res.json", gt, IouType::bbox);
  CHECK(s.detections[0].area == 30);
  CHECK(s.detections[0].bbox == data::BoxXywh{10, 20, 5, 6});
  CHECK(!s.detections[0].mask.has_value()); // not needed for bbox evaluation
  // Empty results: nothing detected, AP 0 where there are gts.
  const CocoEvalResult r = eval_text(gt, "[]");
  CHECK(r.stats[0] == 0);
  CHECK(r.stats[4] == -1);
}

TEST_CASE("coco results: bad input is one line naming the file") {
  const data::CocoDataset gt = one_image({{0, 0, 10, 10}});
  auto parse = [&](const std::string& text) {
    return parse_detection_results(text, "res.json", gt, IouType::bbox);
  };
  CHECK_THROWS_WITH(parse(R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1},
                              {"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])"),
                    "res.json: results[1].image_id: image id 99 is not an image of gt.json");
  CHECK_THROWS_WITH(parse(R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}])"),
                    "res.json: results[0]: missing field \"score\"");
  CHECK_THROWS_WITH(
      parse(R"({"image_id": 1})"),
      doctest::Contains("res.json: top level: expected a JSON array of result objects"));
  CHECK_THROWS_WITH(parse(R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1)"),
                    doctest::Contains("res.json"));
  CHECK_THROWS_WITH(parse(R"([{"image_id": 1, "category_id": 1, "score": 1}])"),
                    "res.json: results[0]: neither a bbox nor a segmentation (the first result "
                    "sets which results these are)");
  CHECK_THROWS_WITH(parse(R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}])"),
                    "res.json: results[0].bbox: expected 4 numbers [x, y, w, h], got 3");
  CHECK_THROWS_WITH(load_detection_results("/nonexistent/res.json", gt, IouType::bbox),
                    doctest::Contains("/nonexistent/res.json: cannot open the file"));
}
