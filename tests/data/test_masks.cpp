// data/masks against pycocotools' own outputs (tests/fixtures/coco_masks.safetensors, written by
// scripts/fixtures/coco_masks.py), bit for bit, plus round trips, hand-worked cases and errors.
#include "core/safetensors.h"
#include "data/masks.h"
#include "tests/helpers.h"

#include <doctest/doctest.h>

#include <random>

using namespace splat;
using namespace splat::data;

namespace {

const SafeTensors& fixture() {
  static const SafeTensors f =
      load_safetensors(std::string(SPLAT_SOURCE_DIR "/tests/fixtures/coco_masks.safetensors"));
  return f;
}

const Tensor& get(const std::string& name) {
  const auto it = fixture().tensors.find(name);
  REQUIRE_MESSAGE(it != fixture().tensors.end(), "fixture tensor ", name, " missing");
  return it->second;
}

// Entry i of the ragged list `name` (flat `name` plus offsets `name_off`).
template <class T> std::vector<T> ragged(const std::string& name, size_t i) {
  const auto all = test::to_vector<T>(get(name));
  const auto off = test::to_vector<int64_t>(get(name + "_off"));
  REQUIRE(i + 1 < off.size());
  return {all.begin() + off[i], all.begin() + off[i + 1]};
}
size_t ragged_size(const std::string& name) { return get(name + "_off").numel() - 1; }

std::string ragged_string(const std::string& name, size_t i) {
  const auto bytes = ragged<int64_t>(name, i);
  return {bytes.begin(), bytes.end()};
}

std::vector<uint32_t> as_counts(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }

BoxXywh row4(const std::vector<double>& v, size_t i) {
  return {v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]};
}

// A simple oracle: the bitmap from the RLE pixel by pixel, row-major.
std::vector<uint8_t> decode_slow(const Rle& r) {
  std::vector<uint8_t> out(static_cast<size_t>(r.height * r.width), 0);
  int64_t pos = 0;
  for (size_t i = 0; i < r.counts.size(); ++i)
    for (uint32_t k = 0; k < r.counts[i]; ++k, ++pos)
      out[static_cast<size_t>((pos % r.height) * r.width + pos / r.height)] = i % 2;
  return out;
}

Tensor bitmap(int64_t h, int64_t w, const std::vector<uint8_t>& values) {
  Tensor t = Tensor::empty({h, w}, DType::u8);
  std::copy(values.begin(), values.end(), t.data<uint8_t>());
  return t;
}

} // namespace

TEST_SUITE_BEGIN("masks");

TEST_CASE("polygons rasterise as pycocotools: counts, strings, area, bbox") {
  const auto sizes = test::to_vector<int64_t>(get("poly.size"));
  const auto areas = test::to_vector<int64_t>(get("poly.area"));
  const auto bboxes = test::to_vector<double>(get("poly.bbox"));
  const size_t n = ragged_size("poly.coords");
  REQUIRE(n > 100);
  for (size_t i = 0; i < n; ++i) {
    CAPTURE(i);
    const Rle r =
        rle_from_polygon(ragged<double>("poly.coords", i), sizes[2 * i], sizes[2 * i + 1]);
    CHECK(r.counts == as_counts(ragged<int64_t>("poly.counts", i)));
    CHECK(rle_to_string(r) == ragged_string("poly.str", i));
    CHECK(rle_area(r) == static_cast<uint64_t>(areas[i]));
    CHECK(rle_to_bbox(r) == row4(bboxes, i));
  }
}

TEST_CASE("bitmaps encode as pycocotools; strings decode back; decode inverts encode") {
  const Tensor masks = get("bits.masks");
  const auto areas = test::to_vector<int64_t>(get("bits.area"));
  const auto bboxes = test::to_vector<double>(get("bits.bbox"));
  const int64_t h = masks.size(1), w = masks.size(2);
  for (int64_t i = 0; i < masks.size(0); ++i) {
    CAPTURE(i);
    const Tensor m = masks.as_strided({h, w}, {w, 1}, i * h * w);
    const Rle r = rle_encode(m);
    const auto idx = static_cast<size_t>(i);
    CHECK(r.counts == as_counts(ragged<int64_t>("bits.counts", idx)));
    const std::string s = ragged_string("bits.str", idx);
    CHECK(rle_to_string(r) == s);
    CHECK(rle_from_string(s, h, w) == r);
    CHECK(rle_area(r) == static_cast<uint64_t>(areas[idx]));
    CHECK(rle_to_bbox(r) == row4(bboxes, idx));
    test::check_equal(rle_decode(r), m);
  }
}

TEST_CASE("boxes rasterise as pycocotools frBbox") {
  const auto size = test::to_vector<int64_t>(get("box.size"));
  const auto boxes = test::to_vector<double>(get("box.box"));
  for (size_t i = 0; i < ragged_size("box.str"); ++i) {
    CAPTURE(i);
    CHECK(rle_to_string(rle_from_box(row4(boxes, i), size[0], size[1])) ==
          ragged_string("box.str", i));
  }
}

TEST_CASE("merge (union, intersection) and iou as pycocotools") {
  const auto sizes = test::to_vector<int64_t>(get("poly.size"));
  auto poly_rle = [&](int64_t i) {
    const auto k = static_cast<size_t>(i);
    return rle_from_polygon(ragged<double>("poly.coords", k), sizes[2 * k], sizes[2 * k + 1]);
  };
  const size_t n_merge = ragged_size("merge.sets");
  REQUIRE(n_merge > 10);
  for (size_t i = 0; i < n_merge; ++i) {
    CAPTURE(i);
    std::vector<Rle> rles;
    std::vector<Polygon> polys;
    for (int64_t p : ragged<int64_t>("merge.sets", i)) {
      rles.push_back(poly_rle(p));
      polys.push_back(ragged<double>("poly.coords", static_cast<size_t>(p)));
    }
    const Rle uni = rle_merge(rles);
    CHECK(rle_to_string(uni) == ragged_string("merge.union", i));
    CHECK(rle_to_string(rle_merge(rles, true)) == ragged_string("merge.inter", i));
    CHECK(rle_from_polygons(polys, rles[0].height, rles[0].width) == uni);
  }
  const size_t n_iou = ragged_size("iou.dt");
  REQUIRE(n_iou > 5);
  bool saw_partial = false;
  for (size_t i = 0; i < n_iou; ++i) {
    CAPTURE(i);
    std::vector<Rle> dt, gt;
    for (int64_t p : ragged<int64_t>("iou.dt", i)) dt.push_back(poly_rle(p));
    for (int64_t p : ragged<int64_t>("iou.gt", i)) gt.push_back(poly_rle(p));
    std::vector<bool> crowd;
    for (int64_t c : ragged<int64_t>("iou.crowd", i)) crowd.push_back(c != 0);
    const auto expected = ragged<double>("iou.out", i);
    const auto got = rle_iou(dt, gt, crowd);
    CHECK(got == expected); // same integer counts, same one division
    for (double e : expected) saw_partial |= e > 0 && e < 1;
  }
  CHECK(saw_partial);
}

TEST_CASE("box iou as pycocotools bbIou") {
  auto boxes = [](const std::string& name) {
    const auto v = test::to_vector<double>(get(name));
    std::vector<BoxXywh> out;
    for (size_t i = 0; i < v.size() / 4; ++i) out.push_back(row4(v, i));
    return out;
  };
  std::vector<bool> crowd;
  for (int64_t c : test::to_vector<int64_t>(get("boxiou.crowd"))) crowd.push_back(c != 0);
  const auto got = box_iou(boxes("boxiou.dt"), boxes("boxiou.gt"), crowd);
  const auto expected = test::to_vector<double>(get("boxiou.out"));
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == expected[i]);
  }
}

TEST_CASE("hand-worked cases") {
  // A 3x2 mask, column-major: column 0 = (0, 1, 1), column 1 = (1, 0, 0).
  const Tensor m = bitmap(3, 2, {0, 1, 1, 0, 1, 0});
  const Rle r = rle_encode(m);
  CHECK(r.counts == std::vector<uint32_t>{1, 3, 2});
  CHECK(rle_area(r) == 3);
  // The 1s run crosses from column 0 to column 1: pycocotools makes the box full height.
  CHECK(rle_to_bbox(r) == BoxXywh{0, 0, 2, 3});
  // A leading 1 gives an empty first run; strings: 0 -> '0', 1 -> '1', 3 -> '3'.
  const Rle first = rle_encode(bitmap(2, 2, {1, 0, 0, 0}));
  CHECK(first.counts == std::vector<uint32_t>{0, 1, 3});
  CHECK(rle_to_string(first) == "013");
  // 40 = 0b01_01000 -> groups 8 | 0x20 (more) and 1: "X1". From the fourth count on, the
  // delta to the count two before is written: 5 - 40 = -35 -> low group 29 | 0x20 ('m'), then
  // -2 as 0x1e ('N', bit 4 set: negative, no more groups).
  const Rle big{1, 50, {3, 40, 2, 5}};
  CHECK(rle_to_string(big) == "3X12mN");
  CHECK(rle_from_string("3X12mN", 1, 50) == big);
  // Polygon: the square with corners on pixel corners (1, 1)-(3, 3) covers pixels 1..2 x 1..2.
  const Rle sq = rle_from_polygon(std::vector<double>{1, 1, 3, 1, 3, 3, 1, 3}, 4, 4);
  CHECK(decode_slow(sq) == std::vector<uint8_t>{0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0});
  // An empty mask: one run of zeros; its box is all zeros.
  const Rle empty = rle_encode(bitmap(2, 3, {0, 0, 0, 0, 0, 0}));
  CHECK(empty.counts == std::vector<uint32_t>{6});
  CHECK(rle_to_bbox(empty) == BoxXywh{0, 0, 0, 0});
  CHECK(rle_from_polygons({}, 2, 3) == empty);
}

TEST_CASE("round trips on random masks, strided input, decode oracle") {
  std::mt19937 gen(5);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t h = 1 + trial % 7, w = 1 + (trial * 3) % 11;
    std::vector<uint8_t> v(static_cast<size_t>(h * w));
    const double p = (trial % 5) / 4.0;
    for (auto& x : v) x = std::bernoulli_distribution(p)(gen) ? (trial % 2 ? 1 : 255) : 0;
    const Tensor m = bitmap(h, w, v);
    const Rle r = rle_encode(m);
    const Rle rs = rle_encode(test::noncontiguous(m));
    CHECK(rs == r);
    check_rle(r, "test");
    std::vector<uint8_t> bin(v.size());
    for (size_t i = 0; i < v.size(); ++i) bin[i] = v[i] != 0;
    CHECK(decode_slow(r) == bin);
    CHECK(test::to_vector<int64_t>(rle_decode(r)) == std::vector<int64_t>(bin.begin(), bin.end()));
    CHECK(rle_from_string(rle_to_string(r), h, w) == r);
    // Canonical: no empty run but the first.
    for (size_t i = 1; i < r.counts.size(); ++i) CHECK(r.counts[i] > 0);
  }
  // A b8 mask encodes like u8.
  Tensor b = Tensor::empty({2, 2}, DType::b8);
  bool* bp = b.data<bool>();
  bp[0] = false, bp[1] = true, bp[2] = true, bp[3] = false;
  CHECK(rle_encode(b).counts == std::vector<uint32_t>{1, 2, 1});
}

TEST_CASE("bad inputs give clear errors") {
  CHECK_THROWS_WITH_ALL(rle_from_polygon(std::vector<double>{1, 2, 3}, 4, 4), "rle_from_polygon",
                        "odd number of coordinates (3)");
  CHECK_THROWS_WITH_ALL(rle_from_polygon(std::vector<double>{}, 4, 4), "no points");
  CHECK_THROWS_WITH_ALL(rle_from_polygon(std::vector<double>{1, 1, 2, 2}, -1, 4),
                        "mask size -1x4 is negative");
  CHECK_THROWS_WITH_ALL(rle_from_polygon(std::vector<double>{1e12, 1, 2, 2}, 4, 4), "out of range");
  CHECK_THROWS_WITH_ALL(rle_decode(Rle{2, 2, {1, 2}}), "rle_decode",
                        "counts sum to 3 but the mask 2x2 has 4 pixels");
  CHECK_THROWS_WITH_ALL(rle_merge({}), "rle_merge: no masks");
  CHECK_THROWS_WITH_ALL(rle_merge({Rle{2, 2, {4}}, Rle{1, 4, {4}}}),
                        "masks of different sizes 2x2 and 1x4");
  CHECK_THROWS_WITH_ALL(rle_iou({Rle{2, 2, {0, 4}}}, {Rle{1, 4, {0, 4}}}, {}),
                        "rle_iou: masks of different sizes");
  CHECK_THROWS_WITH_ALL(rle_iou({Rle{2, 2, {0, 4}}}, {Rle{2, 2, {0, 4}}}, {true, false}),
                        "2 iscrowd flags for 1 ground truths");
  CHECK_THROWS_WITH_ALL(rle_from_string("1X", 2, 2), "string ends inside the count");
  CHECK_THROWS_WITH_ALL(rle_from_string("1~", 2, 2), "character 1 ('~') is outside");
  CHECK_THROWS_WITH_ALL(rle_from_string("13", 2, 3), "counts sum to 4 but the mask 2x3");
  CHECK_THROWS_WITH_ALL(rle_from_string("111N", 2, 3), "count 3 decodes to -1");
  CHECK_THROWS_WITH_ALL(rle_encode(Tensor::empty({2, 2, 1}, DType::u8)),
                        "mask must be (H, W), got [2, 2, 1]");
  CHECK_THROWS_WITH_ALL(rle_encode(Tensor::empty({2, 2}, DType::f32)), "must be u8 or b8, got f32");
}

TEST_SUITE_END();
