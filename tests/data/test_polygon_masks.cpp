// data/polygon_masks against the real mmdet 3.3 PolygonMasks (tests/fixtures/
// mmdet_polygon_masks.safetensors, written by scripts/fixtures/mmdet_polygon_masks.py), bit for
// bit, plus hand-worked targets, mmdet's polygon filter and agreement with the bitmap path.
#include "core/safetensors.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/polygon_masks.h"
#include "data/transforms.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"

#include <doctest/doctest.h>

#include <numeric>

using namespace splat;
using namespace splat::data;

namespace {

const SafeTensors& fixture() {
  static const SafeTensors f = load_safetensors(
      std::string(SPLAT_SOURCE_DIR "/tests/fixtures/mmdet_polygon_masks.safetensors"));
  return f;
}

const Tensor& get(const std::string& name) {
  const auto it = fixture().tensors.find(name);
  REQUIRE_MESSAGE(it != fixture().tensors.end(), "fixture tensor ", name, " missing");
  return it->second;
}

// The instances of the fixture's polygon set `name` (flat coordinates, name_poly, name_inst).
std::vector<std::vector<Polygon>> instances(const std::string& name) {
  const auto xy = test::to_vector<double>(get(name));
  const auto poly = test::to_vector<int64_t>(get(name + "_poly"));
  const auto inst = test::to_vector<int64_t>(get(name + "_inst"));
  std::vector<std::vector<Polygon>> out;
  size_t p = 0, at = 0;
  for (int64_t n : inst) {
    out.emplace_back();
    for (int64_t k = 0; k < n; ++k, ++p) {
      out.back().emplace_back(xy.begin() + static_cast<ptrdiff_t>(at),
                              xy.begin() + static_cast<ptrdiff_t>(at + poly[p]));
      at += static_cast<size_t>(poly[p]);
    }
  }
  return out;
}

std::vector<std::array<float, 4>> box_rows(const Tensor& boxes) {
  const auto v = test::to_vector<float>(boxes);
  std::vector<std::array<float, 4>> rows(v.size() / 4);
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = {v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]};
  return rows;
}

} // namespace

TEST_CASE("polygon masks: rescale, flip and crop_and_resize equal mmdet's PolygonMasks") {
  const auto size = test::to_vector<int64_t>(get("size"));
  const auto scale_edges = test::to_vector<int64_t>(get("scale"));
  const auto resized_size = test::to_vector<int64_t>(get("resized_size"));
  const PolygonMasks in{size[0], size[1], instances("in")};

  // Resize keep_ratio: mmdet rescales the polygons to rescale_size, as the image.
  const RescaledSize rs = rescale_size(in.height, in.width, scale(scale_edges[0], scale_edges[1]));
  REQUIRE(rs.h == resized_size[0]);
  REQUIRE(rs.w == resized_size[1]);
  const PolygonMasks resized = resize_polygons(in, rs.h, rs.w);
  CHECK(resized.instances == instances("resized"));
  const PolygonMasks flipped = flip_polygons(resized);
  CHECK(flipped.height == rs.h);
  CHECK(flipped.width == rs.w);
  CHECK(flipped.instances == instances("flipped"));

  const auto assigned = test::to_vector<int64_t>(get("assigned"));
  const Tensor targets = crop_and_resize(flipped, box_rows(get("boxes")), assigned, 28);
  REQUIRE(targets.shape() == get("targets").shape());
  const auto got = test::to_vector<uint8_t>(targets),
             want = test::to_vector<uint8_t>(get("targets"));
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i / (28 * 28)); // the RoI
    REQUIRE(got[i] == want[i]);
  }
}

TEST_CASE("polygon masks: a square cropped to its own box is all ones") {
  const PolygonMasks m{40, 40, {{{5, 7, 25, 7, 25, 27, 5, 27}}}};
  const std::array<float, 4> box{5, 7, 25, 27};
  const Tensor t = crop_and_resize(m, std::span(&box, 1), std::vector<int64_t>{0}, 28);
  REQUIRE(t.shape() == Shape{1, 28, 28});
  // The square maps onto [0, 28] x [0, 28]: every pixel centre lies inside.
  for (uint8_t v : test::to_vector<uint8_t>(t)) REQUIRE(v == 1);
  // The left half of the box: the left 14 columns are set by the rasteriser's centre rule.
  const PolygonMasks half{40, 40, {{{5, 7, 15, 7, 15, 27, 5, 27}}}};
  const auto h = test::to_vector<uint8_t>(
      crop_and_resize(half, std::span(&box, 1), std::vector<int64_t>{0}, 28));
  for (int64_t y = 0; y < 28; ++y)
    for (int64_t x = 0; x < 28; ++x) {
      CAPTURE(x);
      CAPTURE(y);
      REQUIRE(h[static_cast<size_t>(y * 28 + x)] == (x < 14 ? 1 : 0));
    }
}

TEST_CASE("polygon masks: mmdet's filter drops odd and short polygons, none left means ignored") {
  const std::vector<Polygon> mixed{{1, 2, 3, 4}, {0, 0, 5, 0, 5, 5}, {1, 2, 3, 4, 5}};
  const auto kept = valid_polygons(mixed);
  REQUIRE(kept.has_value());
  CHECK(*kept == std::vector<Polygon>{{0, 0, 5, 0, 5, 5}});
  CHECK_FALSE(valid_polygons({{1, 2, 3, 4}, {1, 2, 3, 4, 5, 6, 7}}).has_value());
  CHECK_FALSE(valid_polygons({}).has_value());
}

TEST_CASE("polygon masks: resize and flip agree with the bitmap path up to rasterisation") {
  const PolygonMasks m{30, 44, {{{3.5, 4, 20, 2.5, 26, 18, 9, 25}}, {{30, 10, 42, 12, 38, 28}}}};
  Sample s;
  s.image = Tensor::empty({30, 44, 3}, DType::u8);
  std::fill_n(s.image.data<uint8_t>(), 30 * 44 * 3, uint8_t{0});
  s.target.masks = polygons_to_bitmaps(m);
  s.target.boxes = Tensor::empty({2, 4}, DType::f32);
  std::fill_n(s.target.boxes.data<float>(), 8, 1.0f);
  s.target.labels = Tensor::empty({2}, DType::i64);
  resize(s, scale(100, 60));
  flip_horizontal(s);
  const PolygonMasks p = flip_polygons(resize_polygons(m, s.meta.img_h, s.meta.img_w));
  const auto a = test::to_vector<uint8_t>(polygons_to_bitmaps(p));
  const auto b = test::to_vector<uint8_t>(s.target.masks);
  REQUIRE(a.size() == b.size());
  size_t differ = 0, set = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += a[i] != b[i], set += b[i];
  // Nearest resampling of a bitmap and rasterising the scaled polygon differ only on the
  // boundary: a thin rim, well under a tenth of the foreground here.
  CHECK(set > 500);
  CHECK(differ * 10 < set);
}

TEST_CASE("polygon masks: bad input names the problem") {
  const PolygonMasks m{10, 10, {{{0, 0, 5, 0, 5, 5}}}};
  const std::array<float, 4> box{0, 0, 5, 5};
  CHECK_THROWS_WITH_ALL(crop_and_resize(m, std::span(&box, 1), std::vector<int64_t>{1}, 28),
                        "instance index 1", "1 instances");
  CHECK_THROWS_WITH_ALL(crop_and_resize(m, std::span(&box, 1), std::vector<int64_t>{}, 28),
                        "1 boxes but 0");
  CHECK_THROWS_WITH_ALL(resize_polygons(m, 0, 5), "resize_polygons", "positive");
}

TEST_CASE("load_coco_sample: polygons kept, RLE objects and degenerate polygons become ignored") {
  test::TempDir dir("splat_polygon_masks");
  Tensor image = Tensor::empty({20, 30, 3}, DType::u8);
  std::fill_n(image.data<uint8_t>(), 20 * 30 * 3, uint8_t{90});
  write_png(dir.path("a.png"), image);
  // 1: a square; 2: only 2-point polygons (pycocotools would read them as boxes); 3: a non-crowd
  // RLE; 4: a crowd RLE; 5: a triangle plus a 2-point polygon that mmdet drops.
  const std::string json =
      R"({"images": [{"id": 7, "file_name": "a.png", "height": 20, "width": 30}],
    "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
    "annotations": [
      {"id": 1, "image_id": 7, "category_id": 1, "bbox": [2, 2, 8, 8], "area": 64,
       "segmentation": [[2, 2, 10, 2, 10, 10, 2, 10]]},
      {"id": 2, "image_id": 7, "category_id": 1, "bbox": [1, 1, 4, 4], "area": 16,
       "segmentation": [[1, 2, 3, 4], [1, 2, 5, 5]]},
      {"id": 3, "image_id": 7, "category_id": 2, "bbox": [0, 0, 2, 3], "area": 6,
       "segmentation": {"size": [20, 30], "counts": [0, 3, 17, 3, 577]}},
      {"id": 4, "image_id": 7, "category_id": 2, "bbox": [0, 0, 2, 3], "area": 6, "iscrowd": 1,
       "segmentation": {"size": [20, 30], "counts": [0, 3, 17, 3, 577]}},
      {"id": 5, "image_id": 7, "category_id": 2, "bbox": [12, 4, 10, 10], "area": 50,
       "segmentation": [[12, 4, 22, 4, 22, 14], [1, 1, 2, 2]]}]})";
  const CocoDataset coco = CocoDataset::parse(json, "ann.json");

  const Sample p = load_coco_sample(coco, 0, dir.path(""), MaskFormat::polygons);
  REQUIRE(p.target.polygons.has_value());
  CHECK(!p.target.masks.defined());
  CHECK(p.target.polygons->height == 20);
  CHECK(p.target.polygons->width == 30);
  CHECK(
      p.target.polygons->instances ==
      std::vector<std::vector<Polygon>>{{{2, 2, 10, 2, 10, 10, 2, 10}}, {{12, 4, 22, 4, 22, 14}}});
  CHECK(test::to_vector<int64_t>(p.target.labels) == std::vector<int64_t>{0, 1});
  // Ignore regions in annotation order: the degenerate polygons, the RLE object, the crowd.
  CHECK(test::to_vector<float>(p.target.ignore_boxes) ==
        std::vector<float>{1, 1, 5, 5, 0, 0, 2, 3, 0, 0, 2, 3});

  const Sample b = load_coco_sample(coco, 0, dir.path(""), MaskFormat::bitmaps);
  CHECK(!b.target.polygons.has_value());
  REQUIRE(b.target.masks.shape() == Shape{3, 20, 30});
  CHECK(test::to_vector<int64_t>(b.target.labels) == std::vector<int64_t>{0, 1, 1});
  CHECK(test::to_vector<float>(b.target.ignore_boxes) ==
        std::vector<float>{1, 1, 5, 5, 0, 0, 2, 3});
  // The bitmaps are the polygons rasterised (the first and the last) and the RLE decoded.
  const auto bits = test::to_vector<uint8_t>(b.target.masks);
  const auto poly_bits = test::to_vector<uint8_t>(polygons_to_bitmaps(*p.target.polygons));
  CHECK(std::equal(poly_bits.begin(), poly_bits.begin() + 600, bits.begin()));
  CHECK(std::equal(poly_bits.begin() + 600, poly_bits.end(), bits.begin() + 1200));
  CHECK(std::accumulate(bits.begin() + 600, bits.begin() + 1200, 0) == 6);

  // The pipeline carries the polygons: resized with the image, the size padded.
  const Sample t = TestPipeline(TestPipelineConfig{.scale = {60, 40}})(p, {});
  REQUIRE(t.target.polygons.has_value());
  CHECK(t.target.polygons->height == 64);
  CHECK(t.target.polygons->width == 64);
  CHECK(t.target.polygons->instances[0][0] == Polygon{4, 4, 20, 4, 20, 20, 4, 20});
}
