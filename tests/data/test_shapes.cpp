// The synthetic shapes dataset (data/shapes.h) and the drawing helpers it and browse-dataset use
// (data/draw.h); then, on files make_shapes writes, the COCO glue of the loader (data/loader.h):
// load_coco_sample, CocoSampleDataset through the train pipeline, and corrupt-image handling.
#include "data/shapes.h"

#include "data/coco.h"
#include "data/draw.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "ops/copy.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

using namespace splat;
using namespace splat::data;
using splat::test::to_vector;

namespace {

ShapesOptions tiny(uint64_t seed = 3) {
  return {.train = 6, .val = 3, .min_size = 32, .max_size = 72, .seed = seed, .categories = 4};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint8_t* pixel(const Tensor& img, int64_t y, int64_t x) {
  return img.data<uint8_t>() + (y * img.size(1) + x) * 3;
}

int64_t count_color(const Tensor& img, Rgb c) {
  int64_t n = 0;
  for (int64_t y = 0; y < img.size(0); ++y)
    for (int64_t x = 0; x < img.size(1); ++x) {
      const uint8_t* p = pixel(img, y, x);
      n += p[0] == c.r && p[1] == c.g && p[2] == c.b;
    }
  return n;
}

// A shapes dataset of `train` training images (and no val) in a temp dir, loaded back.
struct ShapesOnDisk {
  test::TempDir dir{"splat_shapes"};
  std::shared_ptr<const CocoDataset> coco;
  ShapesOnDisk(uint64_t seed, int64_t train) {
    ShapesOptions o = tiny(seed);
    o.train = train;
    o.val = 0;
    make_shapes(dir.path(), o);
    coco = std::make_shared<const CocoDataset>(
        CocoDataset::load(dir.path("annotations/instances_train.json")));
  }
  std::string images(const std::string& file = "") const {
    return dir.path(file.empty() ? "train" : "train/" + file);
  }
};

Tensor blank(int64_t h, int64_t w) {
  Tensor t = Tensor::empty({h, w, 3}, DType::u8);
  std::fill_n(t.data<uint8_t>(), t.numel(), uint8_t{0});
  return t;
}

} // namespace

// ---- Drawing ------------------------------------------------------------------------------------

TEST_CASE("draw_box: outline of the pixel rectangle, clipped to the image") {
  const Tensor img = blank(10, 12);
  const Rgb red{255, 0, 0};
  draw_box(img, 2, 3, 7, 8, red); // pixels x 2..6, y 3..7
  for (int64_t y = 0; y < 10; ++y)
    for (int64_t x = 0; x < 12; ++x) {
      const bool inside = x >= 2 && x <= 6 && y >= 3 && y <= 7;
      const bool edge = inside && (x == 2 || x == 6 || y == 3 || y == 7);
      CAPTURE(x);
      CAPTURE(y);
      CHECK((pixel(img, y, x)[0] == 255) == edge);
    }
  const Tensor big = blank(6, 6);
  draw_box(big, -5, -5, 100, 100, red, 2); // entirely clipped: nothing inside is an edge
  CHECK(count_color(big, red) == 0);
  draw_box(big, -5, 1, 100, 4, red, 1); // rows 1 and 3 across the image
  CHECK(count_color(big, red) == 12);
  CHECK_THROWS_WITH_ALL(draw_box(img, 0, 0, 1, 1, red, 0), "thickness");
  CHECK_THROWS_WITH_ALL(draw_box(Tensor::empty({4, 4}, DType::u8), 0, 0, 1, 1, red), "draw_box",
                        "(H, W, 3)", "[4, 4]");
}

TEST_CASE("blend_mask: weighted blend where the mask is set") {
  const Tensor img = blank(2, 3);
  for (int64_t i = 0; i < img.numel(); ++i) img.data<uint8_t>()[i] = 100;
  Tensor mask = Tensor::empty({2, 3}, DType::u8);
  const uint8_t m[6] = {0, 1, 0, 0, 0, 7};
  std::copy(m, m + 6, mask.data<uint8_t>());
  blend_mask(img, mask, {200, 0, 50}, 0.25);
  CHECK(pixel(img, 0, 0)[0] == 100);
  CHECK(pixel(img, 0, 1)[0] == 125); // 0.75 * 100 + 0.25 * 200
  CHECK(pixel(img, 0, 1)[1] == 75);
  CHECK(pixel(img, 1, 2)[2] == 88); // 87.5 rounds up
  CHECK_THROWS_WITH_ALL(blend_mask(img, Tensor::empty({3, 2}, DType::u8), {}, 0.5), "[3, 2]",
                        "[2, 3, 3]");
  CHECK_THROWS_WITH_ALL(blend_mask(img, mask, {}, 1.5), "alpha");
}

TEST_CASE("draw_text: glyph pixels on a background box") {
  const Tensor img = blank(12, 20);
  const Rgb white{255, 255, 255}, grey{9, 9, 9};
  CHECK(text_width("IL", 1) == 12);
  CHECK(text_height(2) == 16);
  draw_text(img, 1, 1, "il", white, grey); // lower case draws upper case
  // 'I' is a top bar of three (cols 1-3), a stem (col 2) and a bottom bar; 'L' a stem (col 0)
  // and a bottom bar of five. Glyphs sit one pixel inside their 6x8 cells.
  const int64_t ox = 2, oy = 2;
  int64_t lit = 0;
  for (int64_t y = 0; y < 12; ++y)
    for (int64_t x = 0; x < 20; ++x) lit += pixel(img, y, x)[0] == 255;
  CHECK(lit == (3 + 5 + 3) + (6 + 5));
  CHECK(pixel(img, oy, ox + 1)[0] == 255);     // I top bar
  CHECK(pixel(img, oy + 3, ox + 2)[0] == 255); // I stem
  CHECK(pixel(img, oy + 3, ox + 1)[0] == 9);   // background beside the stem
  CHECK(pixel(img, oy + 6, ox + 6)[0] == 255); // L bottom bar starts the second cell
  CHECK(pixel(img, 0, 0)[0] == 0);             // outside the text box
  CHECK(count_color(img, grey) == 12 * 8 - lit);
  // Unknown characters draw as '?', clipped text does not crash.
  const Tensor a = blank(8, 6), b = blank(8, 6);
  draw_text(a, 0, 0, "~", white, grey);
  draw_text(b, 0, 0, "?", white, grey);
  CHECK(to_vector<int>(a) == to_vector<int>(b));
  draw_text(a, 4, 5, "WIDE TEXT", white, grey, 3);
}

TEST_CASE("render_sample: de-normalised image with masks, boxes and label tags") {
  const Normalization norm = kResNeStNormalization;
  Sample s;
  s.image = Tensor::empty({3, 40, 50}, DType::f32);
  std::fill_n(s.image.data<float>(), s.image.numel(), 0.0f); // the mean colour everywhere
  s.image.data<float>()[1 * 2000 + 39 * 50 + 49] = 1.0f;     // green of the last pixel: +1 std
  s.target.boxes = Tensor::empty({1, 4}, DType::f32);
  const float box[4] = {10, 20, 30, 35};
  std::copy(box, box + 4, s.target.boxes.data<float>());
  s.target.labels = Tensor::empty({1}, DType::i64);
  s.target.labels.data<int64_t>()[0] = 1;
  s.target.masks = Tensor::empty({1, 40, 50}, DType::u8); // the mask: one pixel at (25, 15)
  std::fill_n(s.target.masks.data<uint8_t>(), 2000, uint8_t{0});
  s.target.masks.data<uint8_t>()[25 * 50 + 15] = 1;
  s.target.ignore_boxes = Tensor::empty({0, 4}, DType::f32);

  const Tensor img = render_sample(s, {"zero", "one"}, norm);
  REQUIRE(img.shape() == Shape{40, 50, 3});
  const auto mean = [&](int c) { return static_cast<int>(std::lround(norm.mean[c])); };
  CHECK(pixel(img, 2, 45)[0] == mean(0));
  CHECK(pixel(img, 2, 45)[2] == mean(2));
  CHECK(pixel(img, 39, 49)[1] == static_cast<int>(std::lround(norm.mean[1] + norm.std[1])));
  const Rgb c = palette_color(0);
  CHECK(pixel(img, 34, 10)[0] == c.r);     // bottom-left corner of the box outline
  CHECK(pixel(img, 27, 29)[2] == c.b);     // right edge
  CHECK(pixel(img, 27, 20)[0] == mean(0)); // inside the box, off the mask
  const uint8_t* m = pixel(img, 25, 15);   // the masked pixel is blended towards the colour
  CHECK(m[0] == static_cast<int>(std::lround(0.55 * mean(0) + 0.45 * c.r)));
  // The tag "ONE" sits on a box of the colour just above the outline.
  CHECK(pixel(img, 20 - text_height(), 10)[0] == c.r);
  CHECK(count_color(img, {255, 255, 255}) > 10); // glyph pixels
  s.image = Tensor::empty({40, 50, 3}, DType::u8);
  CHECK_THROWS_WITH_ALL(render_sample(s, {}, norm), "render_sample", "(3, H, W) f32");
}

TEST_CASE("draw_detections: class-coloured boxes tagged with name and score, best on top") {
  Tensor img = Tensor::empty({60, 80, 3}, DType::u8);
  std::fill_n(img.data<uint8_t>(), img.numel(), uint8_t{0});
  // Two overlapping boxes sharing their left edge x = 10; the second scores higher.
  const Tensor boxes = ops::from_vector<float>({10, 20, 40, 50, 10, 25, 60, 45}, {2, 4});
  const Tensor labels = ops::from_vector<int64_t>({0, 2}, {2});
  const Tensor scores = ops::from_vector<float>({0.4f, 0.9f}, {2});
  const Tensor out = draw_detections(img, boxes, labels, scores, {"zero", "one", "two"});
  REQUIRE(out.shape() == Shape{60, 80, 3});
  CHECK(count_color(img, {0, 0, 0}) == 60 * 80); // the input is left alone
  const Rgb low = palette_color(0), high = palette_color(2);
  CHECK(pixel(out, 49, 30)[0] == low.r);  // bottom edge of the first box only (2 px thick)
  CHECK(pixel(out, 48, 30)[1] == low.g);
  CHECK(pixel(out, 47, 30)[0] == 0);      // inside it
  CHECK(pixel(out, 35, 59)[2] == high.b); // right edge of the second box
  CHECK(pixel(out, 30, 10)[0] == high.r); // the shared edge: the more confident box is on top
  CHECK(pixel(out, 30, 10)[1] == high.g);
  CHECK(count_color(out, {255, 255, 255}) > 20); // the glyphs of "ZERO 0.40" and "TWO 0.90"
  // No detections: an unchanged copy.
  const Tensor none = draw_detections(img, Tensor::empty({0, 4}, DType::f32),
                                      Tensor::empty({0}, DType::i64), Tensor::empty({0}, DType::f32), {});
  CHECK(count_color(none, {0, 0, 0}) == 60 * 80);
  CHECK_THROWS_WITH_ALL(draw_detections(img, boxes, labels, ops::from_vector<float>({0.5f}, {1}), {}),
                        "draw_detections", "[1]", "K detections");

  // Masks: blended in the box's colour, translucent, under the boxes.
  Tensor masks = Tensor::empty({2, 60, 80}, DType::u8);
  std::fill_n(masks.data<uint8_t>(), masks.numel(), uint8_t{0});
  masks.data<uint8_t>()[30 * 80 + 20] = 1;          // first detection, inside its box
  masks.data<uint8_t>()[60 * 80 + 35 * 80 + 50] = 1; // second detection
  const Tensor with = draw_detections(img, boxes, labels, scores, {}, ops::to(masks, DType::b8));
  const auto blended = [](uint8_t c) { return static_cast<uint8_t>(std::lround(0.45 * c)); };
  CHECK(pixel(with, 30, 20)[0] == blended(low.r));
  CHECK(pixel(with, 30, 20)[1] == blended(low.g));
  CHECK(pixel(with, 35, 50)[2] == blended(high.b));
  CHECK(pixel(with, 31, 20)[0] == 0); // outside the masks
  CHECK(pixel(with, 30, 10)[0] == high.r); // boxes are drawn over the masks
  CHECK_THROWS_WITH_ALL(draw_detections(img, boxes, labels, scores, {}, Tensor::empty({1, 60, 80}, DType::u8)),
                        "draw_detections: masks", "(2, 60, 80)");
}

TEST_CASE("palette_color: distinct neighbours, cyclic") {
  for (int64_t i = 0; i < 20; ++i) CHECK(!(palette_color(i) == palette_color(i + 1)));
  CHECK(palette_color(3) == palette_color(23));
  CHECK(palette_color(-1) == palette_color(19));
}

// ---- Generation ---------------------------------------------------------------------------------

TEST_CASE("generate_shapes_image: deterministic, annotations consistent with masks and pixels") {
  const ShapesOptions o = tiny();
  int crowds = 0, objects = 0;
  std::set<int64_t> categories, heights, widths;
  for (int64_t index = 0; index < 40; ++index) {
    CAPTURE(index);
    const ShapesImage s = generate_shapes_image(o, 0, index);
    const int64_t h = s.image.size(0), w = s.image.size(1);
    heights.insert(h);
    widths.insert(w);
    CHECK((h >= o.min_size && h <= o.max_size && w >= o.min_size && w <= o.max_size));
    REQUIRE(!s.objects.empty());
    std::vector<Tensor> masks;
    for (const ShapeObject& obj : s.objects) {
      categories.insert(obj.category_id);
      CHECK((obj.category_id >= 1 && obj.category_id <= o.categories));
      if (obj.iscrowd) {
        ++crowds;
        CHECK(obj.polygon.empty());
      } else {
        ++objects;
        CHECK(obj.rle == rle_from_polygon(obj.polygon, h, w));
        // Written with two decimals: the values are already those decimals.
        for (double v : obj.polygon) CHECK(std::round(v * 100) / 100 == v);
      }
      CHECK(obj.rle.height == h);
      CHECK(obj.rle.width == w);
      CHECK(obj.area == rle_area(obj.rle));
      CHECK(obj.area >= 24);
      const BoxXywh box = rle_to_bbox(obj.rle);
      for (int k = 0; k < 4; ++k) CHECK(obj.bbox[k] == box[k]);
      CHECK((box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= w && box[1] + box[3] <= h));
      masks.push_back(rle_decode(obj.rle));
    }
    // Occlusion stays partial, and each object's visible pixels carry one colour.
    for (size_t i = 0; i < masks.size(); ++i) {
      const auto mi = to_vector<int>(masks[i]);
      std::vector<int> visible = mi;
      for (size_t j = i + 1; j < masks.size(); ++j) {
        const auto mj = to_vector<int>(masks[j]);
        int64_t both = 0;
        for (size_t p = 0; p < mi.size(); ++p) {
          both += mi[p] && mj[p];
          if (mj[p]) visible[p] = 0;
        }
        CHECK(static_cast<double>(both) <= 0.4 * static_cast<double>(s.objects[i].area));
      }
      std::set<std::array<uint8_t, 3>> colours;
      for (size_t p = 0; p < visible.size(); ++p)
        if (visible[p]) {
          const uint8_t* px = s.image.data<uint8_t>() + p * 3;
          colours.insert({px[0], px[1], px[2]});
        }
      CHECK(colours.size() == 1);
    }
  }
  CHECK(crowds > 0);
  CHECK(objects > 2 * 40);
  CHECK(categories.size() == static_cast<size_t>(o.categories));
  CHECK(heights.size() > 10);
  CHECK(widths.size() > 10);

  const ShapesImage a = generate_shapes_image(o, 1, 5), b = generate_shapes_image(o, 1, 5);
  CHECK(to_vector<int>(a.image) == to_vector<int>(b.image));
  REQUIRE(a.objects.size() == b.objects.size());
  for (size_t i = 0; i < a.objects.size(); ++i) CHECK(a.objects[i].rle == b.objects[i].rle);
  const ShapesImage c = generate_shapes_image(tiny(4), 1, 5), d = generate_shapes_image(o, 0, 5);
  CHECK(to_vector<int>(a.image) != to_vector<int>(c.image));
  CHECK(to_vector<int>(a.image) != to_vector<int>(d.image));
}

TEST_CASE("generate_shapes_image: object sizes in pixels, more occlusion, pixel noise") {
  // The demo's harder set: 192-320 px images, shapes 10-180 px long, half an object may be hidden.
  ShapesOptions o{.min_size = 192, .max_size = 320, .seed = 5, .categories = 5};
  o.min_object = 10, o.max_object = 180, o.max_occlusion = 0.5, o.overlap_prob = 0.4;
  int64_t small = 0, large = 0, n = 0;
  double worst_occlusion = 0;
  for (int64_t index = 0; index < 60; ++index) {
    const ShapesImage s = generate_shapes_image(o, 0, index);
    std::vector<Tensor> masks;
    for (const ShapeObject& obj : s.objects) {
      if (obj.iscrowd) continue;
      const double side = std::max(obj.bbox[2], obj.bbox[3]);
      // A rotated outline's box is at most sqrt(2) times the unrotated longer side.
      CHECK(side <= 180 * std::sqrt(2.0) + 1);
      small += side < 32, large += side > 96, ++n;
      masks.push_back(rle_decode(obj.rle));
    }
    for (size_t i = 0; i < masks.size(); ++i)
      for (size_t j = i + 1; j < masks.size(); ++j) {
        const auto mi = to_vector<int>(masks[i]), mj = to_vector<int>(masks[j]);
        int64_t both = 0, area = 0;
        for (size_t p = 0; p < mi.size(); ++p) both += mi[p] && mj[p], area += mi[p];
        worst_occlusion = std::max(worst_occlusion, static_cast<double>(both) / static_cast<double>(area));
      }
  }
  // Log-uniform sizes: small and large shapes both common; overlap_prob makes occlusion past the
  // default 0.4 occur.
  CHECK(small > n / 5);
  CHECK(large > n / 10);
  CHECK(worst_occlusion > 0.4);
  CHECK(worst_occlusion <= 0.5);

  // Uniform lengths instead: most shapes large, few small (a uniform draw in 10-180 px is under 32
  // px 13% of the time; log-uniform, 41%).
  ShapesOptions uniform = o;
  uniform.object_sizes = ShapesOptions::Sizes::uniform;
  int64_t u_small = 0, u_large = 0, u_n = 0;
  for (int64_t index = 0; index < 60; ++index)
    for (const ShapeObject& obj : generate_shapes_image(uniform, 0, index).objects) {
      if (obj.iscrowd) continue;
      const double side = std::max(obj.bbox[2], obj.bbox[3]);
      u_small += side < 32, u_large += side > 96, ++u_n;
    }
  CHECK(u_small < u_n / 4);
  CHECK(u_large > u_n / 4);
  CHECK(static_cast<double>(u_small) / static_cast<double>(u_n) < static_cast<double>(small) / static_cast<double>(n) / 2);

  // Noise moves pixels by about sigma and leaves the annotations as they were.
  ShapesOptions noisy = o;
  noisy.noise = 12;
  const ShapesImage clean = generate_shapes_image(o, 1, 3), grainy = generate_shapes_image(noisy, 1, 3);
  REQUIRE(clean.objects.size() == grainy.objects.size());
  for (size_t i = 0; i < clean.objects.size(); ++i) CHECK(clean.objects[i].rle == grainy.objects[i].rle);
  const auto a = to_vector<double>(clean.image), b = to_vector<double>(grainy.image);
  double sq = 0;
  for (size_t i = 0; i < a.size(); ++i) sq += (a[i] - b[i]) * (a[i] - b[i]);
  const double rms = std::sqrt(sq / static_cast<double>(a.size()));
  CHECK(rms > 9);
  CHECK(rms < 13);
}

namespace {
// The hue in [0, 1) of an RGB colour (the inverse of shapes.cpp's hsv for saturated colours).
double hue_of(const uint8_t* px) {
  const double r = px[0], g = px[1], b = px[2];
  const double hi = std::max({r, g, b}), c = hi - std::min({r, g, b});
  const double h = hi == r ? std::fmod((g - b) / c + 6, 6.0) : hi == g ? (b - r) / c + 2 : (r - g) / c + 4;
  return h / 6;
}
} // namespace

TEST_CASE("generate_shapes_image: colors = by_kind gives each category its own hue band") {
  ShapesOptions o{.min_size = 96, .max_size = 160, .seed = 3, .categories = 5};
  ShapesOptions by_kind = o;
  by_kind.colors = ShapesOptions::Colors::by_kind;
  int64_t checked = 0, random_outside = 0;
  for (int64_t index = 0; index < 40; ++index) {
    const ShapesImage a = generate_shapes_image(o, 0, index), b = generate_shapes_image(by_kind, 0, index);
    // The same geometry: only the colours differ.
    REQUIRE(a.objects.size() == b.objects.size());
    for (size_t i = 0; i < a.objects.size(); ++i) CHECK(a.objects[i].rle == b.objects[i].rle);
    // A pixel of each object that no later one covers (no noise, so it is the shape's colour).
    std::vector<std::vector<int>> masks;
    for (const ShapeObject& obj : b.objects) masks.push_back(to_vector<int>(rle_decode(obj.rle)));
    for (size_t i = 0; i < masks.size(); ++i) {
      size_t p = 0;
      auto covered_later = [&](size_t q) {
        for (size_t j = i + 1; j < masks.size(); ++j)
          if (masks[j][q]) return true;
        return false;
      };
      while (p < masks[i].size() && (!masks[i][p] || covered_later(p))) ++p;
      if (p == masks[i].size()) continue;
      // Hue k's band is [(k + 0.25) / 5, (k + 0.75) / 5]; rounding to bytes moves it a little.
      const double k = static_cast<double>(b.objects[i].category_id - 1);
      const double hb = hue_of(b.image.data<uint8_t>() + p * 3), ha = hue_of(a.image.data<uint8_t>() + p * 3);
      CHECK(hb >= (k + 0.25) / 5 - 0.01);
      CHECK(hb <= (k + 0.75) / 5 + 0.01);
      random_outside += ha < (k + 0.2) / 5 || ha > (k + 0.8) / 5;
      ++checked;
    }
  }
  CHECK(checked > 100);
  // With random colours most shapes are outside their category's band.
  CHECK(random_outside > checked / 2);
}

TEST_CASE("shapes options: invalid values are errors") {
  ShapesOptions o = tiny();
  o.categories = 2;
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "categories", "[3, 10]", "got 2");
  o = tiny();
  o.min_size = 80;
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "min_size 80", "max_size 72");
  o = tiny();
  o.min_object = 20;
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "min_object 20", "max_object 0");
  o.max_object = 10;
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "min_object 20", "max_object 10");
  o = tiny();
  o.max_occlusion = 1;
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "max_occlusion", "[0, 1)");
  o = tiny();
  o.noise = -1;
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "noise", "got -1");
  o = tiny();
  o.overlap_prob = 2;
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "overlap_prob", "got 2");
  o = tiny();
  o.train = -1;
  test::TempDir dir("splat_shapes");
  CHECK_THROWS_WITH_ALL(make_shapes(dir.path(), o), "train -1");
  CHECK(shape_category_names({.categories = 3}) == std::vector<std::string>{"rectangle", "ellipse", "triangle"});
  o = tiny();
  o.kinds = {"star", "cross", "ellipse"};
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "3 kinds named for 4 categories");
  o.categories = 3;
  o.kinds[1] = "circle";
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "unknown shape kind 'circle'", "known: rectangle");
  o.kinds[1] = "star";
  CHECK_THROWS_WITH_ALL(generate_shapes_image(o, 0, 0), "'star' is listed twice");
}

TEST_CASE("shapes kinds: named kinds are the categories, in order; the draws are those of the default set") {
  ShapesOptions o = tiny(7);
  o.categories = 3;
  o.kinds = {"star", "cross", "ellipse"};
  CHECK(shape_category_names(o) == o.kinds);
  // Each category draws its kind's outline: 10, 12 and 32 vertices.
  const size_t vertices[] = {10, 12, 32};
  ShapesOptions first3 = o;
  first3.kinds.clear();
  int64_t seen = 0;
  for (int64_t index = 0; index < 8; ++index) {
    const ShapesImage named = generate_shapes_image(o, 0, index), plain = generate_shapes_image(first3, 0, index);
    REQUIRE(named.objects.size() == plain.objects.size());
    for (size_t i = 0; i < named.objects.size(); ++i) {
      const ShapeObject& obj = named.objects[i];
      // The same random draws pick the categories: only the outlines differ.
      CHECK(obj.category_id == plain.objects[i].category_id);
      if (obj.iscrowd) continue;
      CHECK(obj.polygon.size() == 2 * vertices[obj.category_id - 1]);
      ++seen;
    }
  }
  CHECK(seen > 8);
}

// ---- make_shapes files, read back ---------------------------------------------------------------

TEST_CASE("make_shapes: the COCO reader loads what was generated") {
  test::TempDir dir("splat_shapes");
  const ShapesOptions o = tiny();
  make_shapes(dir.path(), o);
  for (auto [split, name, count] : {std::tuple{0, "train", o.train}, std::tuple{1, "val", o.val}}) {
    CAPTURE(name);
    const std::string json = dir.path(str("annotations/instances_", name, ".json"));
    const CocoDataset coco = CocoDataset::load(json);
    REQUIRE(coco.images().size() == static_cast<size_t>(count));
    REQUIRE(coco.categories().size() == static_cast<size_t>(o.categories));
    CHECK(coco.categories()[1].name == "ellipse");
    size_t total = 0;
    for (size_t i = 0; i < coco.images().size(); ++i) {
      const ShapesImage expected = generate_shapes_image(o, split, static_cast<int64_t>(i));
      const CocoImage& im = coco.images()[i];
      CHECK(im.height == expected.image.size(0));
      CHECK(im.width == expected.image.size(1));
      const Tensor decoded = read_image(dir.path(str(name, "/", im.file_name)));
      CHECK(decoded.shape() == expected.image.shape());
      const auto anns = coco.annotations_of(i);
      REQUIRE(anns.size() == expected.objects.size());
      total += anns.size();
      for (size_t k = 0; k < anns.size(); ++k) {
        const CocoAnnotation& a = coco.annotations()[anns[k]];
        const ShapeObject& e = expected.objects[k];
        CHECK(a.category_id == e.category_id);
        CHECK(a.iscrowd == e.iscrowd);
        CHECK(coco.rle(anns[k]) == e.rle); // polygons (or the RLE) as written reproduce the mask
        CHECK(a.area == static_cast<double>(rle_area(coco.rle(anns[k]))));
        const BoxXywh box = rle_to_bbox(coco.rle(anns[k]));
        for (int c = 0; c < 4; ++c) CHECK(a.bbox[c] == box[c]);
        CHECK(coco.segmentation(anns[k]).rle.has_value() == e.iscrowd);
      }
    }
    CHECK(total == coco.annotations().size());
  }
  // Crowd regions are uncompressed RLE (counts as a list).
  const std::string text = read_text(dir.path("annotations/instances_train.json")) +
                           read_text(dir.path("annotations/instances_val.json"));
  CHECK(text.find("\"iscrowd\": 1") != std::string::npos); // seed 3 makes some
  CHECK(text.find("\"counts\": [") != std::string::npos);
  // The same options write the same files.
  test::TempDir again("splat_shapes");
  make_shapes(again.path(), o);
  CHECK(read_text(again.path("annotations/instances_val.json")) ==
        read_text(dir.path("annotations/instances_val.json")));
  CHECK(read_text(again.path("val/000002.jpg")) == read_text(dir.path("val/000002.jpg")));
}

TEST_CASE("load_coco_sample: boxes, labels, masks and ignore boxes from the annotations") {
  const ShapesOnDisk disk(11, 24);
  const CocoDataset& coco = *disk.coco;
  int ignored = 0;
  for (size_t i = 0; i < coco.images().size(); ++i) {
    const Sample s = load_coco_sample(coco, i, disk.images(), MaskFormat::bitmaps);
    const CocoImage& im = coco.images()[i];
    CHECK(s.image.shape() == Shape{im.height, im.width, 3});
    CHECK(s.meta.file_name == im.file_name);
    CHECK(s.meta.image_id == im.id);
    CHECK((s.meta.ori_h == im.height && s.meta.ori_w == im.width));
    const auto boxes = to_vector<float>(s.target.boxes);
    const auto ignores = to_vector<float>(s.target.ignore_boxes);
    const auto labels = to_vector<int64_t>(s.target.labels);
    const auto masks = to_vector<int>(s.target.masks);
    size_t obj = 0, ign = 0;
    for (uint32_t a : coco.annotations_of(i)) {
      const CocoAnnotation& ann = coco.annotations()[a];
      const BoxXywh& b = ann.bbox;
      const float expected[4] = {static_cast<float>(b[0]), static_cast<float>(b[1]),
                                 static_cast<float>(b[0] + b[2]), static_cast<float>(b[1] + b[3])};
      if (ann.iscrowd) {
        for (int c = 0; c < 4; ++c) CHECK(ignores[ign * 4 + c] == expected[c]);
        ++ign;
        ++ignored;
        continue;
      }
      for (int c = 0; c < 4; ++c) CHECK(boxes[obj * 4 + c] == expected[c]);
      CHECK(labels[obj] == ann.category_id - 1); // shape ids are 1..K in order
      const auto m = to_vector<int>(rle_decode(coco.rle(a)));
      CHECK(std::equal(m.begin(), m.end(), masks.begin() + static_cast<long>(obj * m.size())));
      ++obj;
    }
    CHECK(s.target.boxes.shape() == Shape{static_cast<int64_t>(obj), 4});
    CHECK(s.target.masks.shape() == Shape{static_cast<int64_t>(obj), im.height, im.width});
    CHECK(s.target.ignore_boxes.shape() == Shape{static_cast<int64_t>(ign), 4});
    CHECK(!load_coco_sample(coco, i, disk.images(), MaskFormat::none).target.masks.defined());
  }
  CHECK(ignored > 0);
  CHECK_THROWS_WITH_ALL(load_coco_sample(coco, 99, disk.images(), MaskFormat::none), "image index 99");
  // The image on disk must have the annotated size.
  write_png(disk.images("000001.jpg"), blank(5, 7));
  CHECK_THROWS_WITH_ALL(load_coco_sample(coco, 0, disk.images(), MaskFormat::none), "000001.jpg", "5x7",
                        str(coco.images()[0].height, "x", coco.images()[0].width));
}

TEST_CASE("CocoSampleDataset + Loader: train pipeline batches identical for 1 and 4 workers") {
  const ShapesOnDisk disk(5, 10);
  const auto& coco = disk.coco;
  auto pipeline = std::make_shared<const TrainPipeline>(TrainPipelineConfig{
      .scales = {{96, 48}, {96, 64}}, .mode = MultiscaleMode::range, .flip_prob = 0.5});
  const CocoSampleDataset data(coco, disk.images(), training_images(*coco), pipeline, 7, MaskFormat::bitmaps);
  CHECK(data.describe(0) == disk.images("000001.jpg"));
  GroupedBatchSampler sampler(data.aspect_ratio_flags(), 2, 0, 1, 3);
  sampler.set_epoch(1);
  const auto batches = sampler.batches();
  std::vector<std::vector<Batch>> runs;
  for (int workers : {1, 4}) {
    Loader loader(data, batches, 1, {.workers = workers});
    runs.emplace_back();
    while (auto b = loader.next()) runs.back().push_back(std::move(*b));
  }
  REQUIRE(runs[0].size() == batches.size());
  REQUIRE(runs[1].size() == batches.size());
  for (size_t b = 0; b < batches.size(); ++b) {
    test::check_equal(runs[1][b].images, runs[0][b].images);
    for (size_t i = 0; i < runs[0][b].targets.size(); ++i) {
      test::check_equal(runs[1][b].targets[i].boxes, runs[0][b].targets[i].boxes);
      test::check_equal(runs[1][b].targets[i].masks, runs[0][b].targets[i].masks);
      CHECK(runs[1][b].metas[i].flipped == runs[0][b].metas[i].flipped);
    }
    // Aspect-ratio grouping reached the batch: all landscape or all portrait originals.
    const auto& m = runs[0][b].metas;
    CHECK((m[0].ori_w > m[0].ori_h) == (m[1].ori_w > m[1].ori_h));
  }
}

TEST_CASE("CocoSampleDataset + Loader: polygon masks ride the train pipeline like the bitmaps") {
  const ShapesOnDisk disk(5, 10);
  auto pipeline = std::make_shared<const TrainPipeline>(TrainPipelineConfig{
      .scales = {{96, 48}, {96, 64}}, .mode = MultiscaleMode::range, .flip_prob = 0.5});
  const std::vector<size_t> images = training_images(*disk.coco);
  const CocoSampleDataset polys(disk.coco, disk.images(), images, pipeline, 7, MaskFormat::polygons);
  const CocoSampleDataset bits(disk.coco, disk.images(), images, pipeline, 7, MaskFormat::bitmaps);
  GroupedBatchSampler sampler(polys.aspect_ratio_flags(), 2, 0, 1, 3);
  const auto batches = sampler.batches();
  // The polygons stay on the host while the loader moves the tensors to the device.
  Loader p_loader(polys, batches, 0, {.workers = 2, .device = test::cpu_and_cuda().back()});
  Loader b_loader(bits, batches, 0, {.workers = 2});
  size_t objects = 0, flipped = 0, set = 0, differ = 0;
  while (auto pb = p_loader.next()) {
    const auto bb = b_loader.next();
    REQUIRE(bb.has_value());
    for (size_t i = 0; i < pb->targets.size(); ++i) {
      const Target& pt = pb->targets[i];
      const Target& bt = bb->targets[i];
      REQUIRE(pt.polygons.has_value());
      CHECK(!pt.masks.defined());
      CHECK(pt.polygons->height == pb->metas[i].pad_h);
      CHECK(pt.polygons->width == pb->metas[i].pad_w);
      // Shapes objects all have polygons, so both formats keep the same objects.
      REQUIRE(static_cast<int64_t>(pt.polygons->instances.size()) == bt.masks.size(0));
      objects += pt.polygons->instances.size();
      flipped += pb->metas[i].flipped;
      const auto a = to_vector<uint8_t>(polygons_to_bitmaps(*pt.polygons));
      const auto b = to_vector<uint8_t>(bt.masks);
      REQUIRE(a.size() == b.size());
      const int64_t h = bt.masks.size(1), w = bt.masks.size(2);
      const auto r = static_cast<int64_t>(
          std::ceil(std::max(pb->metas[i].scale_w, pb->metas[i].scale_h)) + 1);
      for (size_t k = 0; k < a.size(); ++k) {
        set += b[k];
        const int64_t y = static_cast<int64_t>(k) % (h * w) / w, x = static_cast<int64_t>(k) % w;
        // Polygons reaching past the image are not cut at its edge, so they may cover padding
        // (as mmdet's; RoIs lie inside the image, so targets never see it).
        if (a[k] == b[k] || y >= pb->metas[i].img_h || x >= pb->metas[i].img_w) continue;
        ++differ;
        // A pixel the two disagree on lies on the bitmap's boundary: within r pixels the
        // bitmap holds the polygon's value (nearest resampling shifts edges by up to a source
        // pixel, scale pixels here, the rasteriser by up to one).
        const size_t plane = k - static_cast<size_t>(y * w + x);
        bool near = false;
        for (int64_t yy = std::max<int64_t>(y - r, 0); yy <= std::min(y + r, h - 1); ++yy)
          for (int64_t xx = std::max<int64_t>(x - r, 0); xx <= std::min(x + r, w - 1); ++xx)
            near = near || b[plane + static_cast<size_t>(yy * w + xx)] == a[k];
        CHECK_MESSAGE(near, "pixel (", y, ", ", x, ") of object ", plane / static_cast<size_t>(h * w),
                      " is off the boundary");
      }
    }
  }
  CHECK(objects > 10);
  CHECK(flipped > 0);
  CHECK(differ > 0); // the paths do differ on rims
  CHECK(differ < set);
}

TEST_CASE("CocoSampleDataset + Loader: a corrupt image is an error naming it, or skipped") {
  const ShapesOnDisk disk(6, 4);
  auto pipeline = std::make_shared<const TestPipeline>(TestPipelineConfig{.scale = {64, 48}});
  const CocoSampleDataset data(disk.coco, disk.images(), {0, 1, 2, 3}, pipeline, 0, MaskFormat::none);
  // Truncate image 3 to a third of its bytes.
  const std::string victim = disk.images("000003.jpg");
  const std::string bytes = read_text(victim);
  std::ofstream(victim, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 3);
  {
    Loader loader(data, {{0, 1}, {2, 3}}, 0, {.workers = 2});
    CHECK(loader.next().has_value());
    CHECK_THROWS_WITH_ALL(loader.next(), "sample 2", victim);
  }
  Loader loader(data, {{0, 1}, {2, 3}}, 0,
                {.workers = 2, .on_corrupt = OnCorrupt::skip_with_warning});
  CHECK(loader.next()->metas.size() == 2);
  const auto second = loader.next();
  REQUIRE(second.has_value());
  REQUIRE(second->metas.size() == 1);
  CHECK(second->metas[0].file_name == "000004.jpg");
  CHECK(loader.skipped() == 1);
}
