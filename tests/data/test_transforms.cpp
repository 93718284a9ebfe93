// Transforms and collate (data/transforms.h, data/batch.h): the keep-ratio size rule against an
// independent restatement and hand-checked values, bilinear resampling against hand-computed
// pixels and PyTorch (tests/fixtures/image_resize.safetensors, scripts/fixtures/image_resize.py),
// nearest mask resampling, box / mask consistency through resize, flip and pad, per-sample
// determinism of the pipelines, and collate's shapes and padding.
#include "data/batch.h"
#include "data/transforms.h"

#include "../helpers.h"
#include "core/safetensors.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <thread>

namespace splat::data {
namespace {

using splat::test::to_vector;

// A (h, w, c) u8 tensor from values in row-major order.
Tensor u8_tensor(Shape shape, const std::vector<int>& values) {
  Tensor t = Tensor::empty(std::move(shape), DType::u8);
  REQUIRE(static_cast<size_t>(t.numel()) == values.size());
  for (size_t i = 0; i < values.size(); ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
  return t;
}

Tensor boxes_tensor(const std::vector<std::array<float, 4>>& rows) {
  Tensor t = Tensor::empty({static_cast<int64_t>(rows.size()), 4}, DType::f32);
  for (size_t i = 0; i < rows.size(); ++i)
    for (int k = 0; k < 4; ++k) t.data<float>()[4 * i + k] = rows[i][k];
  return t;
}

// A (h, w, 3) u8 image with a deterministic pattern that differs between pixels and channels.
Tensor pattern_image(int64_t h, int64_t w) {
  Tensor t = Tensor::empty({h, w, 3}, DType::u8);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<uint8_t>()[i] = static_cast<uint8_t>((i * 37 + (i / 3) * 11) % 256);
  return t;
}

// A sample of h x w with one box per rectangle (x1, y1, x2, y2 in whole pixels) and the matching
// filled masks, labels 0..n-1, one ignore box.
Sample rect_sample(int64_t h, int64_t w, const std::vector<std::array<int64_t, 4>>& rects) {
  Sample s;
  s.image = pattern_image(h, w);
  const auto n = static_cast<int64_t>(rects.size());
  std::vector<std::array<float, 4>> boxes;
  s.target.labels = Tensor::empty({n}, DType::i64);
  s.target.masks = Tensor::empty({n, h, w}, DType::u8);
  uint8_t* m = s.target.masks.data<uint8_t>();
  for (int64_t k = 0; k < n; ++k) {
    const auto& r = rects[static_cast<size_t>(k)];
    boxes.push_back({static_cast<float>(r[0]), static_cast<float>(r[1]), static_cast<float>(r[2]),
                     static_cast<float>(r[3])});
    s.target.labels.data<int64_t>()[k] = k;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        m[(k * h + y) * w + x] = x >= r[0] && x < r[2] && y >= r[1] && y < r[3];
  }
  s.target.boxes = boxes_tensor(boxes);
  s.target.ignore_boxes = boxes_tensor({{0, 0, static_cast<float>(w) / 2, static_cast<float>(h)}});
  s.meta.file_name = "rect.jpg";
  s.meta.image_id = 7;
  return s;
}

// The box (x1, y1, x2, y2; x2 one past the last column) of mask k of (n, H, W) masks.
std::array<double, 4> mask_box(const Tensor& masks, int64_t k) {
  const int64_t h = masks.size(1), w = masks.size(2);
  const uint8_t* m = masks.data<uint8_t>() + k * h * w;
  int64_t x1 = w, y1 = h, x2 = 0, y2 = 0;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      if (m[y * w + x]) {
        x1 = std::min(x1, x), y1 = std::min(y1, y);
        x2 = std::max(x2, x + 1), y2 = std::max(y2, y + 1);
      }
  return {static_cast<double>(x1), static_cast<double>(y1), static_cast<double>(x2),
          static_cast<double>(y2)};
}

// Every box of the target agrees with its mask's box within tol pixels.
void check_boxes_match_masks(const Target& t, double tol) {
  const auto boxes = to_vector<double>(t.boxes);
  for (int64_t k = 0; k < t.boxes.size(0); ++k) {
    const auto mb = mask_box(t.masks, k);
    for (int i = 0; i < 4; ++i)
      CHECK_MESSAGE(std::fabs(boxes[4 * k + i] - mb[i]) <= tol, "object ", k, " coord ", i,
                    ": box ", boxes[4 * k + i], " mask ", mb[i]);
  }
}

// mmcv's rule in exact integer arithmetic: f = num / den is the smaller of long_edge / max(h, w)
// and short_edge / min(h, w), and a side s becomes floor(s * f + 1/2). `tie` reports whether
// s * f + 1/2 is exactly an integer for either side, where mmcv's double arithmetic may land
// just below it and round down.
struct ExactSize {
  int64_t h, w;
  bool tie;
};
ExactSize reference_size(int64_t h, int64_t w, int64_t long_edge, int64_t short_edge) {
  const int64_t lo = std::min(h, w), hi = std::max(h, w);
  const bool long_binds = long_edge * lo < short_edge * hi;
  const int64_t num = long_binds ? long_edge : short_edge, den = long_binds ? hi : lo;
  auto side = [&](int64_t s) { return (2 * s * num + den) / (2 * den); };
  auto is_tie = [&](int64_t s) { return (2 * s * num + den) % (2 * den) == 0; };
  return {side(h), side(w), is_tie(h) || is_tie(w)};
}

} // namespace

TEST_CASE("rescale_size: hand-checked values") {
  struct Case {
    int64_t h, w, long_edge, short_edge, want_h, want_w;
  };
  const std::vector<Case> cases = {
      {480, 640, 1333, 800, 800, 1067},  // short side binds: 640 * 5/3 = 1066.67
      {427, 640, 1333, 800, 800, 1199},  // 640 * 800/427 = 1199.06
      {500, 375, 1333, 800, 1067, 800},  // portrait: 500 * 800/375 = 1066.67
      {200, 1000, 1333, 800, 267, 1333}, // long side binds: 200 * 1.333 = 266.6
      {640, 640, 1333, 640, 640, 640},
      {2, 3, 1333, 3, 3, 5},  // 3 * 1.5 = 4.5 rounds half up to 5
      {6, 2, 9, 1333, 27, 9}, // scale(9, 1333) is (1333, 9): f = 9 / 2
      // Exact halves that mmcv's double arithmetic (Python's int(w * f + 0.5)) rounds down:
      // 298 * (1333 / 596) + 0.5 = 666.9999999999999 in Python, although exactly 667.
      {298, 596, 1333, 800, 666, 1333},
      {143, 806, 1333, 800, 236, 1333},
      {299, 806, 1333, 640, 494, 1333},
      {634, 1268, 1333, 672, 666, 1333},
      {655, 1310, 1333, 800, 666, 1333},
  };
  for (const Case& c : cases) {
    CAPTURE(c.h);
    CAPTURE(c.w);
    const RescaledSize r = rescale_size(c.h, c.w, scale(c.long_edge, c.short_edge));
    CHECK(r.h == c.want_h);
    CHECK(r.w == c.want_w);
  }
}

TEST_CASE("rescale_size: matches the restated rule on many sizes") {
  int64_t checked = 0;
  for (int64_t h = 1; h <= 700; h += 7)
    for (int64_t w = 1; w <= 900; w += 11)
      for (const auto& [le, se] :
           {std::pair<int64_t, int64_t>{1333, 800}, {1333, 640}, {1333, 737}}) {
        const RescaledSize r = rescale_size(h, w, scale(le, se));
        const ExactSize e = reference_size(h, w, le, se);
        // Equal, or one less at an exact half (see the hand-checked cases).
        const bool ok = (r.h == e.h && r.w == e.w) ||
                        (e.tie && e.h - r.h <= 1 && e.w - r.w <= 1 && r.h <= e.h && r.w <= e.w);
        if (!ok) {
          FAIL_CHECK("size ", h, " x ", w, " scale (", le, ", ", se, "): got ", r.h, " x ", r.w,
                     ", reference ", e.h, " x ", e.w);
        }
        // The result fits the scale up to rounding.
        CHECK(std::max(r.h, r.w) <= le);
        CHECK(std::min(r.h, r.w) <= se);
        ++checked;
      }
  CHECK(checked > 20000);
  CHECK_THROWS_WITH_ALL(rescale_size(0, 5, {}), "rescale_size", "0 x 5");
  CHECK_THROWS_WITH_ALL(rescale_size(1, 100000, scale(1333, 800)), "rescale_size", "1 x 100000",
                        "aspect ratio");
}

TEST_CASE("SampleRng: keyed by (seed, epoch, index), ranges inclusive") {
  auto draws = [](uint64_t seed, uint64_t epoch, uint64_t index) {
    SampleRng rng(seed, epoch, index);
    std::vector<double> v;
    for (int i = 0; i < 8; ++i) v.push_back(rng.uniform());
    return v;
  };
  CHECK(draws(1, 2, 3) == draws(1, 2, 3));
  CHECK(draws(1, 2, 3) != draws(1, 2, 4));
  CHECK(draws(1, 2, 3) != draws(1, 3, 3));
  CHECK(draws(1, 2, 3) != draws(2, 2, 3));
  CHECK(draws(1, 2, uint64_t{1} << 32) != draws(1, 2, 0)); // high index bits are used

  SampleRng rng(5, 0, 0);
  std::set<int64_t> seen;
  double sum = 0;
  constexpr int n = 20000;
  for (int i = 0; i < n; ++i) {
    const int64_t v = rng.randint(640, 800);
    REQUIRE((v >= 640 && v <= 800));
    seen.insert(v);
    const double u = rng.uniform();
    REQUIRE((u >= 0 && u < 1));
    sum += u;
  }
  CHECK(seen.size() == 161); // every integer of [640, 800], both ends included
  CHECK(std::fabs(sum / n - 0.5) < 0.01);
  CHECK_THROWS_WITH_ALL(rng.randint(3, 2), "randint", "[3, 2]");
}

TEST_CASE("sample_scale: range and value modes as mmdet") {
  SampleRng rng(11, 1, 2);
  std::set<int64_t> shorts;
  for (int i = 0; i < 3000; ++i) {
    const Scale s = sample_scale({scale(1333, 640), scale(1333, 800)}, MultiscaleMode::range, rng);
    REQUIRE(s.long_edge == 1333);
    REQUIRE((s.short_edge >= 640 && s.short_edge <= 800));
    shorts.insert(s.short_edge);
  }
  CHECK(shorts.size() == 161);

  const std::vector<Scale> list = {{1333, 640}, {1333, 672}, {1333, 704},
                                   {1333, 736}, {1333, 768}, {1333, 800}};
  std::map<int64_t, int> counts;
  for (int i = 0; i < 3000; ++i)
    ++counts[sample_scale(list, MultiscaleMode::value, rng).short_edge];
  CHECK(counts.size() == 6);
  for (const auto& [edge, count] : counts) {
    CAPTURE(edge);
    CHECK(edge % 32 == 0);
    CHECK(std::abs(count - 500) < 100);
  }
  CHECK(sample_scale({scale(1000, 600)}, MultiscaleMode::range, rng).short_edge == 600);
  CHECK_THROWS_WITH_ALL(sample_scale(list, MultiscaleMode::range, rng), "sample_scale",
                        "exactly 2 scales, got 6");
  CHECK_THROWS_WITH_ALL(sample_scale({}, MultiscaleMode::value, rng), "sample_scale", "no scales");
}

TEST_CASE("resize_bilinear: hand-computed pixels") {
  // 2 x 2 -> 4 x 4 (one channel): source coordinates (d + 0.5) / 2 - 0.5 = -0.25 (clamped to 0),
  // 0.25, 0.75, 1.25 (clamped to 1). Columns of row 0 (0, 100): 0 25 75 100; of row 1 (200, 255):
  // 200 213.75 241.25 255; output rows blend them with weights 0, .25, .75, 1 on row 1.
  const Tensor up = resize_bilinear(u8_tensor({2, 2, 1}, {0, 100, 200, 255}), 4, 4);
  CHECK(up.shape() == Shape{4, 4, 1});
  CHECK(to_vector<int>(up) == std::vector<int>{0, 25, 75, 100,       //
                                               50, 72, 117, 139,     // 72.1875 116.5625 138.75
                                               150, 167, 200, 216,   // 166.5625 199.6875 216.25
                                               200, 214, 241, 255}); // 213.75 241.25
  // 1 x 4 -> 1 x 2: source x = 0.5 and 2.5, the means of pairs, rounded half up (15.5 -> 16).
  CHECK(to_vector<int>(resize_bilinear(u8_tensor({1, 4, 1}, {10, 21, 100, 0}), 1, 2)) ==
        std::vector<int>{16, 50});
  // Same size is the identity; a strided input gives the same result.
  const Tensor img = pattern_image(5, 7);
  CHECK(to_vector<int>(resize_bilinear(img, 5, 7)) == to_vector<int>(img));
  CHECK(to_vector<int>(resize_bilinear(test::noncontiguous(img), 9, 4)) ==
        to_vector<int>(resize_bilinear(img, 9, 4)));
  CHECK_THROWS_WITH_ALL(resize_bilinear(Tensor::empty({2, 2, 3}, DType::f32), 4, 4),
                        "resize_bilinear", "image must be a cpu u8 tensor with 3 dims",
                        "f32 [2, 2, 3]");
  CHECK_THROWS_WITH_ALL(resize_bilinear(img, 0, 4), "resize_bilinear", "0 x 4");
}

TEST_CASE("resize_bilinear: matches PyTorch's bilinear interpolation, rounded") {
  const SafeTensors f =
      load_safetensors(SPLAT_SOURCE_DIR "/tests/fixtures/image_resize.safetensors");
  int cases = 0;
  for (const auto& [key, input] : f.tensors) {
    if (!key.ends_with(".in")) continue;
    const std::string name = key.substr(0, key.size() - 3);
    CAPTURE(name);
    const Tensor& ref = f.tensors.at(name + ".out");
    const Tensor out = resize_bilinear(input, ref.size(0), ref.size(1));
    REQUIRE(out.shape() == ref.shape());
    const auto got = to_vector<double>(out), want = to_vector<double>(ref);
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
    // Rounded to nearest: within half a level, plus float slack at exact halves.
    CHECK(worst <= 0.5 + 1e-4);
    ++cases;
  }
  CHECK(cases == 6);
}

TEST_CASE("resize_nearest: OpenCV's INTER_NEAREST indices") {
  // 1 x 4 -> 1 x 2 takes columns 0 and 2; 1 x 2 -> 1 x 5 takes 0 0 0 1 1 (floor(d * 0.4)).
  CHECK(to_vector<int>(resize_nearest(u8_tensor({1, 1, 4}, {1, 2, 3, 4}), 1, 2)) ==
        std::vector<int>{1, 3});
  CHECK(to_vector<int>(resize_nearest(u8_tensor({1, 1, 2}, {7, 9}), 1, 5)) ==
        std::vector<int>{7, 7, 7, 9, 9});
  // Rows and columns follow the same rule, per mask.
  const Tensor m = u8_tensor({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(to_vector<int>(resize_nearest(m, 2, 3)) ==
        std::vector<int>{1, 1, 2, 3, 3, 4, 7, 7, 8, 9, 9, 10}); // rows 0, 1; columns 0, 0, 1
  CHECK(resize_nearest(Tensor::empty({0, 5, 5}, DType::u8), 3, 2).shape() == Shape{0, 3, 2});
}

TEST_CASE("resize: boxes scaled and clipped, masks follow, meta filled") {
  Sample s = rect_sample(40, 60, {{10, 5, 30, 25}, {0, 0, 60, 40}, {41, 17, 59, 39}});
  // A box reaching past the image is clipped after scaling.
  float* b = s.target.boxes.data<float>();
  b[4 + 2] = 70.0f;
  resize(s, scale(100, 50)); // f = min(100/60, 50/40) = 1.25 -> 50 x 75
  CHECK(s.image.shape() == Shape{50, 75, 3});
  CHECK(s.target.masks.shape() == Shape{3, 50, 75});
  CHECK(s.meta.ori_h == 40);
  CHECK(s.meta.ori_w == 60);
  CHECK(s.meta.img_h == 50);
  CHECK(s.meta.img_w == 75);
  CHECK(s.meta.pad_h == 50);
  CHECK(s.meta.scale_factor == doctest::Approx(1.25));
  CHECK(s.meta.scale_w == doctest::Approx(1.25));
  const auto boxes = to_vector<double>(s.target.boxes);
  CHECK(boxes ==
        std::vector<double>{12.5, 6.25, 37.5, 31.25, 0, 0, 75, 50, 51.25, 21.25, 73.75, 48.75});
  CHECK(to_vector<double>(s.target.ignore_boxes) == std::vector<double>{0, 0, 37.5, 50});
  CHECK(to_vector<int>(s.target.labels) == std::vector<int>{0, 1, 2});
  // Nearest resampling moves mask edges by less than a pixel.
  check_boxes_match_masks(s.target, 1.0);

  // Unequal w and h factors (rounding): boxes use new_w / w and new_h / h separately.
  Sample odd = rect_sample(3, 7, {{1, 1, 6, 2}});
  resize(odd, scale(1333, 5)); // f = 5/3: 5 x int(11.67 + .5) = 5 x 12
  CHECK(odd.image.shape() == Shape{5, 12, 3});
  CHECK(odd.meta.scale_w == doctest::Approx(12.0 / 7));
  CHECK(odd.meta.scale_h == doctest::Approx(5.0 / 3));
  const auto ob = to_vector<double>(odd.target.boxes);
  CHECK(ob[0] == doctest::Approx(12.0 / 7).epsilon(1e-6));
  CHECK(ob[3] == doctest::Approx(10.0 / 3).epsilon(1e-6));

  Sample bad = rect_sample(10, 10, {{1, 1, 5, 5}});
  bad.target.masks = Tensor::empty({1, 9, 10}, DType::u8);
  CHECK_THROWS_WITH_ALL(resize(bad, {}), "resize", "target.masks [1, 9, 10]", "image size 10 x 10");
  bad.target.masks = Tensor();
  bad.target.labels = Tensor::empty({2}, DType::i64);
  CHECK_THROWS_WITH_ALL(resize(bad, {}), "resize", "target.labels [2]", "[1, 4]");
}

TEST_CASE("flip_horizontal: image, boxes and masks mirrored, no +1") {
  Sample s = rect_sample(6, 10, {{1, 2, 4, 5}, {0, 0, 10, 6}});
  const Sample orig = s;
  flip_horizontal(s);
  CHECK(s.meta.flipped);
  CHECK(to_vector<double>(s.target.boxes) == std::vector<double>{6, 2, 9, 5, 0, 0, 10, 6});
  CHECK(to_vector<double>(s.target.ignore_boxes) == std::vector<double>{5, 0, 10, 6});
  check_boxes_match_masks(s.target, 0.0);
  const auto a = to_vector<int>(orig.image), f = to_vector<int>(s.image);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 10; ++x)
      for (int64_t c = 0; c < 3; ++c)
        REQUIRE(f[(y * 10 + x) * 3 + c] == a[(y * 10 + 9 - x) * 3 + c]);
  flip_horizontal(s);
  CHECK_FALSE(s.meta.flipped);
  CHECK(to_vector<int>(s.image) == a);
  CHECK(to_vector<int>(s.target.masks) == to_vector<int>(orig.target.masks));
  CHECK(to_vector<double>(s.target.boxes) == to_vector<double>(orig.target.boxes));
}

TEST_CASE("random_flip: probability p, from the sample's own stream") {
  int flips = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    Sample s = rect_sample(1, 2, {});
    SampleRng rng(3, 0, i);
    random_flip(s, 0.5, rng);
    flips += s.meta.flipped;
  }
  CHECK(std::abs(flips - 1000) < 100);
  for (double p : {0.0, 1.0}) {
    Sample s = rect_sample(1, 2, {});
    SampleRng rng(3, 0, 0);
    random_flip(s, p, rng);
    CHECK(s.meta.flipped == (p == 1.0));
  }
  Sample s = rect_sample(1, 2, {});
  SampleRng rng(3, 0, 0);
  CHECK_THROWS_WITH_ALL(random_flip(s, 1.5, rng), "random_flip", "1.5");
}

TEST_CASE("normalize: (x - mean) / std per RGB channel to (3, H, W) f32") {
  Sample s;
  s.image = test::noncontiguous(u8_tensor({1, 2, 3}, {255, 0, 128, 12, 200, 77}));
  normalize(s, kResNeStNormalization);
  CHECK(s.image.shape() == Shape{3, 1, 2});
  CHECK(s.image.dtype() == DType::f32);
  const double mean[3] = {123.68, 116.779, 103.939}, stdv[3] = {58.393, 57.12, 57.375};
  const int px[2][3] = {{255, 0, 128}, {12, 200, 77}};
  const auto got = to_vector<double>(s.image);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 2; ++i)
      CHECK(got[c * 2 + i] == doctest::Approx((px[i][c] - mean[c]) / stdv[c]).epsilon(1e-6));
  CHECK_THROWS_WITH_ALL(normalize(s, kResNeStNormalization), "normalize", "[3, 1, 2]",
                        "already normalised");
}

TEST_CASE("pad: image and masks to multiples of the divisor, zeros bottom-right") {
  Sample s = rect_sample(33, 64, {{3, 4, 40, 30}});
  normalize(s, kResNeStNormalization);
  const Tensor before = s.image;
  pad(s, 32);
  CHECK(s.image.shape() == Shape{3, 64, 64});
  CHECK(s.target.masks.shape() == Shape{1, 64, 64});
  CHECK(s.meta.pad_h == 64);
  CHECK(s.meta.pad_w == 64);
  const auto p = to_vector<double>(s.image), b = to_vector<double>(before);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 64; ++y)
      for (int64_t x = 0; x < 64; ++x)
        REQUIRE(p[(c * 64 + y) * 64 + x] == (y < 33 ? b[(c * 33 + y) * 64 + x] : 0.0));
  check_boxes_match_masks(s.target, 0.0);
  CHECK(round_up(64, 32) == 64);
  CHECK(round_up(65, 32) == 96);
  CHECK(round_up(1, 1) == 1);
  CHECK_THROWS_WITH_ALL(pad_to(s.image, 10, 64), "pad_to", "10 x 64", "[3, 64, 64]");
  CHECK_THROWS_WITH_ALL(pad(s, 0), "divisor must be >= 1, got 0");
}

TEST_CASE("TrainPipeline: output shapes, consistency and determinism per (seed, epoch, index)") {
  TrainPipelineConfig cfg;
  cfg.scales = {scale(96, 40), scale(96, 56)};
  const TrainPipeline pipe(cfg);
  const Sample input = rect_sample(30, 45, {{5, 5, 20, 25}, {30, 2, 44, 29}});
  std::set<int64_t> heights;
  int flipped = 0;
  std::vector<Sample> first;
  for (uint64_t i = 0; i < 40; ++i) {
    Sample out = pipe(input, {.seed = 9, .epoch = 1, .index = i});
    const ImageMeta& m = out.meta;
    CHECK(out.image.shape() == Shape{3, m.pad_h, m.pad_w});
    CHECK(m.pad_h % 32 == 0);
    CHECK(m.pad_w % 32 == 0);
    CHECK(m.ori_h == 30);
    CHECK(m.ori_w == 45);
    // The short side binds for every scale of the range: img_h is the drawn short edge.
    CHECK((m.img_h >= 40 && m.img_h <= 56));
    CHECK(m.img_w == reference_size(30, 45, 96, m.img_h).w);
    CHECK(out.target.masks.shape() == Shape{2, m.pad_h, m.pad_w});
    check_boxes_match_masks(out.target, 1.0);
    heights.insert(m.img_h);
    flipped += m.flipped;
    first.push_back(std::move(out));
  }
  CHECK(heights.size() > 8); // the short side varies
  CHECK((flipped > 5 && flipped < 35));

  // The same keys from several threads, in another order, give identical samples.
  std::vector<Sample> again(first.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = first.size() - 1 - t; i < first.size(); i -= 4)
        again[i] = pipe(input, {.seed = 9, .epoch = 1, .index = i});
    });
  for (auto& th : threads) th.join();
  for (size_t i = 0; i < first.size(); ++i) {
    CAPTURE(i);
    REQUIRE(again[i].image.shape() == first[i].image.shape());
    CHECK(to_vector<float>(again[i].image) == to_vector<float>(first[i].image));
    CHECK(to_vector<float>(again[i].target.boxes) == to_vector<float>(first[i].target.boxes));
    CHECK(again[i].meta.flipped == first[i].meta.flipped);
  }
  // Another epoch draws other scales.
  int differ = 0;
  for (uint64_t i = 0; i < 10; ++i)
    differ += pipe(input, {.seed = 9, .epoch = 2, .index = i}).meta.img_h != first[i].meta.img_h;
  CHECK(differ > 3);

  TrainPipelineConfig bad;
  bad.scales = {scale(10, 5), scale(10, 6), scale(10, 7)};
  CHECK_THROWS_WITH_ALL(TrainPipeline{bad}, "TrainPipeline", "range", "got 3");
  bad.scales = {{5, 10}};
  CHECK_THROWS_WITH_ALL(TrainPipeline{bad}, "TrainPipeline", "long >= short", "(5, 10)");
}

TEST_CASE("TestPipeline: single scale, no flip, padded") {
  const TestPipeline pipe;
  const Sample out = pipe(rect_sample(48, 64, {{8, 8, 40, 40}}), {.seed = 1, .index = 5});
  CHECK(out.meta.img_h == 800);
  CHECK(out.meta.img_w == 1067);
  CHECK(out.image.shape() == Shape{3, 800, 1088});
  CHECK_FALSE(out.meta.flipped);
  CHECK(out.meta.scale_factor == doctest::Approx(800.0 / 48));
  check_boxes_match_masks(out.target, 1.0);
}

TEST_CASE("collate: one zero-padded batch tensor, metas and targets in order") {
  const TestPipeline pipe({.scale = scale(100, 40), .size_divisor = 8});
  std::vector<Sample> samples;
  samples.push_back(pipe(rect_sample(20, 50, {{1, 1, 5, 5}}), {})); // 40 x 100
  samples.push_back(pipe(rect_sample(30, 20, {{2, 2, 9, 9}}), {})); // 60 x 40
  samples[1].meta.image_id = 8;
  const std::vector<Tensor> images = {samples[0].image, samples[1].image};
  const Batch batch = collate(samples, 32);
  CHECK(batch.images.shape() == Shape{2, 3, 64, 128});
  REQUIRE(batch.metas.size() == 2);
  CHECK(batch.metas[0].image_id == 7);
  CHECK(batch.metas[1].image_id == 8);
  CHECK(batch.targets[1].boxes.is_same(samples[1].target.boxes));
  const auto all = to_vector<float>(batch.images);
  for (int64_t b = 0; b < 2; ++b) {
    const Tensor& img = images[static_cast<size_t>(b)];
    const int64_t h = img.size(1), w = img.size(2);
    const auto v = to_vector<float>(img);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 64; ++y)
        for (int64_t x = 0; x < 128; ++x)
          REQUIRE(all[((b * 3 + c) * 64 + y) * 128 + x] ==
                  (y < h && x < w ? v[(c * h + y) * w + x] : 0.0f));
  }
  CHECK_THROWS_WITH_ALL(collate({}), "collate", "empty batch");
  std::vector<Sample> raw(1);
  raw[0].image = pattern_image(4, 4);
  CHECK_THROWS_WITH_ALL(collate(raw), "collate", "samples[0].image", "u8 [4, 4, 3]");
}

} // namespace splat::data
