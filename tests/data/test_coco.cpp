// data/coco: the reader on small JSON files written here, mmdet's filters, and every malformed
// case with its message.
#include "data/coco.h"
#include "tests/helpers.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace splat;
using namespace splat::data;

namespace {

// A file in a fresh temporary directory, removed with the object.
struct TempJson {
  std::filesystem::path dir, file;
  explicit TempJson(const std::string& text) {
    dir = std::filesystem::temp_directory_path() /
          str("splat_test_coco_", ::getpid(), "_", reinterpret_cast<uintptr_t>(this));
    std::filesystem::create_directories(dir);
    file = dir / "instances.json";
    std::ofstream(file) << text;
  }
  ~TempJson() { std::filesystem::remove_all(dir); }
};

// Categories listed after the annotations and out of id order, as in COCO files; strings and
// nested values that could mislead the split of the annotations array into pieces.
const char* kValid = R"({
  "info": {"year": 2017, "nested": [1, {"a": "}"}], "annotations": [{"id": "not these"}]},
  "description": "annotations",
  "images": [
    {"id": 10, "file_name": "a.jpg", "height": 40, "width": 60, "license": 1},
    {"id": 7, "file_name": "b.jpg", "height": 50, "width": 50},
    {"id": 3, "file_name": "small.jpg", "height": 20, "width": 300},
    {"id": 4, "file_name": "empty.jpg", "height": 64, "width": 64}
  ],
  "annotations": [
    {"id": 1, "image_id": 10, "category_id": 5, "bbox": [1, 2, 10.5, 8], "area": 60.5,
     "note": "brackets and quotes in strings: x\"],{\"[\\", "extra": {"a": [1, [2]]},
     "iscrowd": 0, "segmentation": [[1, 2, 11.5, 2, 11.5, 10], [20, 20, 30, 20, 30, 30, 20, 30]]},
    {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 1,
     "segmentation": {"counts": "05]10000000ZV2", "size": [50, 50]}},
    {"id": 3, "image_id": 10, "category_id": 3, "bbox": [5, 5, 0.5, 4], "area": 2,
     "iscrowd": false, "segmentation": {"size": [40, 60], "counts": [2, 3, 2395]}},
    {"id": 4, "image_id": 3, "category_id": 3, "bbox": [2, 2, 4, 4], "area": 16},
    {"id": 5, "image_id": 10, "category_id": 1, "bbox": [70, 2, 4, 4], "area": 16,
     "segmentation": [[5, 5, 9, 5, 4, 4]]},
    {"id": 6, "image_id": 10, "category_id": 1, "bbox": [2, 2, 4, 4], "area": 16, "ignore": 1,
     "segmentation": [[2, 3, 4, 5]]},
    {"id": 7, "image_id": 7, "category_id": 5, "bbox": [2, 2, 4, 4], "area": 0,
     "iscrowd": true, "segmentation": []}
  ],
  "categories": [
    {"id": 5, "name": "five", "supercategory": "x"},
    {"id": 1, "name": "one"},
    {"id": 3, "name": "thr\"ee"}
  ]
})";

CocoDataset parse(const std::string& json) { return CocoDataset::parse(json, "mem.json"); }

} // namespace

TEST_SUITE_BEGIN("coco");

TEST_CASE("reads images, sorted categories, annotations and segmentations") {
  const TempJson tmp(kValid);
  const CocoDataset d = CocoDataset::load(tmp.file.string());
  CHECK(d.name() == tmp.file.string());
  REQUIRE(d.images().size() == 4);
  CHECK(d.images()[0].id == 10);
  CHECK(d.images()[0].file_name == "a.jpg");
  CHECK(d.images()[0].height == 40);
  CHECK(d.images()[0].width == 60);
  CHECK(d.images()[2].file_name == "small.jpg");
  REQUIRE(d.categories().size() == 3);
  CHECK(d.categories()[0].id == 1);
  CHECK(d.categories()[1].id == 3);
  CHECK(d.categories()[1].name == "thr\"ee");
  CHECK(d.categories()[2].name == "five");
  CHECK(d.label_of(1) == 0);
  CHECK(d.label_of(3) == 1);
  CHECK(d.label_of(5) == 2);
  CHECK_THROWS_WITH_ALL(d.label_of(2), tmp.file.string(), "unknown category id 2");
  CHECK(d.image_index_of(7) == 1);
  CHECK(!d.image_index_of(8).has_value());

  REQUIRE(d.annotations().size() == 7);
  const CocoAnnotation& a0 = d.annotations()[0];
  CHECK(a0.id == 1);
  CHECK(a0.image_id == 10);
  CHECK(a0.image_index == 0);
  CHECK(a0.category_id == 5);
  CHECK(a0.label == 2);
  CHECK(a0.bbox == BoxXywh{1, 2, 10.5, 8});
  CHECK(a0.area == 60.5);
  CHECK(!a0.iscrowd);
  CHECK(d.annotations()[1].iscrowd);
  CHECK(!d.annotations()[2].iscrowd);
  CHECK(d.annotations()[5].ignore);
  CHECK(d.annotations()[6].iscrowd);

  const auto of0 = d.annotations_of(0);
  CHECK(std::vector<uint32_t>(of0.begin(), of0.end()) == std::vector<uint32_t>{0, 2, 4, 5});
  const auto of1 = d.annotations_of(1);
  CHECK(std::vector<uint32_t>(of1.begin(), of1.end()) == std::vector<uint32_t>{1, 6});
  CHECK(d.annotations_of(3).empty());

  // Polygons: values kept; the mask is their union at the image's size.
  const Segmentation s0 = d.segmentation(0);
  REQUIRE(s0.polygons.size() == 2);
  CHECK(s0.polygons[0] == Polygon{1, 2, 11.5, 2, 11.5, 10});
  CHECK(s0.polygons[1] == Polygon{20, 20, 30, 20, 30, 30, 20, 30});
  CHECK(!s0.rle.has_value());
  CHECK(d.rle(0) == rle_from_polygons(s0.polygons, 40, 60));
  // Compressed and uncompressed RLEs.
  const Segmentation s1 = d.segmentation(1);
  REQUIRE(s1.rle.has_value());
  CHECK(*s1.rle == rle_from_string("05]10000000ZV2", 50, 50));
  CHECK(d.rle(1) == *s1.rle);
  CHECK(d.rle(2) == Rle{40, 60, {2, 3, 2395}});
  // No segmentation field / an empty list.
  CHECK(!d.has_segmentation(3));
  CHECK_THROWS_WITH_ALL(d.rle(3), "annotations[3] has no segmentation");
  CHECK(d.has_segmentation(6));
  CHECK(d.rle(6) == Rle{50, 50, {2500}});
  // A polygon of 4 numbers is a box for COCO.annToRLE.
  CHECK(d.rle(5) == rle_from_box({2, 3, 4, 5}, 40, 60));
}

TEST_CASE("mmdet's annotation roles and training image filter") {
  const CocoDataset d = parse(kValid);
  CHECK(annotation_role(d, 0) == AnnotationRole::object);
  CHECK(annotation_role(d, 1) == AnnotationRole::ignore_box); // iscrowd
  CHECK(annotation_role(d, 2) == AnnotationRole::skipped);    // w < 1
  CHECK(annotation_role(d, 3) == AnnotationRole::object);
  CHECK(annotation_role(d, 4) == AnnotationRole::skipped); // box right of the image
  CHECK(annotation_role(d, 5) == AnnotationRole::skipped); // "ignore"
  CHECK(annotation_role(d, 6) == AnnotationRole::skipped); // area 0
  // Image 3 (20 px high) is too small, image 4 has no annotations.
  CHECK(training_images(d) == std::vector<size_t>{0, 1});
  CHECK(training_images(d, 20) == std::vector<size_t>{0, 1, 2});
  CHECK(training_images(d, 51) == std::vector<size_t>{});
}

TEST_CASE("the annotations parsed in pieces of any size give the same tables") {
  const CocoDataset whole = parse(kValid);
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{300}}) {
    CAPTURE(chunk);
    const CocoDataset d = CocoDataset::parse(kValid, "mem.json", chunk);
    REQUIRE(d.images().size() == whole.images().size());
    for (size_t i = 0; i < d.images().size(); ++i) {
      CHECK(d.images()[i].file_name == whole.images()[i].file_name);
      CHECK(d.annotations_of(i).size() == whole.annotations_of(i).size());
    }
    REQUIRE(d.categories().size() == whole.categories().size());
    REQUIRE(d.annotations().size() == whole.annotations().size());
    for (size_t k = 0; k < d.annotations().size(); ++k) {
      const CocoAnnotation &a = d.annotations()[k], &b = whole.annotations()[k];
      CHECK(a.id == b.id);
      CHECK(a.bbox == b.bbox);
      CHECK(a.label == b.label);
      CHECK(a.image_index == b.image_index);
      const Segmentation sa = d.segmentation(k), sb = whole.segmentation(k);
      CHECK(sa.polygons == sb.polygons);
      CHECK(sa.rle == sb.rle);
    }
  }
  // An error in a later piece names the annotation's index in the whole file.
  const std::string anns = R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4],
    "area": 5})";
  const std::string text =
      str(R"({"images": [{"id": 1, "file_name": "a", "height": 9,
    "width": 9}], "categories": [{"id": 1, "name": "c"}], "annotations": [)",
          anns, ",", anns, ",",
          R"({"id": 3, "image_id": 1, "category_id": 1, "bbox": [1, 2, -3, 4], "area": 5}]})");
  CHECK_THROWS_WITH_ALL(CocoDataset::parse(text, "mem.json", 1),
                        "mem.json: annotations[2].bbox: width -3 is negative");
  // Unbalanced text is parsed again as one document for simdjson's verdict.
  CHECK_THROWS_WITH_ALL(CocoDataset::parse(R"({"images": []], "categories": []})", "mem.json", 1),
                        "mem.json: ");
}

TEST_CASE("minimal file: no annotations array") {
  const CocoDataset d = parse(R"({"images": [{"id": 1, "file_name": "x", "height": 2,
    "width": 3}], "categories": []})");
  CHECK(d.images().size() == 1);
  CHECK(d.annotations().empty());
  CHECK(d.annotations_of(0).empty());
  CHECK(training_images(d, 1).empty());
}

TEST_CASE("malformed files give errors naming the file and the JSON path") {
  CHECK_THROWS_WITH_ALL(CocoDataset::load("/nonexistent/dir/instances.json"),
                        "/nonexistent/dir/instances.json: cannot open the file");
  {
    const TempJson tmp(R"({"images": [{"id": 1, "file_name": "x", "height": 2, "wid)");
    CHECK_THROWS_WITH_ALL(CocoDataset::load(tmp.file.string()), tmp.file.string(),
                          "malformed JSON");
  }
  const std::string img = R"({"id": 1, "file_name": "a.jpg", "height": 40, "width": 60})";
  const std::string img2 = R"({"id": 2, "file_name": "b.jpg", "height": 40, "width": 60})";
  const std::string cats = R"("categories": [{"id": 1, "name": "c"}, {"id": 2, "name": "d"}])";
  // A file with two images, two categories and the given annotation(s).
  auto with_anns = [&](const std::string& anns) {
    return str(R"({"images": [)", img, ",", img2, "], ", cats, R"(, "annotations": [)", anns, "]}");
  };
  const std::string good_ann =
      R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 5})";
  auto ann = [&](const std::string& replace_from, const std::string& replace_to) {
    std::string a = good_ann;
    const size_t p = a.find(replace_from);
    REQUIRE(p != std::string::npos);
    return a.replace(p, replace_from.size(), replace_to);
  };
  CHECK_NOTHROW(parse(with_anns(good_ann)));

  struct Case {
    std::string json;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {"nonsense", {"mem.json: top level: expected a JSON object"}},
      {"[1, 2]", {"mem.json: top level: expected a JSON object"}},
      {R"({"images": [}, "categories": []})", {"mem.json: images[0]: expected an object"}},
      {R"({"images": [], "categories": [{"id": 1, "name": "a"})", {"mem.json: ", "malformed JSON"}},
      {R"({"categories": []})", {"mem.json: top level: missing field \"images\""}},
      {R"({"images": []})", {"missing field \"categories\""}},
      {R"({"images": {}, "categories": []})",
       {"mem.json: images: expected an array, got an object"}},
      {R"({"images": [3], "categories": []})", {"images[0]: expected an object, got 3"}},
      {str(R"({"images": [)", img, R"(, {"id": 2, "height": 4, "width": 4}], )", cats, "}"),
       {"mem.json: images[1]: missing field \"file_name\""}},
      {str(R"({"images": [{"id": 1, "file_name": "a", "height": "abc", "width": 4}], )", cats, "}"),
       {"images[0].height: expected an integer, got \"abc\""}},
      {str(R"({"images": [{"id": 1, "file_name": "a", "height": 4.5, "width": 4}], )", cats, "}"),
       {"images[0].height: expected an integer, got 4.5"}},
      {str(R"({"images": [{"id": 1, "file_name": 7, "height": 4, "width": 4}], )", cats, "}"),
       {"images[0].file_name: expected a string, got 7"}},
      {str(R"({"images": [{"id": 1, "file_name": "a", "height": 4, "width": 0}], )", cats, "}"),
       {"images[0].width: 0 is not positive"}},
      {str(R"({"images": [)", img, ",", img, "], ", cats, "}"),
       {"images[1].id: duplicate image id 1 (also images[0])"}},
      {str(R"({"images": [], "categories": [{"id": 4, "name": "a"}, {"id": 4, "name": "b"}]})"),
       {"categories[1].id: duplicate category id 4 (also categories[0])"}},
      {str(R"({"images": [], "categories": [{"id": 4, "name": null}]})"),
       {"categories[0].name: expected a string, got null"}},
      {str(R"({"images": [], "categories": [{"name": "a"}]})"),
       {"categories[0]: missing field \"id\""}},
      {str(R"({"images": [], )", cats, R"(, "annotations": 5})"),
       {"mem.json: annotations: expected an array, got 5"}},
      {with_anns(str(good_ann, ",", ann("\"bbox\": [1, 2, 3, 4]", "\"bbox\": [1, 2, -3, 4]"))),
       {"mem.json: annotations[1].bbox: width -3 is negative"}},
      {with_anns(ann("\"bbox\": [1, 2, 3, 4]", "\"bbox\": [1, 2, 3, -0.5]")),
       {"annotations[0].bbox: height -0.5 is negative"}},
      {with_anns(ann("\"bbox\": [1, 2, 3, 4]", "\"bbox\": [1, 2, 3]")),
       {"annotations[0].bbox: expected 4 numbers [x, y, w, h], got 3"}},
      {with_anns(ann("\"bbox\": [1, 2, 3, 4]", "\"bbox\": [1, \"2\", 3, 4]")),
       {"annotations[0].bbox[1]: expected a number, got \"2\""}},
      {with_anns(ann("\"bbox\": [1, 2, 3, 4]", "\"bbox\": 7")),
       {"annotations[0].bbox: expected an array, got 7"}},
      {with_anns(ann(", \"area\": 5", "")), {"annotations[0]: missing field \"area\""}},
      {with_anns(ann("\"image_id\": 1", "\"image_id\": 99")),
       {"annotations[0].image_id: unknown image id 99"}},
      {with_anns(ann("\"category_id\": 1", "\"category_id\": 42")),
       {"annotations[0].category_id: unknown category id 42"}},
      {with_anns(ann("\"area\": 5", "\"area\": 5, \"iscrowd\": 2")),
       {"annotations[0].iscrowd: expected 0, 1, false or true, got 2"}},
      {with_anns(
           ann("\"area\": 5", "\"area\": 5, \"segmentation\": [[1, 2, 3, 4, 5, 6], [1, 2, 3]]")),
       {"annotations[0].segmentation[1]: polygon has 3 coordinates"}},
      {with_anns(ann("\"area\": 5", "\"area\": 5, \"segmentation\": [[1, 2, \"x\", 4, 5, 6]]")),
       {"annotations[0].segmentation[0][2]: expected a number, got \"x\""}},
      {with_anns(ann("\"area\": 5", "\"area\": 5, \"segmentation\": [7]")),
       {"annotations[0].segmentation[0]: expected an array, got 7"}},
      {with_anns(ann("\"area\": 5", "\"area\": 5, \"segmentation\": \"abc\"")),
       {"annotations[0].segmentation: expected a list of polygons or an RLE object, got \"abc\""}},
      {with_anns(ann("\"area\": 5", R"("area": 5, "segmentation": {"counts": [1, 2]})")),
       {"annotations[0]: missing field \"size\""}},
      {with_anns(ann("\"area\": 5",
                     R"("area": 5, "segmentation": {"size": [40, 60], "counts": [1, 2]})")),
       {"annotations[0].segmentation: RLE: RLE counts sum to 3 but the mask 40x60 has 2400"}},
      {with_anns(ann("\"area\": 5",
                     R"("area": 5, "segmentation": {"size": [40, 60], "counts": [1, -2]})")),
       {"annotations[0].segmentation.counts[1]: count -2 is out of range"}},
      {with_anns(
           ann("\"area\": 5", R"("area": 5, "segmentation": {"size": [40, 60], "counts": "1~"})")),
       {"annotations[0].segmentation: rle_from_string: character 1 ('~')"}},
      {with_anns(ann("\"area\": 5", R"("area": 5, "segmentation": {"size": [40], "counts": "1"})")),
       {"annotations[0].segmentation.size: expected [height, width], got 1 numbers"}},
      {with_anns(
           ann("\"area\": 5", R"("area": 5, "segmentation": {"size": [2, 2], "counts": "04"})")),
       {"annotations[0].segmentation.size: [2, 2] differs from image 1's [height, width] [40, "
        "60]"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json);
    std::string msg;
    try {
      parse(c.json);
    } catch (const Error& e) {
      msg = e.what();
    }
    REQUIRE_MESSAGE(!msg.empty(), "expected an error");
    for (const std::string& f : c.fragments)
      CHECK_MESSAGE(msg.find(f) != std::string::npos, "message '", msg, "' lacks '", f, "'");
  }
}

TEST_SUITE_END();
