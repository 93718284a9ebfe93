// Mask detections out: coco_results_json writes each mask as pycocotools' compressed RLE string
// (JSON-escaped: the strings hold backslashes), and what it writes, read back as `splat eval
// --iou-type segm` reads it, scores as pycocotools scored the same detections
// (tests/fixtures/coco_eval/random.*, written by scripts/fixtures/coco_eval.py).
#include "data/masks.h"
#include "ops/copy.h"
#include "tests/helpers.h"
#include "train/detection/coco_results.h"
#include "train/detection/evaluate.h"
#include "train/eval/detection_results.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

using namespace splat;
using namespace splat::train;

namespace {

const std::string kDir = SPLAT_SOURCE_DIR "/tests/fixtures/coco_eval/";

// Every "counts" string of a results text, still JSON-escaped, sorted.
std::vector<std::string> counts_strings(const std::string& text) {
  std::vector<std::string> out;
  const std::string key = "\"counts\": \"";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
    at += key.size();
    size_t end = at;
    while (text[end] != '"') end += text[end] == '\\' ? 2 : 1;
    out.push_back(text.substr(at, end - at));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The fixture's segm results as one ImageResults per image with detections: boxes from the
// bbox, labels from the category ids, masks decoded from the RLEs.
std::vector<ImageResults> image_results(const data::CocoDataset& gt, const DetectionResults& res,
                                        const DatasetClasses& classes) {
  std::map<uint32_t, std::vector<const Detection*>> by_image;
  for (const Detection& d : res.detections) by_image[d.image_index].push_back(&d);
  std::vector<ImageResults> out;
  for (const auto& [image, dets] : by_image) {
    const data::CocoImage& im = gt.images()[image];
    const auto k = static_cast<int64_t>(dets.size());
    std::vector<float> boxes, scores;
    std::vector<int64_t> labels;
    Tensor masks = Tensor::empty({k, im.height, im.width}, DType::u8);
    for (int64_t i = 0; i < k; ++i) {
      const Detection& d = *dets[static_cast<size_t>(i)];
      const data::BoxXywh& b = d.bbox;
      boxes.insert(boxes.end(), {static_cast<float>(b[0]), static_cast<float>(b[1]),
                                 static_cast<float>(b[0] + b[2]), static_cast<float>(b[1] + b[3])});
      scores.push_back(static_cast<float>(d.score));
      labels.push_back(
          std::find(classes.category_ids.begin(), classes.category_ids.end(), d.category_id) -
          classes.category_ids.begin());
      const Tensor m = data::rle_decode(*d.mask);
      std::memcpy(masks.data<uint8_t>() + i * im.height * im.width, m.data<uint8_t>(),
                  static_cast<size_t>(im.height * im.width));
    }
    out.push_back({im.id,
                   im.file_name,
                   {ops::from_vector(boxes, {k, 4}), ops::from_vector(scores, {k}),
                    ops::from_vector(labels, {k}), ops::to(masks, DType::b8)}});
  }
  return out;
}

} // namespace

TEST_CASE("coco results: masks as escaped RLE strings that score as pycocotools scores them") {
  const data::CocoDataset gt = data::CocoDataset::load(kDir + "random.gt.json");
  DatasetClasses classes;
  for (const data::CocoCategory& c : gt.categories()) {
    classes.names.push_back(c.name);
    classes.category_ids.push_back(c.id);
  }
  const DetectionResults fixture =
      load_detection_results(kDir + "random.segm.json", gt, IouType::segm);
  const std::string text = coco_results_json(image_results(gt, fixture, classes), classes);

  // pycocotools' own strings, byte for byte, escaped as json.dumps escapes them.
  std::ifstream f(kDir + "random.segm.json");
  const std::string fixture_text((std::istreambuf_iterator<char>(f)),
                                 std::istreambuf_iterator<char>());
  const std::vector<std::string> written = counts_strings(text);
  REQUIRE(written.size() == fixture.detections.size());
  CHECK(written == counts_strings(fixture_text));
  CHECK(std::any_of(written.begin(), written.end(),
                    [](const std::string& s) { return s.find("\\\\") != std::string::npos; }));
  // A JSON parser reads the text (the escapes are valid JSON).
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  CHECK(parser.parse(padded).get_array().size() == fixture.detections.size());

  // The segm scores of the written text equal pycocotools' numbers for the fixture.
  const CocoScores scores = score_coco_results(gt, text, true);
  REQUIRE(scores.segm.has_value());
  const simdjson::dom::element want = parser.load(kDir + "random.expected.json");
  size_t i = 0;
  for (simdjson::dom::element x : want["segm"]["stats"].get_array()) {
    CAPTURE(i);
    CHECK(scores.segm->stats[i++] == doctest::Approx(x.get_double()).epsilon(1e-12));
  }
  CHECK_FALSE(score_coco_results(gt, text, false).segm.has_value());
  // What the trainer logs: mmdet's names, bbox then segm.
  const auto metrics = coco_metric_values(scores);
  REQUIRE(metrics.size() == 12);
  CHECK(metrics[0].first == "coco/bbox_mAP");
  CHECK(metrics[5].first == "coco/bbox_mAP_l");
  CHECK(metrics[6] == std::pair<std::string, double>{"coco/segm_mAP", scores.segm->stats[0]});
  CHECK(metrics[7] == std::pair<std::string, double>{"coco/segm_mAP_50", scores.segm->stats[1]});
  CHECK(metrics[11].first == "coco/segm_mAP_l");
  CHECK(coco_metric_values(score_coco_results(gt, text, false)).size() == 6);

  // The segmentation sits after the bbox, with the mask's size.
  CHECK(text.find("], \"segmentation\": {\"size\": [") != std::string::npos);
  // Masks that do not match the detections are an error naming the image.
  ImageResults bad = image_results(gt, fixture, classes)[0];
  bad.detections.masks = ops::to(Tensor::empty({0, 4, 4}, DType::u8), DType::b8);
  CHECK_THROWS_WITH_ALL(coco_results_json({bad}, classes), "masks [0, 4, 4]", "are not (");
}
